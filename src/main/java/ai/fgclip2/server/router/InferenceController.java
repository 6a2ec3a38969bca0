package ai.fgclip2.server.router;

import ai.fgclip2.server.backends.OnnxEngine;
import ai.fgclip2.server.core.ImageEncoder;
import ai.fgclip2.server.core.ImageEncoder.EncodedImage;
import ai.fgclip2.server.core.TextEncoder;
import ai.fgclip2.server.core.TextEncoder.EncodedText;
import ai.fgclip2.server.core.image.PreprocessedImage;
import ai.fgclip2.server.core.text.TextWalk;
import ai.fgclip2.server.router.ApiModels.*;
import ai.fgclip2.server.scoring.Scoring;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/** Embeddings and scoring endpoints; validation first (every item), then inference, so a bad item costs nothing. */
@RestController
public class InferenceController {
    private final TextEncoder textEncoder;
    private final ImageEncoder imageEncoder;
    private final OnnxEngine engine;
    private final RequestChecks checks;
    private final ModelRef modelRef;
    private final double logitScaleExp;
    private final double logitBias;

    public InferenceController(TextEncoder textEncoder, ImageEncoder imageEncoder, OnnxEngine engine, RequestChecks checks) {
        this.textEncoder = textEncoder;
        this.imageEncoder = imageEncoder;
        this.engine = engine;
        this.checks = checks;
        var model = engine.model();
        this.modelRef = ModelRef.of(model);
        this.logitScaleExp = model.manifest().scores().logitScaleExp();
        this.logitBias = model.manifest().scores().logitBias();
    }

    @PostMapping(path = "/v1/embeddings/text", consumes = MediaType.APPLICATION_JSON_VALUE)
    public TextEmbeddingResponse textEmbeddings(@RequestBody TextEmbeddingRequest request) {
        List<String> texts = checks.texts(request.texts(), "texts", checks.limits().maxItems());
        TextWalk walk = checks.walk(request.walk());
        List<EncodedText> encoded = Futures.await(textEncoder.encode(texts, walk));
        boolean normalize = request.normalize() == null || request.normalize();
        List<TextEmbedding> data = new ArrayList<>();
        for (int i = 0; i < encoded.size(); i++) {
            EncodedText e = encoded.get(i);
            data.add(new TextEmbedding(i, normalize ? Scoring.normalize(e.embedding()) : e.embedding(),
                    e.walk().name().toLowerCase(java.util.Locale.ROOT), e.tokens(), e.truncated()));
        }
        return new TextEmbeddingResponse(modelRef, engine.hiddenSize(), data);
    }

    @PostMapping(path = "/v1/embeddings/image", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ImageEmbeddingResponse imageEmbeddings(@RequestBody ImageEmbeddingRequest request) {
        List<String> images = checks.items(request.images(), "images", checks.limits().maxItems());
        List<byte[]> bytes = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            bytes.add(checks.imageBytes(images.get(i), "/images/" + i));
        }
        return imageEmbeddings(bytes, request.maxNumPatches(), request.normalize(), "/images/");
    }

