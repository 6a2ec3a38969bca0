package ai.fgclip2.server.pipeline.image;

/** A requested {@code max_num_patches} outside 1..maximum; a client error. */
public final class InvalidPatchBudgetException extends IllegalArgumentException {
    private final int requested;
    private final int maximum;

    public InvalidPatchBudgetException(int requested, int maximum) {
        super("max_num_patches must be between 1 and " + maximum + ", got " + requested);
        this.requested = requested;
        this.maximum = maximum;
    }

    public int requested() {
        return requested;
    }

    public int maximum() {
        return maximum;
    }
}
