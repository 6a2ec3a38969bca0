package ai.fgclip2.server.pipeline.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;

/**
 * Decoded samples to 8-bit RGB the way Pillow's {@code Image.open(...).convert("RGB")} produces them. Samples
 * are read raw from the raster (never through Java 2D colour management, which would apply gamma and ICC
 * conversions that Pillow does not):
 * <ul>
 *   <li>alpha is dropped without compositing; grey is copied to R, G and B;</li>
 *   <li>palette indices are looked up, indices past the palette give black (Pillow's palette is zero-filled);</li>
 *   <li>16-bit RGB(A) and grey+alpha keep the high byte (Pillow's {@code ;16B} unpackers), but 16-bit grey
 *       alone is clamped to 255 (Pillow opens it as a 16-bit integer image and {@code I;16 -> RGB} clips);</li>
 *   <li>packed fields narrower than 8 bits are scaled by {@code v * 255 / max} (Pillow's 15/16-bit BMP
 *       unpackers);</li>
 *   <li>CMYK is converted without a profile: {@code R = (255-K) - (255-K)*C/255} with Pillow's rounding.</li>
 * </ul>
 */
final class PillowRgb {
    private PillowRgb() {
    }

    /**
     * An image as returned by an ImageIO reader (PNG, BMP, WebP).
     *
     * @param wideGreyClamps the file stores 16-bit grey without an alpha channel (PNG colour type 0), which
     *     Pillow clamps even when the JDK reader adds alpha for a tRNS chunk
     */
    static RgbImage fromBufferedImage(BufferedImage image, String format, boolean wideGreyClamps) {
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        if (cm instanceof IndexColorModel palette) {
            return fromIndexed(raster, palette);
        }
        if (cm instanceof DirectColorModel packed) {
            return fromPacked(raster, packed);
        }
        if (cm instanceof ComponentColorModel) {
            return fromComponents(raster, cm, format, wideGreyClamps);
        }
        throw unsupported(format, cm);
    }

    /** Palette indices (band 0 of {@code indices}) looked up in {@code palette}. */
    static RgbImage fromIndexed(Raster indices, IndexColorModel palette) {
        int size = palette.getMapSize();
        byte[] reds = new byte[size];
        byte[] greens = new byte[size];
        byte[] blues = new byte[size];
        palette.getReds(reds);
        palette.getGreens(greens);
        palette.getBlues(blues);
        int width = indices.getWidth();
        int height = indices.getHeight();
        byte[] out = new byte[3 * width * height];
        int[] row = new int[width];
        int o = 0;
        for (int y = 0; y < height; y++) {
            indices.getSamples(indices.getMinX(), indices.getMinY() + y, width, 1, 0, row);
            for (int x = 0; x < width; x++) {
                int index = row[x];
                if (index < size) {
                    out[o] = reds[index];
                    out[o + 1] = greens[index];
                    out[o + 2] = blues[index];
                }
                o += 3;
            }
        }
        return new RgbImage(width, height, out);
    }

