package ai.fgclip2.server.pipeline.image;

import java.nio.FloatBuffer;

/**
 * One image ready for the vision tower: the original size (region boxes are given in its pixels), the patch
 * budget used, the grid, and the resized 8-bit image. The float patches are produced on demand straight into
 * the caller's buffer, so a batch tensor is filled without an intermediate array.
 */
public record PreprocessedImage(int originalWidth, int originalHeight, int maxNumPatches, GridSize grid, RgbImage resized) {
    public PreprocessedImage {
        if (resized.width() != grid.pixelWidth() || resized.height() != grid.pixelHeight()) {
            throw new IllegalArgumentException("resized image " + resized.width() + "x" + resized.height()
                    + " does not cover the grid " + grid.rows() + "x" + grid.cols());
        }
    }

    public int patchCount() {
        return grid.patchCount();
    }

    /** Writes {@code patchCount() * 768} floats at the buffer's position and advances it. */
    public void writePatches(FloatBuffer out) {
        Patchifier.write(resized, out);
    }

    /** The patches as a new array {@code [patchCount() * 768]}. */
    public float[] patches() {
        float[] out = new float[patchCount() * Patchifier.VALUES_PER_PATCH];
        Patchifier.write(resized, out, 0);
        return out;
    }
}
