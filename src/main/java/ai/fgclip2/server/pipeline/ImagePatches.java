package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import java.nio.FloatBuffer;

/** A preprocessed image as the engine's patch source: patches are written straight into the batch tensor. */
public record ImagePatches(PreprocessedImage image) implements InferenceEngine.PatchSource {
    @Override
    public int gridRows() {
        return image.grid().rows();
    }

    @Override
    public int gridCols() {
        return image.grid().cols();
    }

    @Override
    public void writePatches(FloatBuffer target) {
        image.writePatches(target);
    }
}
