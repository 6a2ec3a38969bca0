package ai.fgclip2.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.checkpoint.CheckpointLayout.ExpectedTensor;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Reads the reference checkpoints written by the official code and checks them against the layout. */
class FixtureCheckpointTest {

    static Path[] fixtures() {
        return new Path[] {Fixtures.TINY_MODEL, Fixtures.E2E_MODEL};
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void tensorNamesAndShapesAreExactlyTheLayoutOfTheConfig(Path model) {
        Checkpoint checkpoint = Checkpoint.open(model);
        Map<String, String> actual = new TreeMap<>();
        for (SafetensorsFile file : checkpoint.files()) {
            file.tensors().values().forEach(info -> actual.put(info.name(), info.shapeString()));
        }
        Map<String, String> expected = CheckpointLayout.expectedTensors(checkpoint.config()).stream()
                .collect(Collectors.toMap(ExpectedTensor::name, t -> Arrays.toString(t.shape()), (a, b) -> a, TreeMap::new));
        assertThat(actual).isEqualTo(expected);
        checkpoint.validate();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void everyTensorReadsAsFiniteFloats(Path model) {
        Checkpoint checkpoint = Checkpoint.open(model);
        for (ExpectedTensor tensor : CheckpointLayout.expectedTensors(checkpoint.config())) {
            float[] values = checkpoint.floats(tensor.name(), tensor.shape());
            assertThat(values).as(tensor.name()).hasSize(Math.toIntExact(tensor.elementCount()));
            for (float value : values) {
                assertThat(Float.isFinite(value)).as(tensor.name()).isTrue();
            }
        }
    }

    @Test
    void configsAreRead() {
        ModelConfig tiny = Checkpoint.open(Fixtures.TINY_MODEL).config();
        assertThat(tiny.hiddenSize()).isEqualTo(64);
        assertThat(tiny.text().intermediateSize()).isEqualTo(176);
        assertThat(tiny.vision().numLayers()).isEqualTo(2);
        assertThat(tiny.vocabSize()).isEqualTo(1024);
        assertThat(tiny.positionGridSide()).isEqualTo(16);
        ModelConfig e2e = Checkpoint.open(Fixtures.E2E_MODEL).config();
        assertThat(e2e.hiddenSize()).isEqualTo(16);
        assertThat(e2e.vocabSize()).isEqualTo(256000);
        assertThat(e2e.text().numHeads()).isEqualTo(2);
    }

    @Test
    void halfPrecisionTensorsWidenBitForBit() {
        Checkpoint checkpoint = Checkpoint.open(Fixtures.E2E_MODEL);
        Map<String, TensorInfo> halves = new LinkedHashMap<>();
        for (SafetensorsFile file : checkpoint.files()) {
            file.tensors().forEach((name, info) -> {
                assertThat(info.dtype()).as(name).isEqualTo(DType.F16);
                halves.put(name, info);
            });
        }
        for (String name : new String[] {"text_model.encoder.layers.1.mlp.fc2.weight", "logit_scale", "vision_model.head.probe"}) {
            TensorInfo info = halves.get(name);
            ByteBuffer raw = checkpoint.files().iterator().next().bytes(info);
            float[] widened = checkpoint.floats(name, info.shape());
            for (int i = 0; i < widened.length; i++) {
                int bits = raw.getShort(2 * i) & 0xffff;
                // independent decoding of a normal or subnormal half
                int exponent = (bits >>> 10) & 0x1f;
                int mantissa = bits & 0x3ff;
                double magnitude = exponent == 0 ? Math.scalb((double) mantissa, -24) : Math.scalb(1024.0 + mantissa, exponent - 25);
                assertThat(exponent).isLessThan(0x1f);
                assertThat(widened[i]).as("%s[%d]", name, i).isEqualTo((float) ((bits & 0x8000) != 0 ? -magnitude : magnitude));
            }
        }
        // the fixture stores logit_scale as 0x4000 and logit_bias as 0xC400
        assertThat(checkpoint.floats("logit_scale", 1)[0]).isEqualTo(2.0f);
        assertThat(checkpoint.floats("logit_bias", 1)[0]).isEqualTo(-4.0f);
    }
}
