package ai.fgclip2.server.pipeline.image;

import java.nio.FloatBuffer;

/**
 * Normalises a resized image and cuts it into flattened patches, the layout of the vision tower's
 * {@code pixel_values}: patch {@code r * cols + c} (row-major), and inside a patch the
 * {@code 16 * 16 * 3 = 768} values ordered (py, px, channel).
 */
public final class Patchifier {
    public static final int VALUES_PER_PATCH = GridSize.PATCH_SIZE * GridSize.PATCH_SIZE * 3;

    /** One patch row: 16 pixels of 3 channels, contiguous both in the image row and in the patch. */
    private static final int PATCH_ROW_VALUES = GridSize.PATCH_SIZE * 3;

    /** {@code (v/255 - 0.5)/0.5} in float32 for every byte value, as the reference rescales then normalises. */
    private static final float[] NORMALISED = new float[256];

    static {
        for (int v = 0; v < 256; v++) {
            float rescaled = (float) (v / 255.0);
            NORMALISED[v] = (rescaled - 0.5f) / 0.5f;
        }
    }

    private Patchifier() {
    }

    /** The grid an image of whole patches is cut into. */
    public static GridSize gridOf(RgbImage resized) {
        if (resized.width() % GridSize.PATCH_SIZE != 0 || resized.height() % GridSize.PATCH_SIZE != 0) {
            throw new IllegalArgumentException("image size " + resized.width() + "x" + resized.height()
                    + " is not a multiple of the patch size " + GridSize.PATCH_SIZE);
        }
        return new GridSize(resized.height() / GridSize.PATCH_SIZE, resized.width() / GridSize.PATCH_SIZE);
    }

    /**
     * Writes {@code rows * cols * 768} floats at the buffer's position and advances it (relative bulk puts,
     * so a direct buffer backing an ONNX tensor is filled in place).
     */
    public static void write(RgbImage resized, FloatBuffer out) {
        GridSize grid = gridOf(resized);
        int needed = grid.patchCount() * VALUES_PER_PATCH;
        if (out.remaining() < needed) {
            throw new IllegalArgumentException("buffer has " + out.remaining() + " floats left, the patches need " + needed);
        }
        float[] patchRow = new float[PATCH_ROW_VALUES];
        forEachPatchRow(resized, grid, (src, offset) -> {
            for (int i = 0; i < PATCH_ROW_VALUES; i++) {
                patchRow[i] = NORMALISED[src[offset + i] & 0xff];
            }
            out.put(patchRow);
        });
    }

    /** Writes {@code rows * cols * 768} floats into {@code out} starting at {@code offset}. */
    public static void write(RgbImage resized, float[] out, int offset) {
        GridSize grid = gridOf(resized);
        int needed = grid.patchCount() * VALUES_PER_PATCH;
        if (offset < 0 || out.length - offset < needed) {
            throw new IllegalArgumentException("array has " + (out.length - offset) + " floats after offset " + offset
                    + ", the patches need " + needed);
        }
        int[] position = {offset};
        forEachPatchRow(resized, grid, (src, from) -> {
            int o = position[0];
            for (int i = 0; i < PATCH_ROW_VALUES; i++) {
                out[o + i] = NORMALISED[src[from + i] & 0xff];
            }
            position[0] = o + PATCH_ROW_VALUES;
        });
    }

    private interface PatchRowSink {
        void accept(byte[] pixels, int offset);
    }

    /** Visits the 48-byte patch rows in output order: patch by patch (row-major), then py inside the patch. */
    private static void forEachPatchRow(RgbImage image, GridSize grid, PatchRowSink sink) {
        byte[] pixels = image.pixels();
        int stride = image.width() * 3;
        for (int r = 0; r < grid.rows(); r++) {
            for (int c = 0; c < grid.cols(); c++) {
                int patchStart = r * GridSize.PATCH_SIZE * stride + c * PATCH_ROW_VALUES;
                for (int py = 0; py < GridSize.PATCH_SIZE; py++) {
                    sink.accept(pixels, patchStart + py * stride);
                }
            }
        }
    }
}
