package ai.fgclip2.server.pipeline.batch;

/** An item's request passed its deadline while the item waited for a batch; it was dropped before inference. */
public final class DeadlineExceededException extends RuntimeException {
    public DeadlineExceededException(String queue) {
        super("the request's deadline passed while its items waited in queue '" + queue + "'");
    }
}
