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

    /**
     * Row-wise {@code log softmax(scale * a . b)} of {@code a (rows x inner)} and {@code b (inner x cols)},
     * row-major: many unit region features against a vocabulary's transposed class embeddings, one call per chunk.
     * Log-probabilities keep the far tail that a float32 probability would round to zero. This default is plain
     * Java; engines run it on their own kernels, where the exponentials are vectorised.
     */
    default float[] logSoftmaxProduct(float[] a, float[] b, int rows, int inner, int cols, float scale) {
        int block = 16; // rows whose accumulators stay in cache while a row of b streams past
        float[] out = new float[rows * cols];
        for (int start = 0; start < rows; start += block) {
            int end = Math.min(rows, start + block);
            for (int k = 0; k < inner; k++) {
                int column = k * cols;
                for (int r = start; r < end; r++) {
                    float value = a[r * inner + k];
                    int base = r * cols;
                    for (int c = 0; c < cols; c++) {
                        out[base + c] += value * b[column + c];
                    }
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, (double) scale * out[base + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(scale * out[base + c] - max);
            }
            double logSum = max + Math.log(sum);
            for (int c = 0; c < cols; c++) {
                out[base + c] = (float) (scale * out[base + c] - logSum);
            }
        }
        return out;
    }

    /** The model's hidden size D (= embedding size). */
    default int hiddenSize() {
        return model().manifest().dimensions().hiddenSize();
    }

    @Override
    void close();
}
