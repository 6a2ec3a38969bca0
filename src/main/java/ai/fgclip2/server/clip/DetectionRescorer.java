package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Rescoring an open-vocabulary detector's boxes (LLMDet and the like): each box's alignment probability is the
 * box-classification probability of its label, {@code softmax(temperature * cos)} over the vocabulary, fused
 * with the detector's confidence as the weighted geometric mean {@code conf^alpha * pAlign^beta}.
 *
 * <p>Detections come as detectors write them ({@link DetectorOutput}). Identical boxes are encoded and scored
 * once; class scores run in chunks of {@link #SCORE_CHUNK} distinct boxes, one product and log-softmax each on the engine, keeping only
 * what the rows need (their label's probability, the best class), so memory stays flat as detections grow.
 */
public final class DetectionRescorer {
    static final double DEFAULT_EXPONENT = 0.5;
    /** Distinct boxes scored per matrix product: 512 x 1203 classes is 2.5 MB of log-probabilities. */
    static final int SCORE_CHUNK = 512;

    /** What to do with a detector label the vocabulary lacks. */
    public enum UnknownLabels {
        /** a problem naming the row (the default for registered vocabularies) */
        REJECT,
        /** the label joins the vocabulary for this request (the default for inline vocabularies) */
        ADD
    }

    /**
     * @param temperature   softmax scale over the vocabulary; null = 100 (the official box-classification protocol)
     * @param relabel       fuse with the best class instead of the detector's label, and report that class
     * @param boxFormat     xyxy (default), xywh or cxcywh
     * @param normalized    boxes in 0..1 of the image size; null = the shape's default (transformers: true)
     * @param sort          order the result by fused score, best first (else input order)
     * @param scoreThreshold drop rows whose fused score is below it
     * @param topK          keep the best K rows by fused score (300 is the LVIS convention)
     * @param nmsIou        class-wise non-maximum suppression on fused scores: a box overlapping a better one of its
     *                      class by IoU above this is dropped; null = none
     */
    public record Options(Double alpha, Double beta, Double temperature, boolean relabel, String unknownLabels, String boxFormat, Boolean normalized,
                          boolean sort, Double scoreThreshold, Integer topK, Double nmsIou) {
        public static Options defaults() {
            return new Options(null, null, null, false, null, null, null, false, null, null, null);
        }
    }

    /** The request's vocabulary: labels inline, or the name of a registered (box-walk) vocabulary. */
    public record VocabularyRef(List<String> labels, String registered) {
        public static VocabularyRef named(String name) {
            return new VocabularyRef(null, name);
        }

        public static VocabularyRef inline(List<String> labels) {
            return new VocabularyRef(labels, null);
        }

        /** A plain value (JSON): a string names a registered vocabulary, an array of strings lists the labels. */
        public static VocabularyRef of(Object value) {
            if (value instanceof String name) {
                return named(name);
            }
            if (value instanceof List<?> list) {
                List<String> labels = new ArrayList<>(list.size());
                for (int i = 0; i < list.size(); i++) {
                    if (!(list.get(i) instanceof String label)) {
                        throw new ProblemException(Problem.INVALID_REQUEST, "Vocabulary entry " + i + " must be a string.", "/vocabulary/" + i);
                    }
                    labels.add(label);
                }
                return inline(labels);
            }
            throw new ProblemException(Problem.INVALID_REQUEST, "'vocabulary' is required: an array of labels or the name of a registered vocabulary.",
                    "/vocabulary");
        }
    }

    /**
     * @param detections the detector's output for this image (see {@link DetectorOutput})
     * @param templates  with an inline vocabulary: prompt templates, averaged per class
     */
    public record Command(ImageInput image, Object detections, VocabularyRef vocabulary, List<String> templates, Options options, Integer maxNumPatches) {
    }

    /**
     * @param index          the row's position in the input
     * @param box            as used: x1, y1, x2, y2 in original pixels, clipped to the image
     * @param label          the detector's label (or the best class when relabelling), labelIndex its index in the vocabulary
     * @param bestLabelIndex the best class's index in the vocabulary
     */
    public record Rescored(int index, float[] box, String label, int labelIndex, double detectorScore, double alignProbability, double score,
                           String bestLabel, int bestLabelIndex, double bestProbability) {
    }

    /**
     * @param vocabularySize classes scored over (with added labels)
     * @param addedLabels    detector labels that joined the vocabulary for this request
     * @param distinctBoxes  boxes encoded and scored (identical boxes pooled)
     */
    public record Result(int detections, int distinctBoxes, int vocabularySize, List<String> addedLabels, List<Rescored> rows) {
    }

    private final ClipPipeline pipeline;
    private final Vocabularies vocabularies;

    public DetectionRescorer(ClipPipeline pipeline, Vocabularies vocabularies) {
        this.pipeline = pipeline;
        this.vocabularies = vocabularies;
    }

    public Result rescore(Command command) {
        InputChecks checks = pipeline.checks();
        Options options = command.options() == null ? Options.defaults() : command.options();
        DetectorOutput.Parsed parsed = DetectorOutput.parse(command.detections(), checks.limits().maxDetections());
        double alpha = nonNegative(options.alpha(), DEFAULT_EXPONENT, "alpha");
        double beta = nonNegative(options.beta(), DEFAULT_EXPONENT, "beta");
        double temperature = options.temperature() == null ? Scoring.BOX_SOFTMAX_SCALE : positive(options.temperature(), "temperature");
        DetectorOutput.BoxFormat format = DetectorOutput.BoxFormat.parse(options.boxFormat());
        boolean normalized = options.normalized() == null ? parsed.normalizedByDefault() : options.normalized();
        Double threshold = options.scoreThreshold() == null ? null : nonNegative(options.scoreThreshold(), 0, "scoreThreshold");
        Integer topK = options.topK() == null ? null : checks.topK(options.topK(), Integer.MAX_VALUE);
        Double nmsIou = options.nmsIou();
        if (nmsIou != null && !(nmsIou >= 0 && nmsIou <= 1)) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'nmsIou' must be in [0, 1]; got " + nmsIou + ".", "/nmsIou");
        }

        Labels labels = labels(command, parsed, options);

        Integer budget = checks.maxNumPatches(command.maxNumPatches());
        PreprocessedImage prepared = pipeline.preprocess(command.image(), budget);
        List<DetectorOutput.Row> rows = parsed.rows();
        float[][] boxes = new float[rows.size()][];
        int width = prepared.originalWidth();
        int height = prepared.originalHeight();
        for (int i = 0; i < rows.size(); i++) {
            double[] xyxy = format.toXyxy(rows.get(i).box());
            if (normalized) {
                xyxy = new double[] {xyxy[0] * width, xyxy[1] * height, xyxy[2] * width, xyxy[3] * height};
            }
            boxes[i] = checks.box(List.of(xyxy[0], xyxy[1], xyxy[2], xyxy[3]), width, height, parsed.boxPointer(i));
        }
        ClipPipeline.BoxesAndClasses encoded = pipeline.boxesAndClasses(new ClipPipeline.BoxedImage(prepared, boxes), labels.uncached(pipeline),
                admission -> labels.classes(pipeline, admission));
        EncodedRegions regions = encoded.regions();
        ClassMatrix matrix = encoded.classes();

        // rows per distinct box, so each distinct box's probabilities are computed once and read for all its rows
        int distinct = regions.distinct().length;
        int[] firstRow = new int[distinct];
        int[] nextRow = new int[rows.size()];
        Arrays.fill(firstRow, -1);
        for (int i = rows.size() - 1; i >= 0; i--) {
            int d = regions.distinctOf()[i];
            nextRow[i] = firstRow[d];
            firstRow[d] = i;
        }
        double[] align = new double[rows.size()];
        int[] best = new int[distinct];
        double[] bestProbability = new double[distinct];
        int classCount = matrix.classes();
        for (int from = 0; from < distinct; from += SCORE_CHUNK) {
            int to = Math.min(distinct, from + SCORE_CHUNK);
            float[][] units = new float[to - from][];
            for (int d = from; d < to; d++) {
                units[d - from] = Scoring.normalize(regions.distinct()[d]);
            }
            float[] logProbabilities = matrix.logProbabilities(pipeline.engine(), units, 0, to - from, temperature);
            for (int d = from; d < to; d++) {
                int offset = (d - from) * classCount;
                best[d] = Scoring.argmax(logProbabilities, offset, classCount);
                bestProbability[d] = Math.exp(logProbabilities[offset + best[d]]);
                for (int row = firstRow[d]; row >= 0; row = nextRow[row]) {
                    align[row] = Math.exp(logProbabilities[offset + labels.indexOf()[row]]);
                }
            }
        }

        List<Rescored> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            int d = regions.distinctOf()[i];
            double score = rows.get(i).score();
            int labelIndex = options.relabel() ? best[d] : labels.indexOf()[i];
            double fusedWith = options.relabel() ? bestProbability[d] : align[i];
            double fused = Scoring.fusedScore(score, fusedWith, alpha, beta);
            if (threshold != null && fused < threshold) {
                continue;
            }
            out.add(new Rescored(i, boxes[i], labels.names().get(labelIndex), labelIndex, score, align[i], fused,
                    labels.names().get(best[d]), best[d], bestProbability[d]));
        }
        if (nmsIou != null) {
            out = Nms.classWise(out, nmsIou);
        }
        if (topK != null && out.size() > topK) {
            List<Rescored> ranked = new ArrayList<>(out);
            ranked.sort(Comparator.comparingDouble(Rescored::score).reversed());
            Set<Integer> kept = new HashSet<>();
            ranked.subList(0, topK).forEach(r -> kept.add(r.index()));
            out = out.stream().filter(r -> kept.contains(r.index())).toList();
        }
        if (options.sort()) {
            out = new ArrayList<>(out);
            out.sort(Comparator.comparingDouble(Rescored::score).reversed());
        }
        return new Result(rows.size(), distinct, labels.names().size(), labels.added(), out);
    }

    /**
     * @param names     the vocabulary's labels, then the added ones
     * @param indexOf   per row, its label's index in {@code names}
     * @param base      a registered vocabulary's class embeddings, or null (inline: every label is embedded)
     * @param toEmbed   the labels to embed now: all of an inline vocabulary, or those added to a registered one
     * @param templates the templates of {@code toEmbed}
     */
    private record Labels(List<String> names, List<String> added, int[] indexOf, ClassMatrix base, List<String> toEmbed, List<String> templates) {
        /** The text-queue room the request needs. */
        int uncached(ClipPipeline pipeline) {
            return toEmbed.isEmpty() ? 0 : pipeline.texts().uncached(ClipPipeline.prompts(toEmbed, templates), TextWalk.BOX);
        }

        CompletableFuture<ClassMatrix> classes(ClipPipeline pipeline, Admission admission) {
            if (toEmbed.isEmpty()) {
                return CompletableFuture.completedFuture(base);
            }
            return pipeline.classEmbeddings(toEmbed, templates, TextWalk.BOX, admission).thenApply(units -> base == null ? ClassMatrix.of(units) : base.append(units));
        }
    }

    /** Resolves every row's label against the vocabulary (adding or rejecting unknown ones) and starts the class embeddings. */
    private Labels labels(Command command, DetectorOutput.Parsed parsed, Options options) {
        InputChecks checks = pipeline.checks();
        Vocabulary registered = null;
        List<String> base;
        VocabularyRef ref = command.vocabulary() == null ? VocabularyRef.of(null) : command.vocabulary();
        if (ref.registered() != null) {
            if (command.templates() != null) {
                throw new ProblemException(Problem.INVALID_REQUEST, "A registered vocabulary has its own templates; drop 'templates'.", "/templates");
            }
            registered = vocabularies.require(ref.registered(), TextWalk.BOX, "/vocabulary");
            base = registered.labels();
        } else {
            base = checks.texts(ref.labels(), "vocabulary", checks.limits().maxLabels());
        }
        UnknownLabels unknown = unknownLabels(options.unknownLabels(), registered == null ? UnknownLabels.ADD : UnknownLabels.REJECT);
        Map<String, Integer> index = new HashMap<>();
        for (int i = base.size() - 1; i >= 0; i--) {
            index.put(base.get(i), i);
        }
        List<String> added = new ArrayList<>();
        List<DetectorOutput.Row> rows = parsed.rows();
        int[] indexOf = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            DetectorOutput.Row row = rows.get(i);
            if (row.label() == null) {
                if (row.labelIndex() >= base.size()) {
                    throw new ProblemException(Problem.INVALID_REQUEST, "Label index " + row.labelIndex() + " is out of range: the vocabulary has "
                            + base.size() + " labels (0.." + (base.size() - 1) + ").", parsed.labelPointer(i));
                }
                indexOf[i] = row.labelIndex();
                continue;
            }
            String label = checks.text(row.label(), parsed.labelPointer(i));
            Integer known = index.get(label);
            if (known == null) {
                if (unknown == UnknownLabels.REJECT) {
                    throw new ProblemException(Problem.INVALID_REQUEST, "Label '" + label + "' is not in the vocabulary"
                            + (registered == null ? "" : " '" + registered.name() + "'") + "; send \"unknownLabels\": \"add\" to score it anyway.",
                            parsed.labelPointer(i));
                }
                known = base.size() + added.size();
                index.put(label, known);
                added.add(label);
            }
            indexOf[i] = known;
        }
        List<String> names = new ArrayList<>(base);
        names.addAll(added);
        if (!added.isEmpty() && names.size() > checks.limits().maxLabels()) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "The vocabulary with the " + added.size() + " detector labels it lacks has " + names.size()
                    + " labels; the limit is " + checks.limits().maxLabels() + " (fgclip2.limits.max-labels).", "/detections");
        }
        if (registered == null) {
            return new Labels(names, added, indexOf, null, names, checks.templates(command.templates(), names.size()));
        }
        return new Labels(names, added, indexOf, registered.classes(), added, registered.definition().templates());
    }

    private static UnknownLabels unknownLabels(String value, UnknownLabels fallback) {
        if (value == null) {
            return fallback;
        }
        try {
            return UnknownLabels.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'unknownLabels' must be reject or add; got '" + value + "'.", "/unknownLabels");
        }
    }

    private static double nonNegative(Double value, double fallback, String field) {
        if (value == null) {
            return fallback;
        }
        if (!Double.isFinite(value) || value < 0) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + field + "' must be a finite number >= 0; got " + value + ".", "/" + field);
        }
        return value;
    }

    private static double positive(double value, String field) {
        if (!Double.isFinite(value) || value <= 0) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + field + "' must be a finite number > 0; got " + value + ".", "/" + field);
        }
        return value;
    }
}
