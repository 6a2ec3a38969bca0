package ai.fgclip2.server.pipeline.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Byte-level writers for images whose size fields are the point: tiny files declaring large images, and
 * containers whose size fields disagree. Written from the format specifications (WebP container and lossless
 * bitstream, PNG, JPEG, GIF89a), not by any encoder.
 */
public final class HostileImages {
    private HostileImages() {
    }

    /**
     * A lossless WebP of one colour in which every prefix code has a single symbol, hence zero length: the pixel
     * data costs no bits at all, so the file is 34 bytes whatever its size (libwebp decodes it). Channels 0..255.
     */
    public static byte[] solidLosslessWebp(int width, int height, int red, int green, int blue) {
        return riff(vp8lSolid(width, height, red, green, blue));
    }

    /** The VP8L chunk of {@link #solidLosslessWebp}. */
    public static byte[] vp8lSolid(int width, int height, int red, int green, int blue) {
        Bits bits = new Bits();
        bits.put(0x2f, 8); // signature
        bits.put(width - 1, 14);
        bits.put(height - 1, 14);
        bits.put(0, 1); // alpha not used
        bits.put(0, 3); // version
        bits.put(0, 1); // no transform
        bits.put(0, 1); // no colour cache
        bits.put(0, 1); // no meta prefix codes
        // green (with lengths), red, blue, alpha, distance: "simple" codes of one 8-bit symbol
        for (int symbol : new int[] {green, red, blue, 0xff, 0}) {
            bits.put(1, 1); // simple code
            bits.put(0, 1); // one symbol
            bits.put(1, 1); // 8-bit symbol
            bits.put(symbol, 8);
        }
        return chunk("VP8L", bits.bytes());
    }

    /** A VP8L chunk holding only the header of a width x height image. */
    public static byte[] vp8lHeader(int width, int height) {
        Bits bits = new Bits();
        bits.put(0x2f, 8);
        bits.put(width - 1, 14);
        bits.put(height - 1, 14);
        bits.put(0, 4);
        return chunk("VP8L", bits.bytes());
    }

    /** A VP8X chunk: flags (0x02 animation, 0x10 alpha) and the canvas size. */
    public static byte[] vp8x(int flags, int canvasWidth, int canvasHeight) {
        ByteBuffer b = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) flags).put(new byte[3]);
        put24(b, canvasWidth - 1);
        put24(b, canvasHeight - 1);
        return chunk("VP8X", b.array());
    }

    /** An ANMF chunk: frame offset (even), size, then its image chunk. */
    public static byte[] anmf(int left, int top, int width, int height, byte[] imageChunk) {
        ByteBuffer b = ByteBuffer.allocate(16 + imageChunk.length).order(ByteOrder.LITTLE_ENDIAN);
        put24(b, left / 2);
        put24(b, top / 2);
        put24(b, width - 1);
        put24(b, height - 1);
        put24(b, 100); // duration
        b.put((byte) 0);
        b.put(imageChunk);
        return chunk("ANMF", b.array());
    }

    public static byte[] riff(byte[]... chunks) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes("WEBP".getBytes(StandardCharsets.ISO_8859_1));
        for (byte[] c : chunks) {
            body.writeBytes(c);
        }
        ByteBuffer b = ByteBuffer.allocate(8 + body.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.ISO_8859_1)).putInt(body.size()).put(body.toByteArray());
        return b.array();
    }

    public static byte[] chunk(String fourcc, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length + (payload.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(fourcc.getBytes(StandardCharsets.ISO_8859_1)).putInt(payload.length).put(payload);
        return b.array();
    }

    /** Signature and IHDR (8-bit RGB) only. */
    public static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        ByteBuffer out = ByteBuffer.allocate(8 + 12 + 13);
        out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        out.putInt(13).put("IHDR".getBytes(StandardCharsets.ISO_8859_1)).put(ihdr.array());
        CRC32 crc = new CRC32();
        crc.update("IHDR".getBytes(StandardCharsets.ISO_8859_1));
        crc.update(ihdr.array());
        return out.putInt((int) crc.getValue()).array();
    }

    /**
     * SOI, the given number of progressive frame headers (SOF2) for a 3-component image, the given number of
     * (empty) scans, EOI. No tables: the header check must decide before a decoder would need them.
     */
    public static byte[] jpegMarkers(int width, int height, int frames, int scans) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd8});
        for (int f = 0; f < frames; f++) {
            ByteBuffer sof = ByteBuffer.allocate(19);
            sof.put((byte) 0xff).put((byte) 0xc2).putShort((short) 17).put((byte) 8).putShort((short) height).putShort((short) width).put((byte) 3);
            for (int c = 1; c <= 3; c++) {
                sof.put((byte) c).put((byte) 0x11).put((byte) 0);
            }
            out.writeBytes(sof.array());
        }
        for (int s = 0; s < scans; s++) {
            // SOS for component 1, spectral 1..63, then one byte of entropy-coded data
            out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xda, 0, 8, 1, 1, 0, 1, 63, 0, 0});
        }
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd9});
        return out.toByteArray();
    }

    /** Logical screen, then (after a comment extension) one frame descriptor at the given offset, no pixel data. */
    public static byte[] gifHeader(int screenWidth, int screenHeight, int left, int top, int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(13 + 9 + 10 + 1).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes(StandardCharsets.ISO_8859_1)).putShort((short) screenWidth).putShort((short) screenHeight).put((byte) 0).put((byte) 0).put((byte) 0);
        b.put((byte) 0x21).put((byte) 0xfe).put((byte) 5).put("hello".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 0);
        b.put((byte) 0x2c).putShort((short) left).putShort((short) top).putShort((short) width).putShort((short) height).put((byte) 0);
        b.put((byte) 8);
        return b.array();
    }

    /** A BITMAPINFOHEADER (40 bytes) for a 24-bit image; negative height = top-down rows. No pixel data. */
    public static byte[] bmpHeader(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(54).putInt(0).putInt(54);
        b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 24).putInt(0).putInt(0)
                .putInt(2835).putInt(2835).putInt(0).putInt(0);
        return b.array();
    }

    private static void put24(ByteBuffer b, int value) {
        b.put((byte) value).put((byte) (value >>> 8)).put((byte) (value >>> 16));
    }

    /** Least significant bit first, as VP8L reads. */
    private static final class Bits {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int pending;
        private int count;

        void put(int value, int bits) {
            for (int i = 0; i < bits; i++) {
                pending |= (value >>> i & 1) << count;
                if (++count == 8) {
                    out.write(pending);
                    pending = 0;
                    count = 0;
                }
            }
        }

        byte[] bytes() {
            if (count > 0) {
                out.write(pending);
            }
            return out.toByteArray();
        }
    }
}
