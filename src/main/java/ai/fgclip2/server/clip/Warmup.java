package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.image.ImagePreprocessor;
import java.util.List;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.image.RgbImage;
import ai.fgclip2.server.pipeline.text.TextWalk;

/**
 * Runs every graph once through the real pipeline (both text lengths, an image with its hidden state, the
 * region graph), so the first request does not pay ONNX Runtime's first-run costs.
 */
public final class Warmup {
    private static final int IMAGE_SIDE = 256;

    /** @param textMillis and imageMillis wall time of each part */
    public record Timings(long textMillis, long imageMillis) {
    }

    private final ClipPipeline pipeline;
    private final ImagePreprocessor preprocessor;

    public Warmup(ClipPipeline pipeline, ImagePreprocessor preprocessor) {
        this.pipeline = pipeline;
        this.preprocessor = preprocessor;
    }

    public Timings run() {
        long start = System.nanoTime();
        // uncached texts, so that both lengths really run through the graph
        for (TextWalk walk : new TextWalk[] {TextWalk.SHORT, TextWalk.LONG}) {
            try (Admission admission = pipeline.admit(1, 0)) {
                Await.result(pipeline.texts().encode(List.of("warm-up " + System.nanoTime()), walk, admission), admission);
            }
        }
        long textDone = System.nanoTime();
        PreprocessedImage image = preprocessor.preprocess(new RgbImage(IMAGE_SIDE, IMAGE_SIDE, new byte[IMAGE_SIDE * IMAGE_SIDE * 3]), null);
        try (Admission admission = pipeline.admit(0, 1)) {
            Await.result(pipeline.encodeRegions(new ClipPipeline.BoxedImage(image, new float[][] {{0, 0, IMAGE_SIDE, IMAGE_SIDE}}), admission), admission);
        }
        long imageDone = System.nanoTime();
        return new Timings((textDone - start) / 1_000_000, (imageDone - textDone) / 1_000_000);
    }
}
