package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import javax.imageio.ImageReader;
import org.junit.jupiter.api.Test;

/**
 * Lossless WebP whose pixels cost no bits (issue 9 item 2: 38 bytes, 6000x6000, 88 s). Such a file is legal and
 * libwebp decodes it, so it is decoded too, at the cost of its pixels: what made it slow was TwelveMonkeys' bit
 * reader asking for a byte past the end on every symbol. The padding the decoder adds must keep it off the end.
 */
class ZeroCostWebpTest {

    @Test
    void decodesToItsColour() {
        RgbImage image = new ImageDecoder(40_000_000).decode(HostileImages.solidLosslessWebp(300, 200, 0x40, 0x80, 0x20));
        assertThat(image.width()).isEqualTo(300);
        assertThat(image.height()).isEqualTo(200);
        byte[] rgb = image.pixels();
        for (int i = 0; i < rgb.length; i += 3) {
            assertThat(new int[] {rgb[i] & 0xff, rgb[i + 1] & 0xff, rgb[i + 2] & 0xff}).as("pixel %d", i / 3).containsExactly(0x40, 0x80, 0x20);
        }
    }

    @Test
    void paddingKeepsTheBitReaderOffTheEndOfTheData() throws IOException {
        byte[] data = HostileImages.solidLosslessWebp(500, 400, 1, 2, 3);
        assertThat(pastEndReads(data, ByteArrayImageStream.WEBP_PADDING)).isZero();
        // without it: a failed read (an exception) per symbol, four symbols per pixel
        assertThat(pastEndReads(data, 0)).isGreaterThanOrEqualTo(500L * 400);
    }

    private static long pastEndReads(byte[] data, int padding) throws IOException {
        CountingStream stream = new CountingStream(data, padding);
        ImageReader reader = ImageFormat.WEBP.newReader();
        try {
            reader.setInput(stream, false, true);
            assertThat(reader.read(0).getWidth()).isEqualTo(500);
        } finally {
            reader.dispose();
        }
        return stream.pastEnd;
    }

    private static final class CountingStream extends ByteArrayImageStream {
        long pastEnd;

        CountingStream(byte[] data, int padding) {
            super(data, padding);
        }

        @Override
        public byte readByte() throws EOFException {
            try {
                return super.readByte();
            } catch (EOFException e) {
                pastEnd++;
                throw e;
            }
        }
    }
}
