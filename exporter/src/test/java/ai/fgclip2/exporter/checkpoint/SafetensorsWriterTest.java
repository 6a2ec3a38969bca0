package ai.fgclip2.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    /** Values exactly representable in the dtype, including zero, negatives, subnormals, infinities and large magnitudes. */
    private static float[] representable(DType dtype, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            int bits = random.nextInt(0x10000);
            values[i] = switch (dtype) {
                case F32 -> Float.intBitsToFloat(random.nextInt() & 0xff7fffff); // no NaN or infinity
                case F16 -> HalfFloats.halfToFloat((short) (bits & 0xfbff)); // exponent never all ones
                case BF16 -> HalfFloats.bfloat16ToFloat((short) (bits & 0xff7f));
                default -> throw new AssertionError(dtype);
            };
        }
        values[0] = 0;
        values[1] = Float.NEGATIVE_INFINITY;
        return values;
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void floatTensorsRoundTripInEveryFloatDtype() {
        List<TensorSpec> specs = List.of(
                // one half first, so a full buffer of floats ends two bytes short of the buffer's end
                new TensorSpec("odd.f16", DType.F16, new long[] {1}),
                new TensorSpec("a.f32", DType.F32, new long[] {3, 1000, 100}),
                new TensorSpec("b.f16", DType.F16, new long[] {700_001}), // spans several write buffers
                new TensorSpec("c.bf16", DType.BF16, new long[] {13, 5}),
                new TensorSpec("empty", DType.F32, new long[] {0, 4}),
                new TensorSpec("scalar", DType.F16, new long[] {}));
        Map<String, float[]> values = Map.of("odd.f16", new float[] {0.5f},
                "a.f32", representable(DType.F32, 300_000, 1), "b.f16", representable(DType.F16, 700_001, 2),
                "c.bf16", representable(DType.BF16, 65, 3), "empty", new float[0], "scalar", new float[] {-2});
        Path file = dir.resolve("round.safetensors");
        SafetensorsWriter.write(file, specs, (spec, sink) -> {
            float[] data = values.get(spec.name());
            // in uneven pieces, to cover appends that straddle the buffer
            for (int start = 0; start < data.length; start += 99_991) {
                sink.putFloats(data, start, Math.min(99_991, data.length - start));
            }
            if (data.length == 0) {
                sink.putFloats(data);
            }
        });
        SafetensorsFile read = SafetensorsFile.open(file);
        assertThat(read.tensors().keySet()).containsExactly("odd.f16", "a.f32", "b.f16", "c.bf16", "empty", "scalar");
        assertThat(read.metadata()).isEqualTo(Map.of("format", "pt"));
        for (TensorSpec spec : specs) {
            TensorInfo info = read.info(spec.name());
            assertThat(info.dtype()).isEqualTo(spec.dtype());
            assertThat(info.shape()).isEqualTo(spec.shape());
            assertThat(read.floats(spec.name())).as(spec.name()).isEqualTo(values.get(spec.name()));
        }
    }

    @Test
    void floatsAreRoundedToNearestEvenOnNarrowing() {
        float[] values = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 0.1f};
        Path file = dir.resolve("narrow.safetensors");
        SafetensorsWriter.write(file, List.of(new TensorSpec("h", DType.F16, new long[] {3}), new TensorSpec("b", DType.BF16, new long[] {3})),
                (spec, sink) -> sink.putFloats(values));
        SafetensorsFile read = SafetensorsFile.open(file);
        assertThat(read.floats("h")).containsExactly(1.0f, 1.0f + 0x1p-9f, HalfFloats.halfToFloat((short) 0x2E66));
        assertThat(read.floats("b")).containsExactly(1.0f, 1.0f, HalfFloats.bfloat16ToFloat((short) 0x3DCD));
    }

    @Test
    void headerIsPaddedWithSpacesToEightBytesAndDataIsLittleEndian() throws IOException {
        Path file = dir.resolve("layout.safetensors");
        SafetensorsWriter.write(file, List.of(new TensorSpec("x", DType.F32, new long[] {2}), new TensorSpec("ids", DType.I64, new long[] {1})),
                (spec, sink) -> {
                    if (spec.dtype() == DType.I64) {
                        sink.putBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 42));
                    } else {
                        sink.putFloats(new float[] {1.5f, -2f});
                    }
                });
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buffer.getLong(0);
        assertThat(headerLength % 8).isZero();
        assertThat(bytes.length).isEqualTo(8 + headerLength + 2 * 4 + 8);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        JsonNode json = new ObjectMapper().readTree(header);
        assertThat(header.substring(header.lastIndexOf('}') + 1)).matches(" *");
        assertThat(json.get("__metadata__").get("format").asText()).isEqualTo("pt");
        assertThat(json.get("x").toString()).isEqualTo("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}");
        assertThat(json.get("ids").toString()).isEqualTo("{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}");
        int data = 8 + (int) headerLength;
        assertThat(buffer.getFloat(data)).isEqualTo(1.5f);
        assertThat(buffer.getFloat(data + 4)).isEqualTo(-2f);
        assertThat(buffer.getLong(data + 8)).isEqualTo(42);
        assertThat(SafetensorsFile.open(file).longs("ids")).containsExactly(42);
    }

    @Test
    void aTensorGivenTooFewOrTooManyValuesFailsAndLeavesNoFile() {
        Path file = dir.resolve("bad.safetensors");
        List<TensorSpec> specs = List.of(new TensorSpec("w", DType.F32, new long[] {2, 2}));
        assertThatThrownBy(() -> SafetensorsWriter.write(file, specs, (spec, sink) -> sink.putFloats(new float[3])))
                .hasMessageContaining("'w'").hasMessageContaining("12 of 16 bytes");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, specs, (spec, sink) -> sink.putFloats(new float[5])))
                .hasMessageContaining("'w'").hasMessageContaining("more than its 16 bytes");
        assertThatThrownBy(() -> SafetensorsWriter.write(file, List.of(new TensorSpec("i", DType.I64, new long[] {1})),
                (spec, sink) -> sink.putFloats(new float[2]))).hasMessageContaining("'i' is I64");
        assertThat(dir.toFile().list()).isEmpty();
    }

    @Test
    void duplicateNamesAreRejected() {
        List<TensorSpec> specs = List.of(new TensorSpec("w", DType.F32, new long[] {1}), new TensorSpec("w", DType.F32, new long[] {1}));
        assertThatThrownBy(() -> SafetensorsWriter.write(dir.resolve("dup.safetensors"), specs, (spec, sink) -> sink.putFloats(new float[1])))
                .hasMessageContaining("duplicate tensor name 'w'");
        assertThat(Arrays.asList(dir.toFile().list())).isEmpty();
    }
}
