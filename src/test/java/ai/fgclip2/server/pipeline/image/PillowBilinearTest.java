package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Resizes that the preprocessing fixtures do not cover (one axis unchanged, so Pillow skips that pass; strong
 * downscale; upscale), against {@code source_bilinear_WxH.png} made by Pillow from {@code source.png}.
 */
class PillowBilinearTest {
    private static final Pattern REFERENCE = Pattern.compile("source_bilinear_(\\d+)x(\\d+)\\.png");
    private static final ImageDecoder DECODER = new ImageDecoder(1_000_000L);

    static Stream<Path> references() throws IOException {
        try (Stream<Path> files = Files.list(Fixtures.images())) {
            List<Path> found = files.filter(p -> REFERENCE.matcher(p.getFileName().toString()).matches()).sorted().toList();
            assertThat(found).isNotEmpty();
            return found.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("references")
    void matchesPillow(Path reference) {
        Matcher m = REFERENCE.matcher(reference.getFileName().toString());
        assertThat(m.matches()).isTrue();
        int width = Integer.parseInt(m.group(1));
        int height = Integer.parseInt(m.group(2));
        RgbImage source = DECODER.decode(Fixtures.bytes(Fixtures.images().resolve("source.png")));
        RgbImage expected = DECODER.decode(Fixtures.bytes(reference));
        assertThat(expected.width()).isEqualTo(width);
        assertThat(expected.height()).isEqualTo(height);

        RgbImage resized = PillowBilinear.resize(source, width, height);
        assertThat(resized.width()).isEqualTo(width);
        assertThat(resized.height()).isEqualTo(height);
        assertThat(PreprocessFixtureTest.maxAbsDifference(resized.pixels(), expected.pixels())).isZero();
    }

    @Test
    void sameSizeIsACopy() {
        RgbImage source = DECODER.decode(Fixtures.bytes(Fixtures.images().resolve("source.png")));
        RgbImage same = PillowBilinear.resize(source, source.width(), source.height());
        assertThat(same.pixels()).isEqualTo(source.pixels()).isNotSameAs(source.pixels());
    }

    @Test
    void constantImageStaysConstant() {
        byte[] pixels = new byte[7 * 5 * 3];
        for (int i = 0; i < pixels.length; i += 3) {
            pixels[i] = (byte) 200;
            pixels[i + 1] = 0;
            pixels[i + 2] = (byte) 255;
        }
        RgbImage resized = PillowBilinear.resize(new RgbImage(7, 5, pixels), 64, 3);
        for (int y = 0; y < resized.height(); y++) {
            for (int x = 0; x < resized.width(); x++) {
                assertThat(new int[] {resized.sample(x, y, 0), resized.sample(x, y, 1), resized.sample(x, y, 2)})
                        .containsExactly(200, 0, 255);
            }
        }
    }
}
