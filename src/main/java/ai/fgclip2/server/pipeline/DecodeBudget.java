package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.pipeline.batch.QueueFullException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Declared pixels being decoded at once in this process (all its requests, or a bulk job). The per-request limits bound one request;
 * this bounds their sum, so that many large images arriving together wait their turn instead of exhausting the
 * heap. Every legal image fits: the capacity is at least {@code max-image-pixels}.
 */
public final class DecodeBudget {
    /**
     * Heap bytes a declared pixel costs while it is decoded and resized: the decoder's raster plus the RGB copy.
     * Measured (bytes allocated per pixel, 12 MP images): JPEG 6.0, 8-bit RGBA PNG 11.0, 16-bit RGB PNG 9.3, 16-bit
     * RGBA PNG 11.4; rounded up.
     */
    public static final int BYTES_PER_PIXEL = 12;

    /**
     * Not fair: an image that finds free room on arrival takes it at once, so a small image is not held behind a
     * large one waiting for a large share. Images that have to wait are served in order.
     */
    private final Semaphore pixels;
    private final int capacity;
    private final Duration maxWait;

    /**
     * @param maxPixels      declared pixels decoding at once; raised to {@code maxImagePixels} when below it
     * @param maxImagePixels the largest image a request may send
     * @param maxWait        how long a request's images wait for room in all before it is refused as overloaded
     */
    public DecodeBudget(long maxPixels, long maxImagePixels, Duration maxWait) {
        this.capacity = (int) Math.min(Integer.MAX_VALUE, Math.max(maxPixels, maxImagePixels));
        this.pixels = new Semaphore(capacity);
        this.maxWait = maxWait;
    }

    /** Half of this JVM's maximum heap, in pixels: with the default limits, two images at the pixel limit at once on a 2.4 GiB heap. */
    public static long halfOfHeap() {
        return Runtime.getRuntime().maxMemory() / 2 / BYTES_PER_PIXEL;
    }

    /** When a request that starts waiting now must have had all its room ({@link System#nanoTime()} scale). */
    public long deadlineFromNow() {
        return System.nanoTime() + maxWait.toNanos();
    }

    /** Room for one image of {@code declaredPixels}, waited for until {@code deadlineNanos} (the request's, for all its images). */
    public Lease acquire(long declaredPixels, long deadlineNanos) {
        int wanted = (int) Math.min(capacity, declaredPixels);
        try {
            if (!pixels.tryAcquire(wanted, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw overloaded();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw overloaded();
        }
        return new Lease(wanted);
    }

    private QueueFullException overloaded() {
        return new QueueFullException("The room for images being decoded at once (" + capacity + " declared pixels, "
                + "fgclip2.limits.max-decoding-pixels) had no space for this request's image within " + maxWait.toSeconds() + " s.", Duration.ofSeconds(1));
    }

    public long pixelsInUse() {
        return capacity - pixels.availablePermits();
    }

    /** An image's room, given back when its decode (and whatever keeps its pixels) is done. */
    public final class Lease implements AutoCloseable {
        private int held;

        private Lease(int held) {
            this.held = held;
        }

        @Override
        public synchronized void close() {
            pixels.release(held);
            held = 0;
        }
    }
}
