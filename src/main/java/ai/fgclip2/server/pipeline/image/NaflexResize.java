package ai.fgclip2.server.pipeline.image;

/** SigLIP 2 NaFlex target size: the largest patch grid of the image's aspect ratio within a patch budget. */
public final class NaflexResize {
    private static final double PATCH = GridSize.PATCH_SIZE;

    private NaflexResize() {
    }

    /**
     * Binary search over the scale in doubles, exactly as the reference processor does it (the grid it picks
     * depends on these exact steps, so do not "simplify" them).
     */
    public static GridSize targetGrid(int width, int height, int maxNumPatches) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (maxNumPatches <= 0) {
            throw new IllegalArgumentException("maxNumPatches must be positive, got " + maxNumPatches);
        }
        double lo = 1e-6;
        double hi = 100.0;
        while (hi - lo >= 1e-5) {
            double scale = (lo + hi) / 2;
            long patches = (scaledSide(scale, height) / GridSize.PATCH_SIZE) * (scaledSide(scale, width) / GridSize.PATCH_SIZE);
            if (patches <= maxNumPatches) {
                lo = scale;
            } else {
                hi = scale;
            }
        }
        return new GridSize((int) (scaledSide(lo, height) / GridSize.PATCH_SIZE), (int) (scaledSide(lo, width) / GridSize.PATCH_SIZE));
    }

    /** {@code max(16, ceil(size*scale/16)*16)}: the scaled side rounded up to whole patches. */
    private static long scaledSide(double scale, int size) {
        return Math.max(GridSize.PATCH_SIZE, (long) Math.ceil(size * scale / PATCH) * GridSize.PATCH_SIZE);
    }
}
