package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of {@code preprocess_cases.json}: the reference (transformers' PIL processor) decoded the file,
 * converted it to RGB, picked the budget and grid, and resized it with Pillow's bilinear filter.
 */
class PreprocessFixtureTest {
    /** The JPEG case depends on the decoder (libjpeg-turbo in the reference); allowed per-value difference. */
    private static final int JPEG_TOLERANCE = 2;

    private static SafetensorsFile expected;

    record Case(String name, Path file, int width, int height, int maxNumPatches, int rows, int cols, boolean exact) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        Path dir = Fixtures.tiny();
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : Fixtures.json(dir.resolve("preprocess_cases.json")).get("cases")) {
            cases.add(new Case(c.get("name").asText(), dir.resolve(c.get("file").asText()), c.get("width").asInt(),
                    c.get("height").asInt(), c.get("max_num_patches").asInt(), c.get("spatial_shape").get(0).asInt(),
                    c.get("spatial_shape").get(1).asInt(), c.get("exact").asBoolean()));
        }
        assertThat(cases).isNotEmpty();
        return cases.stream();
    }

    @BeforeAll
    static void open() {
        expected = SafetensorsFile.open(Fixtures.tiny().resolve("preprocess.safetensors"));
    }

    @AfterAll
    static void close() {
        expected = null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReferenceBudgetGridAndResizedPixels(Case c) {
        RgbImage decoded = new ImageDecoder(100_000_000L).decode(Fixtures.bytes(c.file()));
        assertThat(decoded.width()).isEqualTo(c.width());
        assertThat(decoded.height()).isEqualTo(c.height());

        int budget = PatchBudget.forImage(decoded.width(), decoded.height());
        assertThat(budget).as("patch budget").isEqualTo(c.maxNumPatches());
        GridSize grid = NaflexResize.targetGrid(decoded.width(), decoded.height(), budget);
        assertThat(grid).as("grid").isEqualTo(new GridSize(c.rows(), c.cols()));

        RgbImage resized = PillowBilinear.resize(decoded, grid.pixelWidth(), grid.pixelHeight());
        byte[] reference = expected.uint8(c.name() + ".resized_rgb");
        assertThat(expected.info(c.name() + ".resized_rgb").shape()).containsExactly(grid.pixelHeight(), grid.pixelWidth(), 3);
        int maxDifference = maxAbsDifference(resized.pixels(), reference);
        assertThat(maxDifference).as("largest per-value difference to Pillow").isLessThanOrEqualTo(c.exact() ? 0 : JPEG_TOLERANCE);

        PreprocessedImage whole = new ImagePreprocessor(100_000_000L, 4096).preprocess(Fixtures.bytes(c.file()), null);
        assertThat(whole.maxNumPatches()).isEqualTo(c.maxNumPatches());
        assertThat(whole.grid()).isEqualTo(grid);
        assertThat(whole.resized().pixels()).isEqualTo(resized.pixels());
        assertThat(whole.originalWidth()).isEqualTo(c.width());
        assertThat(whole.originalHeight()).isEqualTo(c.height());
    }

    static int maxAbsDifference(byte[] actual, byte[] reference) {
        assertThat(actual).hasSameSizeAs(reference);
        int max = 0;
        for (int i = 0; i < actual.length; i++) {
            max = Math.max(max, Math.abs((actual[i] & 0xff) - (reference[i] & 0xff)));
        }
        return max;
    }
}
