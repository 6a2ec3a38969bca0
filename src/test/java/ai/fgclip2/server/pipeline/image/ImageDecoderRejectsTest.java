package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.server.pipeline.image.ImageDecodeException.Reason;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderRejectsTest {
    private static final ImageDecoder DECODER = new ImageDecoder(40_000_000L);

    @Test
    void emptyData() {
        assertReason(() -> DECODER.decode(new byte[0]), Reason.EMPTY);
        assertReason(() -> DECODER.decode(null), Reason.EMPTY);
    }

    @Test
    void randomBytesAreNotAnImage() {
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        noise[0] = 0x13; // make sure no signature matches by chance
        assertReason(() -> DECODER.decode(noise), Reason.UNSUPPORTED_FORMAT);
    }

    @Test
    void otherFormatsAreUnsupported() {
        assertReason(() -> DECODER.decode("II*\0 a TIFF header".getBytes()), Reason.UNSUPPORTED_FORMAT);
        assertReason(() -> DECODER.decode("<svg xmlns='http://www.w3.org/2000/svg'/>".getBytes()), Reason.UNSUPPORTED_FORMAT);
    }

    /**
     * Pillow refuses a JPEG or WebP cut anywhere (ImageIO's decoders would fill in the missing part), so must
     * we. The reason depends on where the cut falls: a header cut in the middle can even read as a huge size.
     */
    @ParameterizedTest
    @ValueSource(strings = {"progressive.jpg", "cmyk.jpg", "ycck.jpg", "grey.jpg", "lossless.webp", "lossy.webp", "lossless_alpha.webp"})
    void jpegAndWebpCutAnywhereAreRefused(String file) {
        byte[] data = Fixtures.bytes(Fixtures.images().resolve(file));
        for (int keep = 1; keep < data.length; keep++) {
            int cut = keep;
            assertThatThrownBy(() -> DECODER.decode(Arrays.copyOf(data, cut))).as("first %d bytes", cut)
                    .isInstanceOf(ImageDecodeException.class);
        }
    }

    /** Pillow (like ImageIO) still decodes a PNG whose compressed data is complete, so cut before its end. */
    @Test
    void pngCutInsideTheImageDataIsCorrupt() {
        byte[] data = Fixtures.bytes(Fixtures.images().resolve("source_bilinear_97x71.png"));
        int imageDataEnd = data.length - 12 - 4 - 4 - 1; // IEND chunk, IDAT CRC, zlib checksum, last deflate byte
        for (int keep = 1; keep < imageDataEnd; keep++) {
            int cut = keep;
            // shorter than the 8-byte signature it is not recognisable as PNG at all
            assertReason(() -> DECODER.decode(Arrays.copyOf(data, cut)), cut < 8 ? Reason.UNSUPPORTED_FORMAT : Reason.CORRUPT);
        }
    }

    @Test
    void garbageAfterAValidSignatureIsCorrupt() {
        byte[] data = new byte[2000];
        new Random(2).nextBytes(data);
        byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        System.arraycopy(signature, 0, data, 0, signature.length);
        assertReason(() -> DECODER.decode(data), Reason.CORRUPT);
    }

    /** Only a header claiming 100000 x 100000 pixels, no pixel data: a decode attempt would fail as CORRUPT. */
    @Test
    void oversizedPngIsRefusedFromItsHeader() {
        assertReason(() -> DECODER.decode(pngHeaderOnly(100_000, 100_000)), Reason.TOO_LARGE);
    }

    @Test
    void oversizedJpegAndGifAreRefusedFromTheirHeaders() {
        assertReason(() -> DECODER.decode(jpegHeaderOnly(60_000, 60_000)), Reason.TOO_LARGE);
        assertReason(() -> DECODER.decode(gifHeaderOnly(65_000, 65_000)), Reason.TOO_LARGE);
    }

    /** The limit applies to every format (ImageIO's BMP reader and the WebP check refuse header-only files). */
    @ParameterizedTest
    @ValueSource(strings = {"source.png", "progressive.jpg", "cmyk.jpg", "lossless.webp", "lossy.webp"})
    void limitIsInclusive(String file) {
        byte[] data = Fixtures.bytes(Fixtures.images().resolve(file));
        RgbImage image = DECODER.decode(data);
        long pixels = (long) image.width() * image.height();
        assertThat(new ImageDecoder(pixels).decode(data).pixels()).isEqualTo(image.pixels());
        assertReason(() -> new ImageDecoder(pixels - 1).decode(data), Reason.TOO_LARGE);
    }

    @Test
    void limitAppliesToBmpAndToTheGifCanvas() {
        byte[] bmp = bmpHeaderOnly(5, 3);
        byte[] withPixels = Arrays.copyOf(bmp, bmp.length + 3 * 16);
        assertThat(new ImageDecoder(15).decode(withPixels).width()).isEqualTo(5);
        assertReason(() -> new ImageDecoder(14).decode(withPixels), Reason.TOO_LARGE);
        // a 1x1 frame on a 100x100 logical screen decodes to the whole screen
        assertReason(() -> new ImageDecoder(9_999).decode(gifHeaderOnly(100, 100, 1, 1)), Reason.TOO_LARGE);
    }

    @Test
    void zeroSizedPngIsCorrupt() {
        assertReason(() -> DECODER.decode(pngHeaderOnly(0, 10)), Reason.CORRUPT);
    }

    private static void assertReason(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Reason reason) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(ImageDecodeException.class, e -> {
                    assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
                    assertThat(e.getMessage()).isNotBlank();
                });
    }

    private static byte[] pngHeaderOnly(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteBuffer out = ByteBuffer.allocate(8 + 12 + 13);
        out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        out.putInt(13).put("IHDR".getBytes()).put(ihdr.array());
        CRC32 crc = new CRC32();
        crc.update("IHDR".getBytes());
        crc.update(ihdr.array());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    /** SOI, a baseline frame header for a 3-component image, then end of data. */
    private static byte[] jpegHeaderOnly(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + 17);
        b.put((byte) 0xff).put((byte) 0xd8);
        b.put((byte) 0xff).put((byte) 0xc0).putShort((short) 17).put((byte) 8).putShort((short) height).putShort((short) width)
                .put((byte) 3);
        for (int c = 1; c <= 3; c++) {
            b.put((byte) c).put((byte) 0x11).put((byte) 0);
        }
        return b.array();
    }

    /** Logical screen and one image descriptor of the given size, no palette, no pixel data. */
    private static byte[] gifHeaderOnly(int width, int height) {
        return gifHeaderOnly(width, height, width, height);
    }

    private static byte[] gifHeaderOnly(int screenWidth, int screenHeight, int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(13 + 10 + 1).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes()).putShort((short) screenWidth).putShort((short) screenHeight).put((byte) 0).put((byte) 0).put((byte) 0);
        b.put((byte) 0x2c).putShort((short) 0).putShort((short) 0).putShort((short) width).putShort((short) height).put((byte) 0);
        b.put((byte) 8);
        return b.array();
    }

    /** A 24-bit BMP header; the caller appends the (4-byte aligned) rows. */
    private static byte[] bmpHeaderOnly(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(54 + (width * 3 + 3) / 4 * 4 * height).putInt(0).putInt(54);
        b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 24).putInt(0).putInt(0)
                .putInt(2835).putInt(2835).putInt(0).putInt(0);
        return b.array();
    }
}
