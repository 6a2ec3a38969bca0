package ai.fgclip2.server.engine;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * The port the pipeline runs the model through: three graphs (text, vision, region) over plain arrays. ONNX
 * Runtime implements it ({@code engine.onnx.OnnxEngine}); tests use a fake. Implementations are thread-safe.
 * Failures are {@link EngineException}s.
 */
public interface InferenceEngine extends AutoCloseable {

    /** Which text head to read: the walk decides it (docs/model.md, "Text"). */
    enum TextHead { SHORT, BOX, LONG }

    /** One preprocessed image: its grid and a writer of its rows*cols patches (768 floats each) into a tensor. */
    interface PatchSource {
        int gridRows();

        int gridCols();

        void writePatches(FloatBuffer target);

        default int patchCount() {
            return gridRows() * gridCols();
        }
    }

    /** @param hiddenState the image's rows*cols tokens x D after post_layernorm, or null when not requested */
    record ImageFeatures(float[] embedding, float[] hiddenState) {
    }

    /**
     * The region graph's input for one image.
     *
     * @param hiddenState the image's rows*cols x D tokens (from {@link #images} with hidden state)
     * @param boxes       x1, y1, x2, y2 in original pixels
     */
    record RegionQuery(float[] hiddenState, int gridRows, int gridCols, int imageHeight, int imageWidth, float[][] boxes) {
    }

    /** @param dense rows*cols x D dense map; regions one raw D-vector per box */
    record RegionFeatures(float[] dense, float[][] regions) {
    }

    /** What is loaded: files, manifest, id and revision. */
    ModelFiles model();

    /** "cuda" or "cpu": what the graphs actually run on. */
    String provider();

    /** Why CUDA was not used although the provider was auto, or null. */
    String providerFallback();

    /** Raw embeddings of equally long token rows (64 or 196 ids each). */
    float[][] text(List<long[]> ids, TextHead head);

    /** One padded batch of images with mixed grids; hidden states only when asked for (they are large). */
    List<ImageFeatures> images(List<? extends PatchSource> images, boolean withHiddenState);

    /** Dense map and RoIAlign features of one image. */
    RegionFeatures regions(RegionQuery query);

    /** For an int8 export, its measured agreement with float32 (run when the engine opened); null otherwise. */
    QuantizationAgreement quantizationAgreement();

    /** The model's hidden size D (= embedding size). */
    default int hiddenSize() {
        return model().manifest().dimensions().hiddenSize();
    }

    @Override
    void close();
}
