package ai.fgclip2.server.pipeline.image;

/** How many patches an image may use (FG-CLIP 2's data-adaptive resolution). */
public final class PatchBudget {
    private PatchBudget() {
    }

    /**
     * The official bucket rule, from the original size: {@code n = (W/16)*(H/16)} with integer division, then
     * 1024 if n > 784, 784 if n > 576, 576 if n > 256, 256 if n > 128, else 128.
     */
    public static int forImage(int width, int height) {
        long n = (long) (width / GridSize.PATCH_SIZE) * (height / GridSize.PATCH_SIZE);
        if (n > 784) {
            return 1024;
        }
        if (n > 576) {
            return 784;
        }
        if (n > 256) {
            return 576;
        }
        if (n > 128) {
            return 256;
        }
        return 128;
    }

    /**
     * The budget for one request: the caller's override when given (it must be positive and at most
     * {@code maxAllowed}), otherwise {@link #forImage}.
     */
    public static int resolve(int width, int height, Integer override, int maxAllowed) {
        if (override == null) {
            return forImage(width, height);
        }
        if (override <= 0 || override > maxAllowed) {
            throw new InvalidPatchBudgetException(override, maxAllowed);
        }
        return override;
    }
}
