package ai.fgclip2.server.pipeline.image;

import java.io.EOFException;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * The encoded image as an ImageIO stream, read in place, optionally followed by zero bytes.
 *
 * <p>Why: TwelveMonkeys' lossless WebP bit reader keeps 64 bits buffered and, once the data is used up, asks the
 * stream for another byte on every symbol it reads and catches the end-of-file exception. A legal VP8L stream can
 * code every pixel with zero-length prefix codes (cwebp's fastest setting does so for plain areas), so a 34-byte
 * file of 2000x2000 pixels cost four million stack-filled exceptions (15 s). {@link #WEBP_PADDING} zero bytes
 * after a WebP let the reader fill its buffer once and read zero-length symbols without touching the stream; they
 * are never decoded as pixels, since a complete bitstream ends before them. Past the end, reads throw an
 * exception without a stack trace, which is cheap for the other decoders that may probe there.
 */
class ByteArrayImageStream extends ImageInputStreamImpl {
    /** The bit reader's buffer: 64 bits. */
    static final int WEBP_PADDING = 8;

    private final byte[] data;
    private final long end;

    ByteArrayImageStream(byte[] data, int zeroPadding) {
        this.data = data;
        this.end = (long) data.length + zeroPadding;
    }

    @Override
    public int read() {
        bitOffset = 0;
        if (streamPos >= end) {
            return -1;
        }
        long at = streamPos++;
        return at < data.length ? data[(int) at] & 0xff : 0;
    }

    @Override
    public int read(byte[] into, int offset, int length) {
        if (offset < 0 || length < 0 || length > into.length - offset) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + " in " + into.length);
        }
        bitOffset = 0;
        if (length == 0) {
            return 0;
        }
        if (streamPos >= end) {
            return -1;
        }
        int n = (int) Math.min(length, end - streamPos);
        int fromData = (int) Math.max(0, Math.min(n, data.length - streamPos));
        if (fromData > 0) {
            System.arraycopy(data, (int) streamPos, into, offset, fromData);
        }
        java.util.Arrays.fill(into, offset + fromData, offset + n, (byte) 0);
        streamPos += n;
        return n;
    }

    @Override
    public byte readByte() throws EOFException {
        int value = read();
        if (value < 0) {
            throw new EndOfData();
        }
        return (byte) value;
    }

    @Override
    public void readFully(byte[] into, int offset, int length) throws EOFException {
        if (read(into, offset, length) < length) {
            throw new EndOfData();
        }
    }

    @Override
    public long length() {
        return end;
    }

    /** Cheap to throw: no stack trace. */
    private static final class EndOfData extends EOFException {
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
