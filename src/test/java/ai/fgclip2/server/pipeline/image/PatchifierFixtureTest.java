package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The float patches against the {@code pixel_values} the official code fed to its vision tower. */
class PatchifierFixtureTest {
    private static final float TOLERANCE = 1e-6f;
    private static final ImagePreprocessor PREPROCESSOR = new ImagePreprocessor(100_000_000L, 4096);

    record VisionCase(String name, Path file, int rows, int cols) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Image files by case name, from the preprocessing cases. */
    private static Map<String, Path> imageFiles() {
        Path dir = Fixtures.tiny();
        Map<String, Path> files = new HashMap<>();
        for (JsonNode c : Fixtures.json(dir.resolve("preprocess_cases.json")).get("cases")) {
            files.put(c.get("name").asText(), dir.resolve(c.get("file").asText()));
        }
        return files;
    }

    static Stream<VisionCase> visionCases() {
        Map<String, Path> files = imageFiles();
        List<VisionCase> cases = new ArrayList<>();
        for (JsonNode v : Fixtures.json(Fixtures.tiny().resolve("model_cases.json")).get("vision")) {
            String name = v.get("name").asText();
            assertThat(files).containsKey(name);
            cases.add(new VisionCase(name, files.get(name), v.get("spatial_shape").get(0).asInt(), v.get("spatial_shape").get(1).asInt()));
        }
        assertThat(cases).isNotEmpty();
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("visionCases")
    void patchesEqualReferencePixelValues(VisionCase c) {
        float[] reference = expected().floats(c.name() + ".pixel_values");
        PreprocessedImage image = PREPROCESSOR.preprocess(Fixtures.bytes(c.file()), null);
        assertThat(image.grid()).isEqualTo(new GridSize(c.rows(), c.cols()));
        assertThat(reference).hasSize(image.patchCount() * Patchifier.VALUES_PER_PATCH);

        assertClose(image.patches(), 0, reference, 0, reference.length);

        // the same values through a direct buffer, written after some unrelated content
        int before = 5;
        FloatBuffer direct = ByteBuffer.allocateDirect((before + reference.length) * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.position(before);
        image.writePatches(direct);
        assertThat(direct.position()).isEqualTo(before + reference.length);
        float[] written = new float[reference.length];
        direct.get(before, written);
        assertClose(written, 0, reference, 0, reference.length);
    }

    /** Two images of different grids, padded with zero patches to 256, as the reference batched them. */
    @Test
    void batchOfTwoImagesWithOverrideBudget() {
        JsonNode batch = Fixtures.json(Fixtures.tiny().resolve("model_cases.json")).get("batched_vision").get(0);
        int budget = batch.get("max_num_patches").asInt();
        float[] reference = expected().floats("batch.pixel_values");
        long[] shape = expected().info("batch.pixel_values").shape();
        int padded = Math.toIntExact(shape[1]);
        assertThat(shape).containsExactly(batch.get("images").size(), padded, Patchifier.VALUES_PER_PATCH);

        Map<String, Path> files = imageFiles();
        FloatBuffer tensor = FloatBuffer.allocate(reference.length);
        for (int i = 0; i < batch.get("images").size(); i++) {
            PreprocessedImage image = PREPROCESSOR.preprocess(Fixtures.bytes(files.get(batch.get("images").get(i).asText())), budget);
            assertThat(image.maxNumPatches()).isEqualTo(budget);
            assertThat(image.patchCount()).isLessThanOrEqualTo(padded);
            tensor.position(i * padded * Patchifier.VALUES_PER_PATCH);
            image.writePatches(tensor);
        }
        assertClose(tensor.array(), 0, reference, 0, reference.length);
    }

    @Test
    void refusesImagesNotCutIntoWholePatchesAndShortBuffers() {
        RgbImage odd = new RgbImage(17, 16, new byte[17 * 16 * 3]);
        assertThatThrownBy(() -> Patchifier.write(odd, new float[2 * Patchifier.VALUES_PER_PATCH], 0))
                .isInstanceOf(IllegalArgumentException.class);
        RgbImage two = new RgbImage(32, 16, new byte[32 * 16 * 3]);
        assertThatThrownBy(() -> Patchifier.write(two, FloatBuffer.allocate(2 * Patchifier.VALUES_PER_PATCH - 1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Patchifier.write(two, new float[2 * Patchifier.VALUES_PER_PATCH], 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static SafetensorsFile expected;

    private static synchronized SafetensorsFile expected() {
        if (expected == null) {
            expected = SafetensorsFile.open(Fixtures.tiny().resolve("expected.safetensors"));
        }
        return expected;
    }

    private static void assertClose(float[] actual, int actualOffset, float[] reference, int referenceOffset, int length) {
        float worst = 0;
        int worstAt = -1;
        for (int i = 0; i < length; i++) {
            float d = Math.abs(actual[actualOffset + i] - reference[referenceOffset + i]);
            if (!(d <= worst)) {
                worst = d;
                worstAt = i;
            }
        }
        assertThat(worst).as("largest difference, at value %d", worstAt).isLessThanOrEqualTo(TOLERANCE);
    }
}
