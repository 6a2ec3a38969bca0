package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.ModelConfig.TowerConfig;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.List;

/**
 * Dense and region features of one image (docs/model.md, "Dense and region features"):
 * {@code hidden_state [patches, D]} (the image's rows of the vision graph's last_hidden_state, patches =
 * rows*cols), {@code spatial_shape [2]} (int64 rows, cols), {@code image_size [2]} (float32 original height,
 * width) and {@code boxes [boxes, 4]} (float32 x1, y1, x2, y2 in original pixels) ->
 * {@code dense [patches, D]} (raw dense-head map) and {@code region_embeds [boxes, D]} (raw RoIAlign features).
 */
public final class RegionGraph {
    public static final String HIDDEN_STATE = "hidden_state";
    public static final String SPATIAL_SHAPE = "spatial_shape";
    public static final String IMAGE_SIZE = "image_size";
    public static final String BOXES = "boxes";
    public static final String DENSE = "dense";
    public static final String REGION_EMBEDS = "region_embeds";

    private static final int DOUBLE = TensorProto.DataType.DOUBLE.getNumber();

    private RegionGraph() {
    }

    public static GraphBuilder build(Checkpoint checkpoint, GraphBuilder g) {
        TowerConfig tower = checkpoint.config().vision();
        int hidden = tower.hiddenSize();
        Modules m = new Modules(g, checkpoint);
        String tokens = g.inputFloat32(HIDDEN_STATE, "patches", (long) hidden);
        String spatialShape = g.input(SPATIAL_SHAPE, ElementType.INT64, 2L);
        String imageSize = g.input(IMAGE_SIZE, ElementType.FLOAT, 2L);
        String boxes = g.input(BOXES, ElementType.FLOAT, "boxes", 4L);

        String batchOfOne = g.op("Unsqueeze", List.of(tokens, g.vector(0)));
        String dense = g.toFloat32(g.op("Squeeze", List.of(m.denseHead(batchOfOne, "dense_feature_head", tower), g.vector(0))));
        g.output(dense, DENSE, ElementType.FLOAT, "patches", (long) hidden);
        g.output(roiAlign(g, dense, spatialShape, imageSize, boxes, hidden), REGION_EMBEDS, ElementType.FLOAT, "boxes", (long) hidden);
        return g;
    }

    /**
     * torchvision roi_align(map, boxes, (1, 1), spatial_scale=1, sampling_ratio=-1, aligned=True) on the
     * (rows, cols, D) dense map, in float32, after mapping boxes to grid units: x / width * cols, y / height * rows.
     */
    private static String roiAlign(GraphBuilder g, String dense, String spatialShape, String imageSize, String boxes, int hidden) {
        String mapShape = g.op("Concat", List.of(spatialShape, g.vector(hidden)), Attr.i("axis", 0));
        String channelsFirst = g.op("Transpose", List.of(g.op("Reshape", List.of(dense, mapShape))), Attr.ints("perm", 2, 0, 1));
        String featureMap = g.op("Unsqueeze", List.of(channelsFirst, g.vector(0)));

        // Box mapping in float64, cast once to float32: RoIAlign's adaptive sample count is ceil(box size), so one
        // float32 rounding step too many can turn a size of exactly 28 grid cells into 29 samples.
        String gridSizeXY = g.op("Cast", List.of(g.op("Gather", List.of(spatialShape, g.vector(1, 0, 1, 0)))), Attr.i("to", DOUBLE));
        String imageSizeXY = g.op("Cast", List.of(g.op("Gather", List.of(imageSize, g.vector(1, 0, 1, 0)))), Attr.i("to", DOUBLE));
        String boxesDouble = g.op("Cast", List.of(boxes), Attr.i("to", DOUBLE));
        String gridBoxes = g.op("Cast", List.of(g.op("Mul", List.of(g.op("Div", List.of(boxesDouble, imageSizeXY)), gridSizeXY))),
                Attr.i("to", ElementType.FLOAT.code()));
        String boxCount = g.op("Slice", List.of(g.op("Shape", List.of(boxes)), g.vector(0), g.vector(1)));
        String batchIndices = g.op("ConstantOfShape", List.of(boxCount), Attr.tensor("value",
                TensorProto.newBuilder().setDataType(ElementType.INT64.code()).addDims(1).addInt64Data(0).build()));
        String pooled = g.op("RoiAlign", List.of(featureMap, gridBoxes, batchIndices),
                Attr.s("mode", "avg"), Attr.i("output_height", 1), Attr.i("output_width", 1), Attr.i("sampling_ratio", 0),
                Attr.f("spatial_scale", 1f), Attr.s("coordinate_transformation_mode", "half_pixel"));
        return g.op("Flatten", List.of(pooled), Attr.i("axis", 1));
    }
}
