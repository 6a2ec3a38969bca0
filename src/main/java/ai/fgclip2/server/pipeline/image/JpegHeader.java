package ai.fgclip2.server.pipeline.image;

/**
 * What the JPEG markers say: the frame size, the number of scans, the colour encoding, and whether the data
 * reaches the end-of-image marker ({@code complete}). The decoder reads JPEG pixels
 * raw (no colour conversion) and converts them itself, so that the result does not depend on embedded ICC
 * profiles (Pillow ignores them) and follows libjpeg's rules for guessing the colour space.
 */
record JpegHeader(int width, int height, int scans, int components, int[] componentIds, boolean jfif, int adobeTransform, boolean complete) {
    static final int NO_ADOBE_MARKER = -1;

    enum ColorSpace { GRAY, YCBCR, RGB, CMYK, YCCK }

    /** libjpeg's default guess ({@code default_decompress_parms}), which Pillow's decoding inherits. */
    ColorSpace colorSpace() {
        boolean adobe = adobeTransform != NO_ADOBE_MARKER;
        return switch (components) {
            case 1 -> ColorSpace.GRAY;
            case 3 -> {
                if (jfif) {
                    yield ColorSpace.YCBCR;
                }
                if (adobe) {
                    yield adobeTransform == 0 ? ColorSpace.RGB : ColorSpace.YCBCR;
                }
                boolean idsRgb = componentIds[0] == 'R' && componentIds[1] == 'G' && componentIds[2] == 'B';
                yield idsRgb ? ColorSpace.RGB : ColorSpace.YCBCR;
            }
            case 4 -> adobe && adobeTransform != 0 ? ColorSpace.YCCK : ColorSpace.CMYK;
            default -> throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                    "JPEG with " + components + " components is not supported");
        };
    }

    /**
     * Walks the marker segments and entropy-coded scans from SOI to EOI. Markers after the frame header still
     * count for libjpeg (an Adobe marker may follow SOF), and Pillow refuses a JPEG whose data ends before EOI,
     * so the walk goes to the end. Throws only when there is no frame header or a segment is malformed.
     */
    static JpegHeader parse(byte[] data) {
        boolean jfif = false;
        int adobeTransform = NO_ADOBE_MARKER;
        int[] componentIds = null;
        int width = 0;
        int height = 0;
        int scans = 0;
        int pos = 2; // after SOI
        boolean complete = false;
        while (pos + 1 < data.length) {
            if ((data[pos] & 0xff) != 0xff) { // stray bytes between segments: libjpeg skips them with a warning
                pos++;
                continue;
            }
            int marker = data[pos + 1] & 0xff;
            if (marker == 0xff) { // fill byte
                pos++;
                continue;
            }
            pos += 2;
            if (marker == 0xd9) { // EOI
                complete = true;
                break;
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { // markers without a segment
                continue;
            }
            if (pos + 2 > data.length) {
                break;
            }
            int length = ((data[pos] & 0xff) << 8) | (data[pos + 1] & 0xff);
            int start = pos + 2;
            int end = pos + length;
            if (length < 2) {
                throw corrupt("marker segment 0x" + Integer.toHexString(marker) + " has length " + length);
            }
            if (end > data.length) {
                break;
            }
            if (marker == 0xe0 && length >= 16 && startsWith(data, start, "JFIF\0")) {
                jfif = true;
            } else if (marker == 0xee && length >= 14 && startsWith(data, start, "Adobe")) {
                adobeTransform = data[start + 11] & 0xff;
            } else if (isStartOfFrame(marker)) {
                if (componentIds != null) {
                    throw corrupt("a second frame header"); // libjpeg refuses it too (JERR_SOF_DUPLICATE)
                }
                int components = length >= 8 ? data[start + 5] & 0xff : 0;
                if (components == 0 || start + 6 + 3 * components > end) {
                    throw corrupt("frame header declares " + components + " components");
                }
                height = (data[start + 1] & 0xff) << 8 | data[start + 2] & 0xff;
                width = (data[start + 3] & 0xff) << 8 | data[start + 4] & 0xff;
                componentIds = new int[components];
                for (int i = 0; i < components; i++) {
                    componentIds[i] = data[start + 6 + 3 * i] & 0xff;
                }
            }
            if (marker == 0xda) {
                scans++;
                pos = endOfScan(data, end);
            } else {
                pos = end;
            }
        }
        if (componentIds == null) {
            throw corrupt("no frame header");
        }
        return new JpegHeader(width, height, scans, componentIds.length, componentIds, jfif, adobeTransform, complete);
    }

    /** The position of the first marker after entropy-coded data (0xFF 0x00 is a stuffed byte, RSTn continue it). */
    private static int endOfScan(byte[] data, int pos) {
        while (pos + 1 < data.length) {
            if ((data[pos] & 0xff) == 0xff) {
                int next = data[pos + 1] & 0xff;
                if (next != 0x00 && next != 0xff && (next < 0xd0 || next > 0xd7)) {
                    return pos;
                }
                pos += next == 0xff ? 1 : 2;
            } else {
                pos++;
            }
        }
        return data.length;
    }

    private static boolean isStartOfFrame(int marker) {
        return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    }

    private static boolean startsWith(byte[] data, int at, String ascii) {
        if (at + ascii.length() > data.length) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if (data[at + i] != (byte) ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static ImageDecodeException corrupt(String detail) {
        return new ImageDecodeException(ImageDecodeException.Reason.CORRUPT, "damaged JPEG: " + detail);
    }
}
