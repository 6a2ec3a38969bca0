package ai.fgclip2.server.pipeline.image;

import ai.fgclip2.server.pipeline.image.ImageDecodeException.Reason;

/**
 * The size an image declares, read from its format's own size fields before any decoder runs. {@code width x
 * height} is the size of the decoded result, and every size field the decoder acts on must agree with it, so
 * that the decoder's work and memory are bounded by it:
 * <ul>
 *   <li>PNG: IHDR. Only the default image is decoded; APNG frames ({@code fcTL}/{@code fdAT}) are not.</li>
 *   <li>JPEG: the frame header (SOF); a second one is refused (libjpeg does so too), and so are more than
 *       {@value #MAX_JPEG_SCANS} scans, since every progressive scan is a pass over the whole image and costs no
 *       more than a few bytes.</li>
 *   <li>GIF: the logical screen grown to hold the first frame's descriptor (Pillow's canvas). Only the first
 *       frame is decoded.</li>
 *   <li>WebP: the VP8 frame or VP8L image size; with a VP8X header, the canvas, which a still image's bitstream
 *       must match and each animation frame must fit in, its bitstream matching its frame size (libwebp's
 *       rules; a 1x1 canvas wrapping a 16383x16383 bitstream would otherwise pass as 1 pixel).</li>
 *   <li>BMP: the info header (top-down images have a negative height).</li>
 * </ul>
 * Data that ends after the size fields is left to the decoder to refuse.
 */
public record ImageHeader(ImageFormat format, int width, int height) {
    /**
     * libjpeg's simple progression has 10 scans for colour images and 18 for CMYK. Each scan costs a pass over the
     * image (about 80 ms at 6000x6000 here, see BENCHMARKS.md), and the format allows over a thousand.
     */
    static final int MAX_JPEG_SCANS = 32;

    public long pixels() {
        return (long) width * height;
    }

    /** @throws ImageDecodeException when the format is not accepted or its size fields are missing or disagree */
    public static ImageHeader read(byte[] data) {
        if (data == null || data.length == 0) {
            throw new ImageDecodeException(Reason.EMPTY, "the image is empty (0 bytes)");
        }
        ImageFormat format = ImageFormat.sniff(data);
        return switch (format) {
            case PNG -> png(data);
            case JPEG -> jpeg(data);
            case GIF -> gif(data);
            case BMP -> bmp(data);
            case WEBP -> webp(data);
        };
    }

    private static ImageHeader png(byte[] data) {
        Bytes b = new Bytes(data, ImageFormat.PNG);
        if (b.u32be(8) != 13 || !b.startsWith(12, "IHDR")) {
            throw corrupt(ImageFormat.PNG, "the first chunk is not a 13-byte IHDR");
        }
        long width = b.u32be(16);
        long height = b.u32be(20);
        return sized(ImageFormat.PNG, width, height);
    }

    private static ImageHeader jpeg(byte[] data) {
        JpegHeader header = JpegHeader.parse(data);
        if (header.scans() > MAX_JPEG_SCANS) {
            throw corrupt(ImageFormat.JPEG, "the data has " + header.scans() + " scans; at most " + MAX_JPEG_SCANS + " are accepted");
        }
        return sized(ImageFormat.JPEG, header.width(), header.height());
    }

    private static ImageHeader gif(byte[] data) {
        Bytes b = new Bytes(data, ImageFormat.GIF);
        int screenWidth = b.u16le(6);
        int screenHeight = b.u16le(8);
        int flags = b.u8(10);
        int pos = 13 + colorTableBytes(flags);
        while (true) {
            int block = b.u8(pos);
            if (block == 0x21) { // extension: label, then data sub-blocks
                pos = skipSubBlocks(b, pos + 2);
            } else if (block == 0x2c) {
                int left = b.u16le(pos + 1);
                int top = b.u16le(pos + 3);
                int frameWidth = b.u16le(pos + 5);
                int frameHeight = b.u16le(pos + 7);
                if (frameWidth == 0 || frameHeight == 0) {
                    throw corrupt(ImageFormat.GIF, "the first frame is empty (" + frameWidth + "x" + frameHeight + ")");
                }
                return sized(ImageFormat.GIF, Math.max(screenWidth, left + frameWidth), Math.max(screenHeight, top + frameHeight));
            } else {
                throw corrupt(ImageFormat.GIF, "no frame before byte " + pos);
            }
        }
    }

