package ai.fgclip2.server.pipeline.image;

/** A grid of square patches: {@code rows} patches high, {@code cols} patches wide. */
public record GridSize(int rows, int cols) {
    /** Side of one square patch in pixels (all FG-CLIP 2 checkpoints use 16). */
    public static final int PATCH_SIZE = 16;

    public GridSize {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("grid must have at least one patch, got " + rows + "x" + cols);
        }
    }

    public int patchCount() {
        return rows * cols;
    }

    /** Height in pixels of an image covering this grid exactly. */
    public int pixelHeight() {
        return rows * PATCH_SIZE;
    }

    /** Width in pixels of an image covering this grid exactly. */
    public int pixelWidth() {
        return cols * PATCH_SIZE;
    }
}
