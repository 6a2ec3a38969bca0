package ai.fgclip2.server.pipeline.batch;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/** The batcher's queue (or the decoding room) is at capacity (HTTP 429); {@link #retryAfter()} estimates when it has room again. */
public final class QueueFullException extends RejectedExecutionException {
    private final Duration retryAfter;

    public QueueFullException(String queue, int capacity, Duration retryAfter) {
        this("queue '" + queue + "' is full (" + capacity + " items waiting); retry after " + retryAfter.toMillis() + " ms", retryAfter);
    }

    /** Another bounded resource than a batcher's queue is full (decoding room). */
    public QueueFullException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