    private static RgbImage fromPacked(Raster raster, DirectColorModel cm) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int bands = raster.getNumBands();
        int[] fieldMax = new int[3];
        for (int c = 0; c < 3; c++) {
            fieldMax[c] = (1 << cm.getComponentSize(c)) - 1;
        }
        byte[] out = new byte[3 * width * height];
        int[] row = new int[width * bands];
        int o = 0;
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    int v = row[x * bands + c];
                    out[o++] = (byte) (fieldMax[c] == 255 ? v : v * 255 / fieldMax[c]);
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    private static RgbImage fromComponents(Raster raster, ColorModel cm, String format, boolean wideGreyClamps) {
        int colorType = cm.getColorSpace().getType();
        int colors = cm.getNumColorComponents();
        boolean grey = colorType == ColorSpace.TYPE_GRAY && colors == 1;
        boolean rgb = colorType == ColorSpace.TYPE_RGB && colors == 3;
        int transferType = raster.getTransferType();
        if (!(grey || rgb) || cm.isAlphaPremultiplied()
                || (transferType != DataBuffer.TYPE_BYTE && transferType != DataBuffer.TYPE_USHORT)) {
            throw unsupported(format, cm);
        }
        boolean wide = transferType == DataBuffer.TYPE_USHORT;
        boolean clampWideGrey = wide && grey && wideGreyClamps;
        if (!wide && raster.getSampleModel() instanceof PixelInterleavedSampleModel
                && raster.getDataBuffer() instanceof DataBufferByte && raster.getParent() == null) {
            return fromInterleavedBytes(raster, grey);
        }
        int width = raster.getWidth();
        int height = raster.getHeight();
        int bands = raster.getNumBands();
        byte[] out = new byte[3 * width * height];
        int[] row = new int[width * bands];
        int o = 0;
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            for (int x = 0; x < width; x++) {
                int p = x * bands;
                for (int c = 0; c < 3; c++) {
                    int v = row[p + (grey ? 0 : c)];
                    if (clampWideGrey) {
                        v = Math.min(v, 255);
                    } else if (wide) {
                        v >>= 8;
                    }
                    out[o++] = (byte) v;
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    /** Fast path for the common 8-bit interleaved layouts (RGB, BGR, ABGR, grey, grey+alpha). */
    private static RgbImage fromInterleavedBytes(Raster raster, boolean grey) {
        PixelInterleavedSampleModel sm = (PixelInterleavedSampleModel) raster.getSampleModel();
        DataBufferByte buffer = (DataBufferByte) raster.getDataBuffer();
        byte[] data = buffer.getData();
        int width = raster.getWidth();
        int height = raster.getHeight();
        int pixelStride = sm.getPixelStride();
        int scanlineStride = sm.getScanlineStride();
        int[] offsets = sm.getBandOffsets();
        int base = buffer.getOffset() - raster.getSampleModelTranslateX() * pixelStride
                - raster.getSampleModelTranslateY() * scanlineStride;
        int r = offsets[0];
        int g = offsets[grey ? 0 : 1];
        int b = offsets[grey ? 0 : 2];
        byte[] out = new byte[3 * width * height];
        int o = 0;
        for (int y = 0; y < height; y++) {
            int p = base + (raster.getMinY() + y) * scanlineStride + raster.getMinX() * pixelStride;
            for (int x = 0; x < width; x++, p += pixelStride) {
                out[o++] = data[p + r];
                out[o++] = data[p + g];
                out[o++] = data[p + b];
            }
        }
        return new RgbImage(width, height, out);
    }

    /** Raw JPEG samples (no colour conversion applied by the decoder) in the given colour space. */
    static RgbImage fromJpegRaster(Raster raster, JpegHeader.ColorSpace colorSpace) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int bands = raster.getNumBands();
        int expected = switch (colorSpace) {
            case GRAY -> 1;
            case YCBCR, RGB -> 3;
            case CMYK, YCCK -> 4;
        };
        if (bands != expected) {
            throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                    "JPEG decoder returned " + bands + " components for a " + colorSpace + " image");
        }
        byte[] out = new byte[3 * width * height];
        int[] row = new int[width * bands];
        int o = 0;
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            for (int x = 0, p = 0; x < width; x++, p += bands) {
                switch (colorSpace) {
                    case GRAY -> {
                        out[o] = out[o + 1] = out[o + 2] = (byte) row[p];
                    }
                    case RGB -> {
                        out[o] = (byte) row[p];
                        out[o + 1] = (byte) row[p + 1];
                        out[o + 2] = (byte) row[p + 2];
                    }
                    case YCBCR -> {
                        int luma = row[p];
                        int cb = row[p + 1];
                        int cr = row[p + 2];
                        out[o] = (byte) clamp(luma + Ycc.RED_FROM_CR[cr]);
                        out[o + 1] = (byte) clamp(luma + Ycc.greenOffset(cb, cr));
                        out[o + 2] = (byte) clamp(luma + Ycc.BLUE_FROM_CB[cb]);
                    }
                    case CMYK -> {
                        // Pillow reads every 4-component JPEG as Adobe-inverted ("CMYK;I"): ink = 255 - sample
                        int notBlack = row[p + 3];
                        out[o] = (byte) cmykChannel(255 - row[p], notBlack);
                        out[o + 1] = (byte) cmykChannel(255 - row[p + 1], notBlack);
                        out[o + 2] = (byte) cmykChannel(255 - row[p + 2], notBlack);
                    }
                    case YCCK -> {
                        // libjpeg turns YCCK into CMYK (255 - clamp(R,G,B from YCC), K unchanged); after
                        // Pillow's inversion the ink of C, M, Y is just the clamped R, G, B
                        int luma = row[p];
                        int cb = row[p + 1];
                        int cr = row[p + 2];
                        int notBlack = row[p + 3];
                        out[o] = (byte) cmykChannel(clamp(luma + Ycc.RED_FROM_CR[cr]), notBlack);
                        out[o + 1] = (byte) cmykChannel(clamp(luma + Ycc.greenOffset(cb, cr)), notBlack);
                        out[o + 2] = (byte) cmykChannel(clamp(luma + Ycc.BLUE_FROM_CB[cb]), notBlack);
                    }
                }
                o += 3;
            }
        }
        return new RgbImage(width, height, out);
    }

    /** Pillow's {@code cmyk2rgb} for one channel: {@code nk - MULDIV255(ink, nk)}, with {@code nk = 255 - K}. */
    static int cmykChannel(int ink, int notBlack) {
        int t = ink * notBlack + 128;
        return notBlack - (((t >> 8) + t) >> 8);
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static ImageDecodeException unsupported(String format, ColorModel cm) {
        return new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                format + " pixel layout not supported (" + cm.getNumComponents() + " components, colour space type "
                        + cm.getColorSpace().getType() + ", " + cm.getComponentSize(0) + " bits)");
    }

    /**
     * JPEG's YCbCr to RGB in libjpeg's 16-bit fixed point ({@code jdcolor.c}), which libjpeg-turbo (Pillow's
     * decoder) and the JDK's libjpeg share.
     */
    private static final class Ycc {
        private static final int SCALE_BITS = 16;
        private static final int ONE_HALF = 1 << (SCALE_BITS - 1);
        static final int[] RED_FROM_CR = new int[256];
        static final int[] BLUE_FROM_CB = new int[256];
        private static final int[] GREEN_FROM_CR = new int[256];
        private static final int[] GREEN_FROM_CB = new int[256];

        static {
            for (int i = 0; i < 256; i++) {
                int x = i - 128;
                RED_FROM_CR[i] = (fix(1.40200) * x + ONE_HALF) >> SCALE_BITS;
                BLUE_FROM_CB[i] = (fix(1.77200) * x + ONE_HALF) >> SCALE_BITS;
                GREEN_FROM_CR[i] = -fix(0.71414) * x;
                GREEN_FROM_CB[i] = -fix(0.34414) * x + ONE_HALF;
            }
        }

        static int greenOffset(int cb, int cr) {
            return (GREEN_FROM_CB[cb] + GREEN_FROM_CR[cr]) >> SCALE_BITS;
        }

        private static int fix(double x) {
            return (int) (x * (1 << SCALE_BITS) + 0.5);
        }
    }
}
