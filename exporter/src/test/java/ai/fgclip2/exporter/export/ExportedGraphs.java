package ai.fgclip2.exporter.export;

import ai.fgclip2.exporter.graph.RegionGraph;
import ai.fgclip2.exporter.graph.TextGraph;
import ai.fgclip2.exporter.graph.VisionGraph;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/** The three graphs of one export, opened in ONNX Runtime (CPU), with plain-array calls for tests. */
final class ExportedGraphs implements AutoCloseable {
    record VisionOutput(float[] imageEmbeds, float[] lastHiddenState) {
    }

    record RegionOutput(float[] dense, float[] regionEmbeds) {
    }

    final Manifest manifest;
    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final OrtSession text;
    private final OrtSession vision;
    private final OrtSession region;

    ExportedGraphs(Path exportDirectory) throws OrtException {
        manifest = Manifest.read(exportDirectory);
        text = GraphSessions.open(environment, exportDirectory, manifest, Exporter.TEXT, new OrtSession.SessionOptions());
        vision = GraphSessions.open(environment, exportDirectory, manifest, Exporter.VISION, new OrtSession.SessionOptions());
        region = GraphSessions.open(environment, exportDirectory, manifest, Exporter.REGION, new OrtSession.SessionOptions());
    }

    /** A padded batch: pixels [batch, patches, 768], mask [batch, patches], spatial shapes [batch, 2]. */
    VisionOutput vision(float[] pixels, long[] pixelShape, int[] mask, long[] spatialShapes) throws OrtException {
        try (OnnxTensor pixelTensor = OnnxTensor.createTensor(environment, FloatBuffer.wrap(pixels), pixelShape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(environment, IntBuffer.wrap(mask), new long[] {pixelShape[0], pixelShape[1]});
             OnnxTensor shapes = OnnxTensor.createTensor(environment, LongBuffer.wrap(spatialShapes), new long[] {pixelShape[0], 2});
             OrtSession.Result result = vision.run(Map.of(VisionGraph.PIXEL_VALUES, pixelTensor, VisionGraph.PIXEL_ATTENTION_MASK, maskTensor,
                     VisionGraph.SPATIAL_SHAPES, shapes))) {
            return new VisionOutput(flatten(result.get(VisionGraph.IMAGE_EMBEDS).get()), flatten(result.get(VisionGraph.LAST_HIDDEN_STATE).get()));
        }
    }

    /** One unpadded image: pixels [patches, 768] of a rows x cols grid. */
    VisionOutput vision(float[] pixels, int patchValues, long rows, long cols) throws OrtException {
        int[] mask = new int[(int) (rows * cols)];
        Arrays.fill(mask, 1);
        return vision(pixels, new long[] {1, rows * cols, patchValues}, mask, new long[] {rows, cols});
    }

    RegionOutput region(float[] lastHiddenState, long rows, long cols, float height, float width, float[] boxes) throws OrtException {
        int hidden = manifest.dimensions().hiddenSize();
        try (OnnxTensor hiddenState = OnnxTensor.createTensor(environment, FloatBuffer.wrap(lastHiddenState, 0, (int) (rows * cols) * hidden).slice(), new long[] {rows * cols, hidden});
             OnnxTensor shape = OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[] {rows, cols}), new long[] {2});
             OnnxTensor size = OnnxTensor.createTensor(environment, FloatBuffer.wrap(new float[] {height, width}), new long[] {2});
             OnnxTensor boxTensor = OnnxTensor.createTensor(environment, FloatBuffer.wrap(boxes), new long[] {boxes.length / 4, 4});
             OrtSession.Result result = region.run(Map.of(RegionGraph.HIDDEN_STATE, hiddenState, RegionGraph.SPATIAL_SHAPE, shape,
                     RegionGraph.IMAGE_SIZE, size, RegionGraph.BOXES, boxTensor))) {
            return new RegionOutput(flatten(result.get(RegionGraph.DENSE).get()), flatten(result.get(RegionGraph.REGION_EMBEDS).get()));
        }
    }

    /** Raw embedding of one tokenized text for walk short, box or long. */
    float[] text(long[] ids, String walk) throws OrtException {
        String output = switch (walk) {
            case "short" -> TextGraph.SHORT_EMBEDS;
            case "box" -> TextGraph.BOX_EMBEDS;
            case "long" -> TextGraph.LONG_EMBEDS;
            default -> throw new IllegalArgumentException("unknown walk " + walk);
        };
        try (OnnxTensor input = OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), new long[] {1, ids.length});
             OrtSession.Result result = text.run(Map.of(TextGraph.INPUT_IDS, input), Set.of(output))) {
            return flatten(result.get(0));
        }
    }

    private static float[] flatten(OnnxValue value) {
        FloatBuffer buffer = ((OnnxTensor) value).getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    @Override
    public void close() throws OrtException {
        text.close();
        vision.close();
        region.close();
    }
}
