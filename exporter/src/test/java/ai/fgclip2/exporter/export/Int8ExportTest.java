package ai.fgclip2.exporter.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.ReferenceFixture;
import ai.fgclip2.exporter.graph.FloatLayers;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an int8 export contains: which Linear layers became int8, where their weights live, and the options. */
class Int8ExportTest {
    @TempDir
    static Path work;
    static Path checkpoint;
    /** Encoder layers per tower of the fixture. */
    static int layers;

    @BeforeAll
    static void copyFixture() {
        checkpoint = ReferenceFixture.load().checkpointCopy(work.resolve("checkpoint"));
        layers = ai.fgclip2.exporter.checkpoint.Checkpoint.open(checkpoint).config().text().numLayers();
    }

    private static ModelProto graph(Path export, String name) throws Exception {
        try (InputStream in = Files.newInputStream(export.resolve(name + ".onnx"))) {
            return ModelProto.parseFrom(in);
        }
    }

    private static Map<String, Long> opCounts(ModelProto model) {
        return model.getGraph().getNodeList().stream().collect(Collectors.groupingBy(NodeProto::getOpType, Collectors.counting()));
    }

    @Test
    void everyEncoderLinearIsInt8WithItsWeightsInsideTheGraph() throws Exception {
        Path export = work.resolve("all");
        Manifest manifest = Exporter.export(checkpoint, export, new Exporter.Options(Exporter.Precision.INT8, false));
        assertThat(manifest.weights().mode()).isEqualTo("checkpoint");
        assertThat(manifest.int8().floatLayers()).isEmpty();
        for (String name : new String[] {Exporter.TEXT, Exporter.VISION}) {
            ModelProto model = graph(export, name);
            Map<String, Long> ops = opCounts(model);
            assertThat(ops.get("QAttention")).as(name).isEqualTo(layers);
            assertThat(ops.get("DynamicQuantizeMatMul")).as(name).isEqualTo(3L * layers);
            assertThat(ops).as(name).doesNotContainKey("Attention");
            var int8 = model.getGraph().getInitializerList().stream().filter(t -> t.getDataType() == TensorProto.DataType.INT8_VALUE).toList();
            assertThat(int8).as(name).hasSize(4 * layers);
            assertThat(int8).allSatisfy(t -> {
                assertThat(t.getDataLocation()).isEqualTo(TensorProto.DataLocation.DEFAULT);
                assertThat(t.getRawData().size()).isEqualTo(t.getDims(0) * t.getDims(1));
            });
            // float weights still point into the checkpoint
            assertThat(model.getGraph().getInitializerList()).anySatisfy(t -> assertThat(t.getDataLocation()).isEqualTo(TensorProto.DataLocation.EXTERNAL));
        }
        // the region graph (dense head, RoIAlign) has no encoder: it stays float32
        assertThat(opCounts(graph(export, Exporter.REGION))).doesNotContainKeys("QAttention", "DynamicQuantizeMatMul");
    }

    @Test
    void floatLayersStayFloat() throws Exception {
        Path first = work.resolve("first");
        Manifest manifest = Exporter.export(checkpoint, first, new Exporter.Options(Exporter.Precision.INT8, false, FloatLayers.parse("first"), true));
        assertThat(manifest.int8().floatLayers()).isEqualTo("first");
        Map<String, Long> ops = opCounts(graph(first, Exporter.VISION));
        assertThat(ops.get("QAttention")).isEqualTo(layers - 1);
        assertThat(ops.get("Attention")).isEqualTo(1);
        assertThat(ops.get("DynamicQuantizeMatMul")).isEqualTo(3L * (layers - 1));

        Path fc2 = work.resolve("fc2");
        Exporter.export(checkpoint, fc2, new Exporter.Options(Exporter.Precision.INT8, false, FloatLayers.parse("fc2"), true));
        Map<String, Long> fc2Ops = opCounts(graph(fc2, Exporter.TEXT));
        assertThat(fc2Ops.get("QAttention")).isEqualTo(layers);
        assertThat(fc2Ops.get("DynamicQuantizeMatMul")).isEqualTo(2L * layers);
    }

    @Test
    void selfContainedInt8ExportNeedsNoCheckpoint() throws Exception {
        Path ownCheckpoint = ReferenceFixture.load().checkpointCopy(work.resolve("own-checkpoint"));
        Path export = work.resolve("self-contained");
        Manifest manifest = Exporter.export(ownCheckpoint, export, new Exporter.Options(Exporter.Precision.INT8, true));
        assertThat(manifest.weights().mode()).isEqualTo("self-contained");
        try (var files = Files.walk(ownCheckpoint)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertThat(ownCheckpoint).doesNotExist();
        assertThat(QualityGate.check(export).passes(0.999, 0.97)).isTrue();
    }

    @Test
    void rejectsFloatLayersOutsideInt8AndLayersThatDoNotExist() {
        assertThatThrownBy(() -> new Exporter.Options(Exporter.Precision.FP32, false, FloatLayers.parse("first"), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("int8 exports only");
        assertThatThrownBy(() -> Exporter.export(checkpoint, work.resolve("bad"),
                new Exporter.Options(Exporter.Precision.INT8, false, FloatLayers.parse(Integer.toString(layers)), true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
    }
}
