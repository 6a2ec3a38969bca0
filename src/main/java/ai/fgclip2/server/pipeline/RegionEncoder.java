package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.InferenceEngine.RegionFeatures;
import ai.fgclip2.server.engine.InferenceEngine.RegionQuery;
import ai.fgclip2.server.pipeline.ImageEncoder.EncodedImage;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Region features of one image: the vision tower with its hidden state (batched with other images), then the
 * dense head and RoIAlign for all boxes in one run of the region graph. The one place that chains the two, for
 * every use case that needs boxes or dense maps.
 */
public final class RegionEncoder {

    /** @param boxes x1, y1, x2, y2 in original pixels, already clipped to the image; features one raw vector per box */
    public record EncodedRegions(EncodedImage image, float[][] boxes, RegionFeatures features) {
        public PreprocessedImage preprocessed() {
            return image.image();
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
        return imageEncoder.encodeAll(List.of(image), true, admission).get(0).thenApply(encoded -> new EncodedRegions(encoded, boxes,
                engine.regions(new RegionQuery(encoded.hiddenState(), image.grid().rows(), image.grid().cols(),
                        image.originalHeight(), image.originalWidth(), boxes))));
    }
}
