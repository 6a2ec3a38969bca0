package ai.fgclip2.exporter.graph;

/**
 * How a graph computes its encoder blocks' Linear layers (q/k/v, out_proj, fc1, fc2): in the compute type, or
 * as int8 (the activation quantized per tensor to uint8 at run time, times int8 weights with one scale per
 * output column) except the blocks and projections that {@code floatLayers} keeps in float32. Embeddings,
 * LayerNorm, GELU, softmax, the heads and RoIAlign never change precision here.
 */
public record LinearPrecision(boolean int8, FloatLayers floatLayers, boolean migrateNormOutliers) {
    public static final LinearPrecision FLOAT = new LinearPrecision(false, FloatLayers.NONE, false);

    /**
     * @param migrateNormOutliers move large LayerNorm gain channels into the int8 weights that read them (exact in
     *                            float, see {@code Modules.normBeforeInt8})
     */
    public static LinearPrecision int8(FloatLayers floatLayers, boolean migrateNormOutliers) {
        return new LinearPrecision(true, floatLayers, migrateNormOutliers);
    }

    /** The choice for one block: q/k/v with out_proj, fc1 and fc2. */
    record Block(boolean attention, boolean fc1, boolean fc2) {
    }

    Block block(int layer, int numLayers) {
        boolean quantized = int8 && !floatLayers.keepsLayer(layer, numLayers);
        return new Block(quantized, quantized, quantized && !floatLayers.everyFc2());
    }
}
