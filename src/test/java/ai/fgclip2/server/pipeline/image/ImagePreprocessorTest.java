package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {
    private static final ImagePreprocessor PREPROCESSOR = new ImagePreprocessor(50_000_000L, 2048);
    /** A 640x480 PNG this test makes itself, so that it does not depend on which fixture set is configured. */
    private static final byte[] PHOTO = gradientPng(640, 480);

    private static byte[] gradientPng(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (x * 255 / width) << 16 | (y * 255 / height) << 8 | ((x + y) & 0xff));
            }
        }
        try (ByteArrayOutputStream png = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", png);
            return png.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void overrideIsValidatedBeforeDecoding() {
        byte[] notAnImage = {1, 2, 3};
        for (int bad : new int[] {0, -5, 2049}) {
            assertThatThrownBy(() -> PREPROCESSOR.preprocess(notAnImage, bad)).isInstanceOf(InvalidPatchBudgetException.class);
        }
        assertThatThrownBy(() -> PREPROCESSOR.preprocess(notAnImage, 2048)).isInstanceOf(ImageDecodeException.class);
        assertThatThrownBy(() -> PREPROCESSOR.preprocess(notAnImage, null)).isInstanceOf(ImageDecodeException.class);
    }

    /** The documented example 640x480 @256 -> 224x288 (14x18), instead of the bucket rule's 1024. */
    @Test
    void overrideReplacesTheBucketRule() {
        PreprocessedImage image = PREPROCESSOR.preprocess(PHOTO, 256);
        assertThat(image.maxNumPatches()).isEqualTo(256);
        assertThat(image.grid()).isEqualTo(new GridSize(14, 18));
        assertThat(image.resized().width()).isEqualTo(288);
        assertThat(image.resized().height()).isEqualTo(224);
        assertThat(image.originalWidth()).isEqualTo(640);
        assertThat(image.originalHeight()).isEqualTo(480);
        assertThat(image.patches()).hasSize(14 * 18 * Patchifier.VALUES_PER_PATCH);
    }

    @Test
    void decodedImagesTakeTheSamePath() {
        byte[] data = PHOTO;
        PreprocessedImage fromBytes = PREPROCESSOR.preprocess(data, null);
        PreprocessedImage fromImage = PREPROCESSOR.preprocess(new ImageDecoder(50_000_000L).decode(data), null);
        assertThat(fromImage.grid()).isEqualTo(fromBytes.grid());
        assertThat(fromImage.resized().pixels()).isEqualTo(fromBytes.resized().pixels());
    }
}
