package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.ImageEncoder.EncodedImage;
import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import ai.fgclip2.server.pipeline.TextEncoder.EncodedText;
import ai.fgclip2.server.pipeline.image.GridSize;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Text, image and region embeddings, L2-normalised unless asked otherwise. Every item is checked before any inference. */
public final class Embeddings {

    /** @param walk the walk the text took (auto resolved); tokens include EOS */
    public record TextVector(float[] embedding, TextWalk walk, int tokens, boolean truncated) {
    }

    public record ImageVector(float[] embedding, GridSize grid, int maxNumPatches) {
    }

    /** @param box as used: clipped to the image */
    public record RegionVector(float[] box, float[] embedding) {
    }

    public record RegionVectors(GridSize grid, List<RegionVector> regions) {
    }

    private final ClipPipeline pipeline;

    public Embeddings(ClipPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** @param field the texts' name in the request, for pointers ({@code /field/i}) */
    public List<TextVector> texts(String field, List<String> texts, TextWalk walk, boolean normalize) {
        InputChecks checks = pipeline.checks();
        checks.texts(texts, field, checks.limits().maxItems());
        List<TextVector> out = new ArrayList<>(texts.size());
        try (Admission admission = pipeline.admit(texts.size(), 0)) {
            for (EncodedText e : Await.result(pipeline.texts().encode(texts, walk, admission), admission)) {
                out.add(new TextVector(normalize ? Scoring.normalize(e.embedding()) : e.embedding(), e.walk(), e.tokens(), e.truncated()));
            }
        }
        return out;
    }

    /** @param field the images' name in the request (each image also carries its own pointer) */
    public List<ImageVector> images(String field, List<ImageInput> images, Integer maxNumPatches, boolean normalize) {
        InputChecks checks = pipeline.checks();
        checks.items(images, field, checks.limits().maxItems());
        Integer budget = checks.maxNumPatches(maxNumPatches);
        List<PreprocessedImage> prepared = pipeline.preprocessAll(images, budget);
        List<ImageVector> out = new ArrayList<>(images.size());
        try (Admission admission = pipeline.admit(0, prepared.size())) {
            for (CompletableFuture<EncodedImage> future : pipeline.images().encodeAll(prepared, false, admission)) {
                EncodedImage e = Await.result(future, admission);
                out.add(new ImageVector(normalize ? Scoring.normalize(e.embedding()) : e.embedding(), e.image().grid(), e.image().maxNumPatches()));
            }
        }
        return out;
    }

    public RegionVectors regions(ImageInput image, List<List<Double>> boxes, Integer maxNumPatches, boolean normalize) {
        ClipPipeline.BoxedImage boxed = pipeline.boxedImage(image, boxes, maxNumPatches);
        EncodedRegions regions;
        try (Admission admission = pipeline.admit(0, 1)) {
            regions = Await.result(pipeline.encodeRegions(boxed, admission), admission);
        }
        List<RegionVector> out = new ArrayList<>(regions.boxes().length);
        for (int i = 0; i < regions.boxes().length; i++) {
            float[] raw = regions.feature(i);
            out.add(new RegionVector(regions.boxes()[i], normalize ? Scoring.normalize(raw) : raw));
        }
        return new RegionVectors(regions.preprocessed().grid(), out);
    }
}
