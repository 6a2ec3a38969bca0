package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RGB conversion per format and pixel layout, against Pillow's documented {@code convert("RGB")} rules
 * (images generated here) or against Pillow's own output (files in {@code src/test/resources/images}, see
 * PROVENANCE.md there).
 */
class ImageDecoderFormatsTest {
    private static final ImageDecoder DECODER = new ImageDecoder(1_000_000L);
    private static final int W = 13;
    private static final int H = 7;

    // ---- files converted by Pillow ------------------------------------------------------------------------

    /** {@code name_ext.pillow.png} holds Pillow's {@code Image.open("name.ext").convert("RGB")}. */
    static Stream<Path> pillowConversions() throws IOException {
        try (Stream<Path> files = Files.list(Fixtures.images())) {
            List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(".pillow.png")).sorted().toList();
            assertThat(found).hasSizeGreaterThanOrEqualTo(7);
            return found.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pillowConversions")
    void matchesPillowConversion(Path pillowOutput) {
        String stem = pillowOutput.getFileName().toString().replace(".pillow.png", "");
        int dot = stem.lastIndexOf('_');
        String source = stem.substring(0, dot) + "." + stem.substring(dot + 1);
        RgbImage expected = DECODER.decode(Fixtures.bytes(pillowOutput));
        RgbImage actual = DECODER.decode(Fixtures.bytes(Fixtures.images().resolve(source)));
        assertThat(actual.width()).isEqualTo(expected.width());
        assertThat(actual.height()).isEqualTo(expected.height());
        if (source.equals("lossy.webp")) {
            // TwelveMonkeys' VP8 decoder is not libwebp: it replicates chroma where libwebp interpolates, and
            // 3.14.0 drifts (its intra prediction reads loop-filtered pixels); only roughly equal colours
            assertThat(meanAbsDifference(actual.pixels(), expected.pixels())).isLessThan(10.0);
        } else {
            assertThat(PreprocessFixtureTest.maxAbsDifference(actual.pixels(), expected.pixels())).isZero();
        }
    }

    @Test
    void exifOrientationIsNotApplied() {
        byte[] jpeg = Fixtures.bytes(Fixtures.images().resolve("progressive.jpg"));
        byte[] rotated = withExifOrientation(jpeg, 6); // "rotate 90 CW to display"
        RgbImage plain = DECODER.decode(jpeg);
        RgbImage tagged = DECODER.decode(rotated);
        assertThat(tagged.width()).isEqualTo(plain.width());
        assertThat(tagged.height()).isEqualTo(plain.height());
        assertThat(tagged.pixels()).isEqualTo(plain.pixels());
    }

    // ---- PNG ----------------------------------------------------------------------------------------------

    @Test
    void grey8IsExpanded() {
        int[] grey = samples(W * H, 256, 1);
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_GRAY, false, DataBuffer.TYPE_BYTE, grey)));
        assertPixels(rgb, i -> new int[] {grey[i], grey[i], grey[i]});
    }

    @Test
    void grey16IsClampedNotShifted() {
        // Pillow opens 16-bit grey as a 16-bit integer image; I;16 -> RGB clips values above 255
        int[] grey = samples(W * H, 65536, 2);
        for (int i = 0; i < grey.length; i += 3) {
            grey[i] = grey[i] % 256; // also values that survive the clamp
        }
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_GRAY, false, DataBuffer.TYPE_USHORT, grey)));
        assertPixels(rgb, i -> {
            int v = Math.min(grey[i], 255);
            return new int[] {v, v, v};
        });
    }

    @Test
    void greyAlpha8DropsAlpha() {
        int[] samples = samples(W * H * 2, 256, 3);
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_GRAY, true, DataBuffer.TYPE_BYTE, samples)));
        assertPixels(rgb, i -> new int[] {samples[2 * i], samples[2 * i], samples[2 * i]});
    }

    @Test
    void greyAlpha16KeepsHighByte() {
        int[] samples = samples(W * H * 2, 65536, 4);
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_GRAY, true, DataBuffer.TYPE_USHORT, samples)));
        assertPixels(rgb, i -> {
            int v = samples[2 * i] >> 8;
            return new int[] {v, v, v};
        });
    }

    @Test
    void rgb16KeepsHighByte() {
        int[] samples = samples(W * H * 3, 65536, 5);
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_sRGB, false, DataBuffer.TYPE_USHORT, samples)));
        assertPixels(rgb, i -> new int[] {samples[3 * i] >> 8, samples[3 * i + 1] >> 8, samples[3 * i + 2] >> 8});
    }

    @Test
    void rgba16KeepsHighByteAndDropsAlpha() {
        int[] samples = samples(W * H * 4, 65536, 6);
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_sRGB, true, DataBuffer.TYPE_USHORT, samples)));
        assertPixels(rgb, i -> new int[] {samples[4 * i] >> 8, samples[4 * i + 1] >> 8, samples[4 * i + 2] >> 8});
    }

    @Test
    void rgba8DropsAlphaWithoutCompositing() {
        int[] samples = samples(W * H * 4, 256, 7);
        for (int i = 3; i < samples.length; i += 8) {
            samples[i] = 0; // fully transparent pixels keep their colour
        }
        RgbImage rgb = DECODER.decode(png(component(ColorSpace.CS_sRGB, true, DataBuffer.TYPE_BYTE, samples)));
        assertPixels(rgb, i -> new int[] {samples[4 * i], samples[4 * i + 1], samples[4 * i + 2]});
    }

    @Test
    void palette8And4BitAreLookedUpIgnoringPaletteAlpha() {
        for (int bits : new int[] {8, 4}) {
            IndexColorModel palette = randomPalette(bits, true, 8 + bits);
            int[] indices = samples(W * H, 1 << bits, 9 + bits);
            BufferedImage image = indexed(palette, indices);
            RgbImage rgb = DECODER.decode(encode(image, "png"));
            assertPixels(rgb, i -> lookup(palette, indices[i]));
        }
    }

    // ---- GIF ----------------------------------------------------------------------------------------------

    @Test
    void gifWrittenByImageIoIsLookedUp() {
        IndexColorModel palette = randomPalette(8, false, 20);
        int[] indices = samples(W * H, 256, 21);
        RgbImage rgb = DECODER.decode(encode(indexed(palette, indices), "gif"));
        assertPixels(rgb, i -> lookup(palette, indices[i]));
    }

    @Test
    void gifFirstFrameIsPlacedOnTheLogicalScreen() {
        // Pillow: canvas of the logical screen size, filled with index 0 (no transparency) or with the
        // transparent index, frame indices at the frame's offset, then the palette lookup
        byte[] palette = new byte[256 * 3];
        new Random(30).nextBytes(palette);
        int[] frame = samples(W * H, 256, 31);
        int screenWidth = 20;
        int screenHeight = 15;
        int left = 4;
        int top = 3;
        for (Integer transparent : new Integer[] {null, 77}) {
            RgbImage rgb = DECODER.decode(GifBytes.of(screenWidth, screenHeight, left, top, W, H, palette, frame, transparent));
            assertThat(rgb.width()).isEqualTo(screenWidth);
            assertThat(rgb.height()).isEqualTo(screenHeight);
            int fill = transparent == null ? 0 : transparent;
            for (int y = 0; y < screenHeight; y++) {
                for (int x = 0; x < screenWidth; x++) {
                    boolean inFrame = x >= left && x < left + W && y >= top && y < top + H;
                    int index = inFrame ? frame[(y - top) * W + (x - left)] : fill;
                    for (int c = 0; c < 3; c++) {
                        assertThat(rgb.sample(x, y, c)).as("(%d,%d) channel %d", x, y, c).isEqualTo(palette[index * 3 + c] & 0xff);
                    }
                }
            }
        }
    }

    // ---- BMP ----------------------------------------------------------------------------------------------

    @Test
    void bmp24AndIndexed() {
        int[] samples = samples(W * H * 3, 256, 40);
        BufferedImage bgr = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
        bgr.getRaster().setPixels(0, 0, W, H, samples);
        assertPixels(DECODER.decode(encode(bgr, "bmp")), i -> new int[] {samples[3 * i], samples[3 * i + 1], samples[3 * i + 2]});

        IndexColorModel palette = randomPalette(8, false, 41);
        int[] indices = samples(W * H, 256, 42);
        assertPixels(DECODER.decode(encode(indexed(palette, indices), "bmp")), i -> lookup(palette, indices[i]));
    }

    @Test
    void bmp16Bit565IsScaledAsPillowUnpacksIt() {
        // Pillow's BGR;16 unpacker: r = R5 * 255 / 31, g = G6 * 255 / 63, b = B5 * 255 / 31 (truncating)
        int[] packed = samples(W * H, 65536, 50);
        RgbImage rgb = DECODER.decode(bmp565(W, H, packed));
        assertPixels(rgb, i -> {
            int p = packed[i];
            return new int[] {(p >> 11) * 255 / 31, ((p >> 5) & 63) * 255 / 63, (p & 31) * 255 / 31};
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private interface ExpectedPixel {
        int[] rgb(int pixelIndex);
    }

    private static void assertPixels(RgbImage image, ExpectedPixel expected) {
        assertThat(image.width()).isEqualTo(W);
        assertThat(image.height()).isEqualTo(H);
        for (int i = 0; i < W * H; i++) {
            int[] e = expected.rgb(i);
            int[] a = {image.pixels()[3 * i] & 0xff, image.pixels()[3 * i + 1] & 0xff, image.pixels()[3 * i + 2] & 0xff};
            assertThat(a).as("pixel %d", i).containsExactly(e);
        }
    }

    private static int[] samples(int count, int bound, long seed) {
        Random random = new Random(seed);
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextInt(bound);
        }
        return values;
    }

    private static BufferedImage component(int colorSpace, boolean alpha, int dataType, int[] samples) {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(colorSpace), alpha, false,
                alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, dataType);
        int bands = cm.getNumComponents();
        WritableRaster raster = Raster.createInterleavedRaster(dataType, W, H, bands, null);
        raster.setPixels(0, 0, W, H, samples);
        return new BufferedImage(cm, raster, false, null);
    }

    private static IndexColorModel randomPalette(int bits, boolean alpha, long seed) {
        int size = 1 << bits;
        byte[] r = new byte[size];
        byte[] g = new byte[size];
        byte[] b = new byte[size];
        byte[] a = new byte[size];
        Random random = new Random(seed);
        random.nextBytes(r);
        random.nextBytes(g);
        random.nextBytes(b);
        random.nextBytes(a);
        return alpha ? new IndexColorModel(bits, size, r, g, b, a) : new IndexColorModel(bits, size, r, g, b);
    }

    private static BufferedImage indexed(IndexColorModel palette, int[] indices) {
        int type = palette.getPixelSize() == 8 ? BufferedImage.TYPE_BYTE_INDEXED : BufferedImage.TYPE_BYTE_BINARY;
        BufferedImage image = new BufferedImage(W, H, type, palette);
        image.getRaster().setSamples(0, 0, W, H, 0, indices);
        return image;
    }

    private static int[] lookup(IndexColorModel palette, int index) {
        return new int[] {palette.getRed(index), palette.getGreen(index), palette.getBlue(index)};
    }

    private static byte[] png(BufferedImage image) {
        return encode(image, "png");
    }

    private static byte[] encode(BufferedImage image, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(ImageIO.write(image, format, out)).as("ImageIO can write this %s layout", format).isTrue();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A bottom-up BITFIELDS BMP with 5-6-5 masks. */
    private static byte[] bmp565(int width, int height, int[] packed) {
        int rowBytes = (width * 2 + 3) / 4 * 4;
        int headerSize = 14 + 40 + 12;
        ByteBuffer b = ByteBuffer.allocate(headerSize + rowBytes * height).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(b.capacity()).putInt(0).putInt(headerSize);
        b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 16).putInt(3)
                .putInt(rowBytes * height).putInt(2835).putInt(2835).putInt(0).putInt(0);
        b.putInt(0xf800).putInt(0x07e0).putInt(0x001f);
        for (int y = height - 1; y >= 0; y--) {
            int start = b.position();
            for (int x = 0; x < width; x++) {
                b.putShort((short) packed[y * width + x]);
            }
            b.position(start + rowBytes);
        }
        return b.array();
    }

    /** The JPEG with an APP1 Exif segment holding only an Orientation tag, inserted after SOI. */
    private static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(26).order(ByteOrder.BIG_ENDIAN);
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8) // header, IFD0 at 8
                .putShort((short) 1) // one entry
                .putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0)
                .putInt(0); // no next IFD
        byte[] exif = tiff.array();
        int length = 2 + 6 + exif.length;
        ByteBuffer out = ByteBuffer.allocate(jpeg.length + 2 + length);
        out.put(jpeg, 0, 2).put((byte) 0xff).put((byte) 0xe1).putShort((short) length)
                .put(new byte[] {'E', 'x', 'i', 'f', 0, 0}).put(exif).put(jpeg, 2, jpeg.length - 2);
        return out.array();
    }

    private static double meanAbsDifference(byte[] a, byte[] b) {
        long sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((a[i] & 0xff) - (b[i] & 0xff));
        }
        return (double) sum / a.length;
    }

    /**
     * A one-frame GIF with a 256-colour global palette, LZW-coded with literal codes only (a clear code every
     * 250 pixels keeps the code width at 9 bits), which every decoder reads.
     */
    private static final class GifBytes {
        static byte[] of(int screenWidth, int screenHeight, int left, int top, int width, int height, byte[] palette,
                int[] indices, Integer transparent) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes("GIF89a".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            short16(out, screenWidth);
            short16(out, screenHeight);
            out.write(0xf7); // global colour table of 2^(7+1) entries
            out.write(0); // background index
            out.write(0); // aspect ratio
            out.writeBytes(palette);
            if (transparent != null) {
                out.writeBytes(new byte[] {0x21, (byte) 0xf9, 4, 1, 0, 0, transparent.byteValue(), 0});
            }
            out.write(0x2c);
            short16(out, left);
            short16(out, top);
            short16(out, width);
            short16(out, height);
            out.write(0); // no local table, not interlaced
            out.write(8); // LZW minimum code size
            byte[] lzw = literalCodes(indices);
            for (int i = 0; i < lzw.length; i += 255) {
                int n = Math.min(255, lzw.length - i);
                out.write(n);
                out.write(lzw, i, n);
            }
            out.write(0);
            out.write(0x3b);
            return out.toByteArray();
        }

        private static byte[] literalCodes(int[] indices) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int clear = 256;
            int end = 257;
            long bits = 0;
            int count = 0;
            int[] codes = new int[indices.length + indices.length / 250 + 3];
            int n = 0;
            codes[n++] = clear;
            for (int i = 0; i < indices.length; i++) {
                if (i > 0 && i % 250 == 0) {
                    codes[n++] = clear;
                }
                codes[n++] = indices[i];
            }
            codes[n++] = end;
            for (int i = 0; i < n; i++) {
                bits |= (long) codes[i] << count;
                count += 9;
                while (count >= 8) {
                    out.write((int) (bits & 0xff));
                    bits >>>= 8;
                    count -= 8;
                }
            }
            if (count > 0) {
                out.write((int) (bits & 0xff));
            }
            return out.toByteArray();
        }

        private static void short16(ByteArrayOutputStream out, int v) {
            out.write(v & 0xff);
            out.write((v >> 8) & 0xff);
        }
    }
}
