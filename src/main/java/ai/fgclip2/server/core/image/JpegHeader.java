package ai.fgclip2.server.core.image;

/**
 * What the JPEG markers before the first scan say about the colour encoding. The decoder reads JPEG pixels
 * raw (no colour conversion) and converts them itself, so that the result does not depend on embedded ICC
 * profiles (Pillow ignores them) and follows libjpeg's rules for guessing the colour space.
 */
record JpegHeader(int components, int[] componentIds, boolean jfif, int adobeTransform) {
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
     * Scans the marker segments from SOI up to the first SOS (markers after the frame header still count for
     * libjpeg, so the scan does not stop at it).
     */
    static JpegHeader parse(byte[] data) {
        boolean jfif = false;
        int adobeTransform = NO_ADOBE_MARKER;
        int[] componentIds = null;
        int pos = 2; // after SOI
        while (pos + 1 < data.length) {
            if ((data[pos] & 0xff) != 0xff) {
                throw corrupt("expected a marker at byte " + pos);
            }
            int marker = data[pos + 1] & 0xff;
            if (marker == 0xff) { // fill byte
                pos++;
                continue;
            }
            pos += 2;
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { // markers without a segment
                continue;
            }
            if (marker == 0xda || marker == 0xd9 || pos + 2 > data.length) { // SOS, EOI or truncated
                break;
            }
            int length = ((data[pos] & 0xff) << 8) | (data[pos + 1] & 0xff);
            int start = pos + 2;
            int end = pos + length;
            if (length < 2 || end > data.length) {
                throw corrupt("marker segment 0x" + Integer.toHexString(marker) + " runs past the end of the data");
            }
            if (marker == 0xe0 && length >= 16 && startsWith(data, start, "JFIF\0")) {
                jfif = true;
            } else if (marker == 0xee && length >= 14 && startsWith(data, start, "Adobe")) {
                adobeTransform = data[start + 11] & 0xff;
            } else if (isStartOfFrame(marker) && componentIds == null) {
                int components = length >= 8 ? data[start + 5] & 0xff : 0;
                if (components == 0 || start + 6 + 3 * components > end) {
                    throw corrupt("frame header declares " + components + " components");
                }
                componentIds = new int[components];
                for (int i = 0; i < components; i++) {
                    componentIds[i] = data[start + 6 + 3 * i] & 0xff;
                }
            }
            pos = end;
        }
        if (componentIds == null) {
            throw corrupt("no frame header before the image data");
        }
        return new JpegHeader(componentIds.length, componentIds, jfif, adobeTransform);
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
