package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.pipeline.batch.DynamicBatcher.Reservation;
import java.time.Duration;

/**
 * One request's room in the text and image queues, taken together before any of its items is queued (so a request
 * is never refused half-way), and its deadline: items still queued when it passes are dropped before inference.
 * Closing it gives back whatever was not submitted, e.g. when a later check refuses the request.
 */
public final class Admission implements AutoCloseable {
    private final TextEncoder textEncoder;
    private Reservation texts;
    private final Reservation images;
    private final long deadlineNanos;

    private Admission(TextEncoder textEncoder, Reservation texts, Reservation images, long deadlineNanos) {
        this.textEncoder = textEncoder;
        this.texts = texts;
        this.images = images;
        this.deadlineNanos = deadlineNanos;
    }

    /**
     * Room for {@code textItems} texts and {@code imageItems} images, or a QueueFullException and no room at all.
     *
     * @param timeout how long the request's results are worth waiting for
     */
    public static Admission of(TextEncoder textEncoder, int textItems, ImageEncoder imageEncoder, int imageItems, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Reservation texts = textItems > 0 ? textEncoder.reserve(textItems, deadline) : null;
        try {
            Reservation images = imageItems > 0 ? imageEncoder.reserve(imageItems, deadline) : null;
            return new Admission(textEncoder, texts, images, deadline);
        } catch (RuntimeException e) {
            if (texts != null) {
                texts.release();
            }
            throw e;
        }
    }

    /**
     * The text room; taken now when none was reserved, which happens only when cached texts the request counted on
     * were evicted after it was admitted.
     */
    synchronized Reservation texts(int items) {
        if (texts == null) {
            texts = textEncoder.reserve(items, deadlineNanos);
        }
        return texts;
    }

    Reservation images() {
        if (images == null) {
            throw new IllegalStateException("this request reserved no room for images");
        }
        return images;
    }

    /** Time left until the deadline (zero or negative once passed). */
    public Duration remaining() {
        return Duration.ofNanos(deadlineNanos - System.nanoTime());
    }

    @Override
    public synchronized void close() {
        if (texts != null) {
            texts.release();
        }
        if (images != null) {
            images.release();
        }
    }
}
