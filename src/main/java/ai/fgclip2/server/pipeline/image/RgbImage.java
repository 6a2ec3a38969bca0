package ai.fgclip2.server.pipeline.image;

/**
 * An 8-bit RGB image, row-major, three bytes per pixel (R, G, B), no padding between rows. The pixel array is
 * owned by the image: callers must not modify it after construction.
 */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (pixels == null || pixels.length != 3L * width * height) {
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs " + 3L * width * height
                    + " bytes, got " + (pixels == null ? "null" : pixels.length));
        }
    }

    /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel (x, y), 0..255. */
    public int sample(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }
}
