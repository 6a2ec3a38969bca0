package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.InferenceEngine.RegionFeatures;
import ai.fgclip2.server.engine.InferenceEngine.RegionQuery;
import ai.fgclip2.server.pipeline.ImageEncoder.EncodedImage;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Region features of one image: the vision tower with its hidden state (batched with other images), then the
 * dense head and RoIAlign over the image's boxes in the region graph. Identical boxes are pooled (a detector
 * repeats a box once per label it fits) and the distinct boxes run in chunks of {@link #BOXES_PER_RUN}, so one
 * run's tensors stay bounded however many boxes come. The one place that chains the two, for every use case
 * that needs boxes or dense maps.
 */
public final class RegionEncoder {
    /**
     * Distinct boxes per run of the region graph. Every run recomputes the dense head, so runs are few and large:
     * 4096 region features are 12 MB at D = 768.
     */
    public static final int BOXES_PER_RUN = 4096;

    /**
     * @param boxes    x1, y1, x2, y2 in original pixels per input box, already clipped to the image
     * @param dense    the rows*cols x D dense map
     * @param distinct one raw feature per distinct box
     * @param distinctOf per input box, the index of its distinct box
     */
    public record EncodedRegions(EncodedImage image, float[][] boxes, float[] dense, float[][] distinct, int[] distinctOf) {
        public PreprocessedImage preprocessed() {
            return image.image();
        }

        /** The raw region feature of input box i. */
        public float[] feature(int i) {
            return distinct[distinctOf[i]];
        }
    }

    private final ImageEncoder imageEncoder;
    private final InferenceEngine engine;

    public RegionEncoder(ImageEncoder imageEncoder, InferenceEngine engine) {
        this.imageEncoder = imageEncoder;
        this.engine = engine;
    }

    /** The region graph runs on the vision worker that finished the image, so it never competes with it for cores. */
    public CompletableFuture<EncodedRegions> encode(PreprocessedImage image, float[][] boxes, Admission admission) {
        int[] distinctOf = new int[boxes.length];
        Map<Box, Integer> seen = new HashMap<>();
        for (int i = 0; i < boxes.length; i++) {
            distinctOf[i] = seen.computeIfAbsent(new Box(boxes[i]), box -> seen.size());
        }
        float[][] distinctBoxes = new float[seen.size()][];
        for (int i = 0; i < boxes.length; i++) {
            distinctBoxes[distinctOf[i]] = boxes[i];
        }
        return imageEncoder.encodeAll(List.of(image), true, admission).get(0).thenApply(encoded -> {
            float[][] features = new float[distinctBoxes.length][];
            float[] dense = null;
            for (int from = 0; from < distinctBoxes.length; from += BOXES_PER_RUN) {
                float[][] chunk = Arrays.copyOfRange(distinctBoxes, from, Math.min(distinctBoxes.length, from + BOXES_PER_RUN));
                RegionFeatures run = engine.regions(new RegionQuery(encoded.hiddenState(), image.grid().rows(), image.grid().cols(),
                        image.originalHeight(), image.originalWidth(), chunk));
                System.arraycopy(run.regions(), 0, features, from, chunk.length);
                dense = dense == null ? run.dense() : dense;
            }
            return new EncodedRegions(encoded, boxes, dense, features, distinctOf);
        });
    }

    /** Value equality of a box's four coordinates. */
    private record Box(float[] xyxy) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Box box && Arrays.equals(xyxy, box.xyxy);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(xyxy);
        }
    }
}