    @PostMapping(path = "/v1/embeddings/image", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    public ImageEmbeddingResponse imageEmbeddingsUpload(@RequestPart("images") List<MultipartFile> files,
                                                        @RequestParam(name = "maxNumPatches", required = false) Integer maxNumPatches,
                                                        @RequestParam(name = "normalize", required = false) Boolean normalize) {
        checks.items(files, "images", checks.limits().maxItems());
        List<byte[]> bytes = new ArrayList<>();
        for (MultipartFile file : files) {
            bytes.add(Futures.bytes(file));
        }
        return imageEmbeddings(bytes, maxNumPatches, normalize, "/images/");
    }

    private ImageEmbeddingResponse imageEmbeddings(List<byte[]> images, Integer maxNumPatches, Boolean normalize, String pointer) {
        Integer budget = checks.maxNumPatches(maxNumPatches);
        List<PreprocessedImage> prepared = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            byte[] data = images.get(i);
            prepared.add(ItemPointer.at(pointer + i, () -> imageEncoder.preprocess(data, budget)));
        }
        List<CompletableFuture<EncodedImage>> futures = prepared.stream().map(p -> imageEncoder.encode(p, false)).toList();
        List<ImageEmbedding> data = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            EncodedImage e = Futures.await(futures.get(i));
            float[] embedding = normalize == null || normalize ? Scoring.normalize(e.embedding()) : e.embedding();
            data.add(new ImageEmbedding(i, embedding, grid(e.image()), e.image().maxNumPatches()));
        }
        return new ImageEmbeddingResponse(modelRef, engine.hiddenSize(), data);
    }

    @PostMapping(path = "/v1/embeddings/regions", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RegionEmbeddingResponse regionEmbeddings(@RequestBody RegionEmbeddingRequest request) {
        byte[] image = checks.imageBytes(request.image(), "/image");
        return regionEmbeddings(image, request.boxes(), request.maxNumPatches(), request.normalize());
    }

    @PostMapping(path = "/v1/embeddings/regions", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    public RegionEmbeddingResponse regionEmbeddingsUpload(@RequestPart("image") MultipartFile file, @RequestParam("boxes") String boxesJson,
                                                          @RequestParam(name = "maxNumPatches", required = false) Integer maxNumPatches,
                                                          @RequestParam(name = "normalize", required = false) Boolean normalize) {
        return regionEmbeddings(Futures.bytes(file), Futures.parseBoxes(boxesJson), maxNumPatches, normalize);
    }

    private RegionEmbeddingResponse regionEmbeddings(byte[] image, List<List<Double>> boxes, Integer maxNumPatches, Boolean normalize) {
        Regions regions = regions(image, boxes, maxNumPatches);
        List<RegionEmbedding> data = new ArrayList<>();
        for (int i = 0; i < regions.boxes().length; i++) {
            float[] raw = regions.features().regions()[i];
            data.add(new RegionEmbedding(i, regions.boxes()[i], normalize == null || normalize ? Scoring.normalize(raw) : raw));
        }
        return new RegionEmbeddingResponse(modelRef, engine.hiddenSize(), grid(regions.image().image()), data);
    }

    @PostMapping(path = "/v1/classify", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ClassifyResponse classify(@RequestBody ClassifyRequest request) {
        byte[] image = checks.imageBytes(request.image(), "/image");
        List<String> labels = checks.texts(request.labels(), "labels", checks.limits().maxLabels());
        List<String> templates = checks.templates(request.templates(), labels.size());
        Integer budget = checks.maxNumPatches(request.maxNumPatches());
        PreprocessedImage prepared = ItemPointer.at("/image", () -> imageEncoder.preprocess(image, budget));
        CompletableFuture<EncodedImage> imageFuture = imageEncoder.encode(prepared, false);
        // The official zero-shot protocol embeds class prompts with the short walk.
        List<float[]> classes = Futures.await(textEncoder.labelEmbeddings(labels, templates, TextWalk.SHORT));
        float[] imageUnit = Scoring.normalize(Futures.await(imageFuture).embedding());
        List<LabelScore> results = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            double logit = Scoring.dot(imageUnit, classes.get(i)) * logitScaleExp + logitBias;
            results.add(new LabelScore(labels.get(i), Scoring.sigmoid(logit), logit));
        }
        results.sort(Comparator.comparingDouble(LabelScore::probability).reversed());
        return new ClassifyResponse(modelRef, results.subList(0, checks.topK(request.topK(), results.size())));
    }

    @PostMapping(path = "/v1/rank", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RankResponse rank(@RequestBody RankRequest request) {
        if (request.query() == null) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'query' is required: {\"text\": ...} or {\"image\": ...}.", "/query");
        }
        List<RankItem> candidates = checks.items(request.candidates(), "candidates", checks.limits().maxLabels());
        Integer budget = checks.maxNumPatches(request.maxNumPatches());
        CompletableFuture<Vector> query = vector(request.query(), "/query", budget, false);
        List<CompletableFuture<Vector>> vectors = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            vectors.add(vector(candidates.get(i), "/candidates/" + i, budget, true));
        }
        Vector q = Futures.await(query);
        List<RankResult> results = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) {
            Vector c = Futures.await(vectors.get(i));
            if (c.unit().length != q.unit().length) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "Candidate " + i + " has " + c.unit().length + " dimensions; the model has "
                        + q.unit().length + ".", "/candidates/" + i + "/embedding");
            }
            double cosine = Scoring.dot(q.unit(), c.unit());
            boolean crossModal = q.image() != c.image() && c.known();
            Double logit = crossModal ? cosine * logitScaleExp + logitBias : null;
            results.add(new RankResult(i, cosine, logit, logit == null ? null : Scoring.sigmoid(logit)));
        }
        results.sort(Comparator.comparingDouble(RankResult::score).reversed());
        return new RankResponse(modelRef, results.subList(0, checks.topK(request.topK(), results.size())));
    }

    /** A unit vector and its modality; known = false for caller-supplied embeddings (modality unknown). */
    private record Vector(float[] unit, boolean image, boolean known) {
    }

    private CompletableFuture<Vector> vector(RankItem item, String pointer, Integer budget, boolean allowEmbedding) {
        int given = (item.text() != null ? 1 : 0) + (item.image() != null ? 1 : 0) + (item.embedding() != null ? 1 : 0);
        if (given != 1 || (!allowEmbedding && item.embedding() != null)) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "Exactly one of " + (allowEmbedding ? "'text', 'image' or 'embedding'" : "'text' or 'image'")
                    + " is required at " + pointer + ".", pointer);
        }
        if (item.text() != null) {
            checks.text(item.text(), pointer + "/text");
            return textEncoder.encode(item.text(), TextWalk.AUTO).thenApply(e -> new Vector(Scoring.normalize(e.embedding()), false, true));
        }
        if (item.image() != null) {
            byte[] bytes = checks.imageBytes(item.image(), pointer + "/image");
            PreprocessedImage prepared = ItemPointer.at(pointer + "/image", () -> imageEncoder.preprocess(bytes, budget));
            return imageEncoder.encode(prepared, false).thenApply(e -> new Vector(Scoring.normalize(e.embedding()), true, true));
        }
        for (float value : item.embedding()) {
            if (!Float.isFinite(value)) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "The embedding at " + pointer + " has a non-finite value.", pointer + "/embedding");
            }
        }
        return CompletableFuture.completedFuture(new Vector(Scoring.normalize(item.embedding()), false, false));
    }

    @PostMapping(path = "/v1/regions/classify", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RegionClassifyResponse classifyRegions(@RequestBody RegionClassifyRequest request) {
        byte[] image = checks.imageBytes(request.image(), "/image");
        List<String> labels = checks.texts(request.labels(), "labels", checks.limits().maxLabels());
        List<String> templates = checks.templates(request.templates(), labels.size());
        CompletableFuture<List<float[]>> classes = textEncoder.labelEmbeddings(labels, templates, TextWalk.BOX);
        Regions regions = regions(image, request.boxes(), request.maxNumPatches());
        List<float[]> classUnits = Futures.await(classes);
        int topK = checks.topK(request.topK(), labels.size());
        List<RegionClassification> results = new ArrayList<>();
        for (int b = 0; b < regions.boxes().length; b++) {
            double[] probabilities = boxProbabilities(regions.features().regions()[b], classUnits);
            List<RegionLabel> ranked = new ArrayList<>();
            for (int l = 0; l < labels.size(); l++) {
                ranked.add(new RegionLabel(labels.get(l), probabilities[l]));
            }
            ranked.sort(Comparator.comparingDouble(RegionLabel::probability).reversed());
            results.add(new RegionClassification(b, regions.boxes()[b], ranked.subList(0, topK)));
        }
        return new RegionClassifyResponse(modelRef, results);
    }

    @PostMapping(path = "/v1/detections/rescore", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RescoreResponse rescore(@RequestBody RescoreRequest request) {
        byte[] image = checks.imageBytes(request.image(), "/image");
        List<Detection> detections = checks.items(request.detections(), "detections", checks.limits().maxBoxes());
        List<String> vocabulary = new ArrayList<>(checks.texts(request.vocabulary(), "vocabulary", checks.limits().maxLabels()));
        double alpha = exponent(request.alpha(), "alpha");
        double beta = exponent(request.beta(), "beta");
        List<List<Double>> boxes = new ArrayList<>();
        for (int i = 0; i < detections.size(); i++) {
            Detection d = detections.get(i);
            if (d.score() == null || !Double.isFinite(d.score()) || d.score() < 0 || d.score() > 1) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "Detection " + i + " needs a 'score' in [0, 1].", "/detections/" + i + "/score");
            }
            checks.text(d.label(), "/detections/" + i + "/label");
            if (!vocabulary.contains(d.label())) {
                vocabulary.add(d.label()); // a detector label outside the vocabulary joins it
            }
            boxes.add(d.box());
        }
        CompletableFuture<List<float[]>> classes = textEncoder.labelEmbeddings(vocabulary, checks.templates(request.templates(), vocabulary.size()), TextWalk.BOX);
        Regions regions = regions(image, boxes, request.maxNumPatches(), i -> "/detections/" + i + "/box");
        List<float[]> classUnits = Futures.await(classes);
        boolean relabel = Boolean.TRUE.equals(request.relabel());
        List<RescoredDetection> out = new ArrayList<>();
        for (int i = 0; i < detections.size(); i++) {
            Detection d = detections.get(i);
            double[] probabilities = boxProbabilities(regions.features().regions()[i], classUnits);
            int best = 0;
            for (int l = 1; l < probabilities.length; l++) {
                if (probabilities[l] > probabilities[best]) {
                    best = l;
                }
            }
            double align = probabilities[vocabulary.indexOf(d.label())];
            String label = relabel ? vocabulary.get(best) : d.label();
            double fusedWith = relabel ? probabilities[best] : align;
            out.add(new RescoredDetection(i, regions.boxes()[i], label, d.score(), align, Scoring.fusedScore(d.score(), fusedWith, alpha, beta),
                    vocabulary.get(best), probabilities[best]));
        }
        return new RescoreResponse(modelRef, out);
    }

    private static double exponent(Double value, String field) {
        if (value == null) {
            return 0.5;
        }
        if (!Double.isFinite(value) || value < 0) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'" + field + "' must be a finite number >= 0; got " + value + ".", "/" + field);
        }
        return value;
    }

    /** softmax(100 * cos) of one region against unit class embeddings (box classification protocol). */
    private static double[] boxProbabilities(float[] region, List<float[]> classUnits) {
        float[] unit = Scoring.normalize(region);
        double[] cosines = new double[classUnits.size()];
        for (int l = 0; l < cosines.length; l++) {
            cosines[l] = Scoring.dot(unit, classUnits.get(l));
        }
        return Scoring.softmax(cosines, Scoring.BOX_SOFTMAX_SCALE);
    }

    record Regions(EncodedImage image, float[][] boxes, OnnxEngine.RegionFeatures features) {
    }

    Regions regions(byte[] image, List<List<Double>> boxes, Integer maxNumPatches) {
        checks.items(boxes, "boxes", checks.limits().maxBoxes());
        return regions(image, boxes, maxNumPatches, i -> "/boxes/" + i);
    }

    /**
     * One image forward pass with hidden state, then the dense head and RoIAlign for all boxes at once; the
     * caller has checked the number of boxes, {@code boxPointer} names box i in the request.
     */
    Regions regions(byte[] image, List<List<Double>> boxes, Integer maxNumPatches, IntFunction<String> boxPointer) {
        Integer budget = checks.maxNumPatches(maxNumPatches);
        PreprocessedImage prepared = ItemPointer.at("/image", () -> imageEncoder.preprocess(image, budget));
        float[][] clipped = new float[boxes.size()][];
        for (int i = 0; i < boxes.size(); i++) {
            clipped[i] = checks.box(boxes.get(i), prepared.originalWidth(), prepared.originalHeight(), boxPointer.apply(i));
        }
        EncodedImage encoded = Futures.await(imageEncoder.encode(prepared, true));
        OnnxEngine.RegionFeatures features = Futures.call(() -> engine.regions(encoded.hiddenState(), prepared.grid().rows(), prepared.grid().cols(),
                prepared.originalHeight(), prepared.originalWidth(), clipped));
        return new Regions(encoded, clipped, features);
    }

    static int[] grid(PreprocessedImage image) {
        return new int[] {image.grid().rows(), image.grid().cols()};
    }
}
