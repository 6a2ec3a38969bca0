package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.ModelConfig;
import ai.fgclip2.exporter.checkpoint.ModelConfig.TowerConfig;
import java.util.List;

/**
 * The vision tower (docs/model.md, "Image") for a padded batch of images with mixed grids:
 * {@code pixel_values [batch, patches, 768]} (float32, already normalised and patchified, zero patches as
 * padding), {@code pixel_attention_mask [batch, patches]} (int32, 1 valid, 0 padding) and
 * {@code spatial_shapes [batch, 2]} (int64 grid rows, cols) -> {@code image_embeds [batch, D]} (raw MAP-head
 * output) and {@code last_hidden_state [batch, patches, D]} (post-LayerNorm tokens, input of the region graph).
 */
public final class VisionGraph {
    public static final String PIXEL_VALUES = "pixel_values";
    public static final String PIXEL_ATTENTION_MASK = "pixel_attention_mask";
    public static final String SPATIAL_SHAPES = "spatial_shapes";
    public static final String IMAGE_EMBEDS = "image_embeds";
    public static final String LAST_HIDDEN_STATE = "last_hidden_state";

    private VisionGraph() {
    }

    public static GraphBuilder build(Checkpoint checkpoint, GraphBuilder g) {
        ModelConfig config = checkpoint.config();
        TowerConfig tower = config.vision();
        int hidden = tower.hiddenSize();
        Modules m = new Modules(g, checkpoint);
        String pixels = g.inputFloat32(PIXEL_VALUES, "batch", "patches", (long) config.patchValues());
        String mask = g.input(PIXEL_ATTENTION_MASK, ElementType.INT32, "batch", "patches");
        String spatialShapes = g.input(SPATIAL_SHAPES, ElementType.INT64, "batch", 2L);

        String patches = m.linear(pixels, "vision_model.embeddings.patch_embedding", hidden, config.patchValues());
        String x = g.op("Add", List.of(patches, positionEmbedding(m, config, pixels, spatialShapes)));
        String tokens = m.encoder(x, "vision_model.", tower, mask, "vision_model.post_layernorm");
        String pooled = g.op("Squeeze", List.of(m.mapHead(tokens, "vision_model.head", tower, mask), g.vector(1)));
        g.outputFloat32(pooled, IMAGE_EMBEDS, "batch", hidden);
        g.outputFloat32(tokens, LAST_HIDDEN_STATE, "batch", "patches", hidden);
        return g;
    }

    /**
     * The learned 16x16 grid resized to each image's (rows, cols) with antialiased bilinear
     * (F.interpolate(..., antialias=True), align_corners=False), as one linear map per image: patch p = r*cols + c
     * gets {@code sum_ij Wrow[r][i] Wcol[c][j] grid[i][j]}. Computing the separable weights in the graph lets one
     * batch hold images of different grids; padding patches get all-zero weights. Computed in float32.
     */
    private static String positionEmbedding(Modules m, ModelConfig config, String pixels, String spatialShapes) {
        GraphBuilder g = m.graph();
        int side = config.positionGridSide();
        String grid = g.weight(m.checkpointTensor("vision_model.embeddings.position_embedding.weight", (long) side * side, config.hiddenSize()), ElementType.FLOAT);
        String patchCount = g.op("Slice", List.of(g.op("Shape", List.of(pixels)), g.vector(1), g.vector(2)));
        String patchIndex = g.op("Unsqueeze", List.of(
                g.op("Range", List.of(g.scalarLong(0), g.op("Squeeze", List.of(patchCount, g.vector(0))), g.scalarLong(1))), g.vector(0)));
        String rows = g.op("Slice", List.of(spatialShapes, g.vector(0), g.vector(1), g.vector(1)));
        String cols = g.op("Slice", List.of(spatialShapes, g.vector(1), g.vector(2), g.vector(1)));
        String patchRow = g.op("Div", List.of(patchIndex, cols));
        String patchCol = g.op("Sub", List.of(patchIndex, g.op("Mul", List.of(patchRow, cols))));
        String rowWeights = axisWeights(g, patchRow, rows, side);
        String colWeights = axisWeights(g, patchCol, cols, side);
        // [batch, patches, side, 1] * [batch, patches, 1, side] -> [batch, patches, side*side]
        String outer = g.op("Mul", List.of(g.op("Unsqueeze", List.of(rowWeights, g.vector(3))), g.op("Unsqueeze", List.of(colWeights, g.vector(2)))));
        String flat = g.op("Reshape", List.of(outer, g.op("Concat", List.of(g.op("Slice", List.of(g.op("Shape", List.of(outer)), g.vector(0), g.vector(2))),
                g.vector((long) side * side)), Attr.i("axis", 0))));
        String position = g.op("MatMul", List.of(flat, grid));
        return g.computeType() == ElementType.FLOAT ? position : g.op("Cast", List.of(position), Attr.i("to", g.computeType().code()));
    }

    /**
     * Antialiased triangle-filter weights from the {@code side} learned positions to output index {@code index}
     * of an axis of {@code outSize} cells: scale = side/out, support = max(scale, 1),
     * center = scale*(index+0.5), w_j = max(0, 1 - |(j + 0.5 - center)/support|), normalised. -> [batch, patches, side]
     */
    private static String axisWeights(GraphBuilder g, String index, String outSize, int side) {
        String indexF = g.op("Cast", List.of(index), Attr.i("to", ElementType.FLOAT.code()));
        String outSizeF = g.op("Cast", List.of(outSize), Attr.i("to", ElementType.FLOAT.code()));
        String scale = g.op("Div", List.of(g.constantFloat32(new float[] {side}), outSizeF));
        String support = g.op("Max", List.of(scale, g.constantFloat32(new float[] {1f})));
        String center = g.op("Mul", List.of(scale, g.op("Add", List.of(indexF, g.constantFloat32(new float[] {0.5f})))));
        float[] sourceCenters = new float[side];
        for (int j = 0; j < side; j++) {
            sourceCenters[j] = j + 0.5f;
        }
        String distance = g.op("Div", List.of(
                g.op("Sub", List.of(g.constantFloat32(sourceCenters, side), g.op("Unsqueeze", List.of(center, g.vector(2))))),
                g.op("Unsqueeze", List.of(support, g.vector(2)))));
        String weights = g.op("Relu", List.of(g.op("Sub", List.of(g.constantFloat32(new float[] {1f}), g.op("Abs", List.of(distance))))));
        // Padding patches lie outside the grid and get no weight at all; the floor keeps them 0 instead of NaN.
        String total = g.op("Max", List.of(g.op("ReduceSum", List.of(weights, g.vector(-1)), Attr.i("keepdims", 1)), g.constantFloat32(new float[] {1e-30f})));
        return g.op("Div", List.of(weights, total));
    }
}
