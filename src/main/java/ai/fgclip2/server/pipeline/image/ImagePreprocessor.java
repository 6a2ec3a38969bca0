package ai.fgclip2.server.pipeline.image;

/**
 * Bytes of an uploaded image to the vision tower's input: decode and convert to RGB, choose the patch budget,
 * find the NaFlex grid, resize with Pillow's bilinear filter. Thread-safe.
 */
public final class ImagePreprocessor {
    private final ImageDecoder decoder;
    private final int maxNumPatchesLimit;

    /**
     * @param maxPixels largest {@code width * height} of an uploaded image
     * @param maxNumPatchesLimit largest budget a request may ask for (memory and time grow with it)
     */
    public ImagePreprocessor(long maxPixels, int maxNumPatchesLimit) {
        if (maxNumPatchesLimit <= 0) {
            throw new IllegalArgumentException("maxNumPatchesLimit must be positive, got " + maxNumPatchesLimit);
        }
        this.decoder = new ImageDecoder(maxPixels);
        this.maxNumPatchesLimit = maxNumPatchesLimit;
    }

    public int maxNumPatchesLimit() {
        return maxNumPatchesLimit;
    }

    /**
     * @param maxNumPatchesOverride the request's budget, or {@code null} for the per-image bucket rule
     * @throws ImageDecodeException when the bytes are not a usable image
     * @throws InvalidPatchBudgetException when the override is outside 1..{@link #maxNumPatchesLimit()}
     */
    public PreprocessedImage preprocess(byte[] data, Integer maxNumPatchesOverride) {
        if (maxNumPatchesOverride != null) {
            // validate before the (comparatively expensive) decode
            PatchBudget.resolve(1, 1, maxNumPatchesOverride, maxNumPatchesLimit);
        }
        RgbImage image = decoder.decode(data);
        return preprocess(image, maxNumPatchesOverride);
    }

    /**
     * The image's declared size from its header, checked against the pixel limit; nothing is decoded.
     *
     * @throws ImageDecodeException when the bytes are not a usable image or declare too many pixels
     */
    public ImageHeader header(byte[] data) {
        return decoder.header(data);
    }

    /** The patches the image will occupy, from its declared size (the same rule {@link #preprocess} applies). */
    public int patchCount(ImageHeader header, Integer maxNumPatchesOverride) {
        int budget = PatchBudget.resolve(header.width(), header.height(), maxNumPatchesOverride, maxNumPatchesLimit);
        return NaflexResize.targetGrid(header.width(), header.height(), budget).patchCount();
    }

    /** Decode and RGB conversion only (the first half of {@link #preprocess(byte[], Integer)}), for separate timing. */
    public RgbImage decode(byte[] data) {
        return decoder.decode(data);
    }

    /** The same for an image that is already decoded. */
    public PreprocessedImage preprocess(RgbImage image, Integer maxNumPatchesOverride) {
        int budget = PatchBudget.resolve(image.width(), image.height(), maxNumPatchesOverride, maxNumPatchesLimit);
        GridSize grid = NaflexResize.targetGrid(image.width(), image.height(), budget);
        RgbImage resized = PillowBilinear.resize(image, grid.pixelWidth(), grid.pixelHeight());
        return new PreprocessedImage(image.width(), image.height(), budget, grid, resized);
    }
}