    private static int colorTableBytes(int flags) {
        return (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0;
    }

    private static int skipSubBlocks(Bytes b, int pos) {
        for (int size = b.u8(pos); size != 0; size = b.u8(pos)) {
            pos += 1 + size;
        }
        return pos + 1;
    }

    private static ImageHeader bmp(byte[] data) {
        Bytes b = new Bytes(data, ImageFormat.BMP);
        long infoSize = b.u32le(14);
        if (infoSize == 12) { // OS/2 core header: unsigned 16-bit sizes
            return sized(ImageFormat.BMP, b.u16le(18), b.u16le(20));
        }
        if (infoSize < 16) {
            throw corrupt(ImageFormat.BMP, "info header of " + infoSize + " bytes");
        }
        int width = (int) b.u32le(18);
        int height = (int) b.u32le(22);
        // a negative height means rows stored top-down
        return sized(ImageFormat.BMP, width, height == Integer.MIN_VALUE ? 0 : Math.abs(height));
    }

    /** RIFF chunks: fourcc, little-endian payload size, payload padded to an even length. */
    private static ImageHeader webp(byte[] data) {
        Bytes b = new Bytes(data, ImageFormat.WEBP);
        long riffEnd = 8 + b.u32le(4);
        if (riffEnd > data.length) {
            // the Java WebP decoder would decode a cut file as far as it goes; libwebp (Pillow) refuses it
            throw corrupt(ImageFormat.WEBP, "the data ends early (" + data.length + " of " + riffEnd + " bytes)");
        }
        int end = (int) riffEnd;
        Chunk first = Chunk.at(b, 12, end);
        if (!first.is("VP8X")) {
            Size size = bitstreamSize(b, first);
            return sized(ImageFormat.WEBP, size.width(), size.height());
        }
        int flags = b.u8(first.payload());
        boolean animated = (flags & 0x02) != 0;
        long canvasWidth = 1 + b.u24le(first.payload() + 4);
        long canvasHeight = 1 + b.u24le(first.payload() + 7);
        int frames = 0;
        for (int pos = first.next(); pos + 8 <= end; ) {
            Chunk chunk = Chunk.at(b, pos, end);
            if (!animated && (chunk.is("VP8 ") || chunk.is("VP8L"))) {
                Size size = bitstreamSize(b, chunk);
                if (size.width() != canvasWidth || size.height() != canvasHeight) {
                    throw corrupt(ImageFormat.WEBP, "the canvas is " + canvasWidth + "x" + canvasHeight + " but its image is " + size);
                }
                return sized(ImageFormat.WEBP, canvasWidth, canvasHeight);
            }
            if (animated && chunk.is("ANMF")) {
                checkFrame(b, chunk, frames, canvasWidth, canvasHeight);
                frames++;
            }
            pos = chunk.next();
        }
        if (frames == 0) {
            throw corrupt(ImageFormat.WEBP, "the file has no image data");
        }
        return sized(ImageFormat.WEBP, canvasWidth, canvasHeight);
    }

    /** An animation frame: offset, size, duration and flags, then its own chunks (ALPH, VP8 or VP8L). */
    private static void checkFrame(Bytes b, Chunk frame, int index, long canvasWidth, long canvasHeight) {
        int p = frame.payload();
        long left = 2 * b.u24le(p);
        long top = 2 * b.u24le(p + 3);
        long width = 1 + b.u24le(p + 6);
        long height = 1 + b.u24le(p + 9);
        String where = "animation frame " + index + " (" + width + "x" + height + " at " + left + "," + top + ")";
        if (left + width > canvasWidth || top + height > canvasHeight) {
            throw corrupt(ImageFormat.WEBP, where + " does not fit the " + canvasWidth + "x" + canvasHeight + " canvas");
        }
        for (int pos = p + 16; pos + 8 <= frame.end(); ) {
            Chunk chunk = Chunk.at(b, pos, frame.end());
            if (chunk.is("VP8 ") || chunk.is("VP8L")) {
                Size size = bitstreamSize(b, chunk);
                if (size.width() != width || size.height() != height) {
                    throw corrupt(ImageFormat.WEBP, where + " holds an image of " + size);
                }
                return;
            }
            pos = chunk.next();
        }
        throw corrupt(ImageFormat.WEBP, where + " has no image data");
    }

    /** The size in a VP8 key frame header or a VP8L header (14-bit fields, least significant bit first). */
    private static Size bitstreamSize(Bytes b, Chunk chunk) {
        int p = chunk.payload();
        if (chunk.is("VP8L")) {
            if (b.u8(p) != 0x2f) {
                throw corrupt(ImageFormat.WEBP, "the lossless data lacks its signature");
            }
            long bits = b.u32le(p + 1);
            return new Size((int) (bits & 0x3fff) + 1, (int) (bits >>> 14 & 0x3fff) + 1);
        }
        if (chunk.is("VP8 ")) {
            if ((b.u8(p) & 1) != 0 || b.u8(p + 3) != 0x9d || b.u8(p + 4) != 0x01 || b.u8(p + 5) != 0x2a) {
                throw corrupt(ImageFormat.WEBP, "the lossy data does not start with a key frame");
            }
            return new Size(b.u16le(p + 6) & 0x3fff, b.u16le(p + 8) & 0x3fff);
        }
        throw corrupt(ImageFormat.WEBP, "unexpected chunk '" + chunk.fourcc() + "' where the image data should be");
    }

    private static ImageHeader sized(ImageFormat format, long width, long height) {
        if (width <= 0 || height <= 0) {
            throw corrupt(format, "the header declares an empty image (" + width + "x" + height + ")");
        }
        if (width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw new ImageDecodeException(Reason.TOO_LARGE, "the " + format.label + " header declares " + width + "x" + height + " pixels");
        }
        return new ImageHeader(format, (int) width, (int) height);
    }

    private static ImageDecodeException corrupt(ImageFormat format, String detail) {
        return new ImageDecodeException(Reason.CORRUPT, "the " + format.label + " header is damaged: " + detail);
    }

    private record Size(int width, int height) {
        @Override
        public String toString() {
            return width + "x" + height;
        }
    }

    private record Chunk(String fourcc, int payload, int end) {
        static Chunk at(Bytes b, int pos, int limit) {
            long size = b.u32le(pos + 4);
            if (pos + 8 + size > limit) {
                throw corrupt(ImageFormat.WEBP, "chunk '" + b.latin1(pos, 4) + "' of " + size + " bytes overruns its container");
            }
            return new Chunk(b.latin1(pos, 4), pos + 8, (int) (pos + 8 + size));
        }

        boolean is(String name) {
            return fourcc.equals(name);
        }

        int next() {
            return end + (end & 1);
        }
    }

    /** Bounds-checked reads: a size field beyond the data means the header is cut. */
    private record Bytes(byte[] data, ImageFormat format) {
        int u8(int at) {
            if (at < 0 || at >= data.length) {
                throw new ImageDecodeException(Reason.CORRUPT, "the " + format.label + " data ends within its header");
            }
            return data[at] & 0xff;
        }

        int u16le(int at) {
            return u8(at) | u8(at + 1) << 8;
        }

        long u24le(int at) {
            return u16le(at) | (long) u8(at + 2) << 16;
        }

        long u32le(int at) {
            return u16le(at) | (long) u16le(at + 2) << 16;
        }

        long u32be(int at) {
            return (long) u8(at) << 24 | u8(at + 1) << 16 | u8(at + 2) << 8 | u8(at + 3);
        }

        boolean startsWith(int at, String latin1) {
            return at + latin1.length() <= data.length && latin1(at, latin1.length()).equals(latin1);
        }

        String latin1(int at, int length) {
            u8(at + length - 1);
            return new String(data, at, length, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }
}
