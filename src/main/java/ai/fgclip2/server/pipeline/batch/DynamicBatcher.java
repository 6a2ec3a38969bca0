package ai.fgclip2.server.pipeline.batch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Cross-request batching for model inference. Items queue per batch key (only items with equal keys can
 * share a tensor, such as texts of length 64 and 196); a worker takes a batch when a key has
 * {@code maxBatchSize} items or when the oldest queued item has waited {@code maxWait}, oldest first.
 *
 * <p>When a batch fails, its items are retried one by one, so only the items that fail on their own fail.
 * An item whose future is already done (cancelled by a caller that gave up) is dropped when its batch is
 * formed. Futures complete on a worker thread: callers should chain heavy work with the {@code *Async}
 * methods.
 *
 * <p>Metrics, tagged {@code queue=<name>}: timer {@code fgclip2.queue.wait} (submission to batch start),
 * summary {@code fgclip2.batch.size} (items per processor call, single retries included), gauge
 * {@code fgclip2.queue.depth}, counter {@code fgclip2.queue.rejected} (submissions refused when full).
 */
public final class DynamicBatcher<I, R> implements AutoCloseable {
    private static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);
    /** Weight of the newest batch in the running mean of batch durations used for retry-after estimates. */
    private static final double DURATION_SMOOTHING = 0.2;

    private final BatcherConfig config;
    private final Function<? super I, ?> batchKey;
    private final BatchProcessor<I, R> processor;
    private final long maxWaitNanos;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Pending items per batch key; a key is removed when its queue empties. Guarded by {@code lock}. */
    private final Map<Object, ArrayDeque<Pending<I, R>>> queues = new LinkedHashMap<>();
    private volatile int depth;
    private boolean closed;
    /** Running mean of processor call durations; workers update it without a lock since it only feeds an estimate. */
    private volatile double meanBatchNanos = Double.NaN;

    private final List<Thread> workers = new ArrayList<>();
    private final MeterRegistry registry;
    private final Timer queueWait;
    private final DistributionSummary batchSize;
    private final Counter rejected;
    private final Gauge queueDepth;

    private record Pending<I, R>(I item, CompletableFuture<R> future, long enqueuedNanos) {
    }

    /**
     * @param batchKey  items with equal keys (by {@code equals}) may share a batch
     * @param processor runs on the worker threads
     */
    public DynamicBatcher(BatcherConfig config, Function<? super I, ?> batchKey, BatchProcessor<I, R> processor, MeterRegistry registry) {
        this.config = Objects.requireNonNull(config);
        this.batchKey = Objects.requireNonNull(batchKey);
        this.processor = Objects.requireNonNull(processor);
        this.registry = Objects.requireNonNull(registry);
        this.maxWaitNanos = config.maxWait().toNanos();
        String queue = config.name();
        this.queueWait = Timer.builder("fgclip2.queue.wait").description("time from submission to batch start")
                .tag("queue", queue).register(registry);
        this.batchSize = DistributionSummary.builder("fgclip2.batch.size").description("items per model call")
                .tag("queue", queue).register(registry);
        this.rejected = Counter.builder("fgclip2.queue.rejected").description("submissions refused because the queue was full")
                .tag("queue", queue).register(registry);
        this.queueDepth = Gauge.builder("fgclip2.queue.depth", this, DynamicBatcher::queueDepth).description("items waiting for a batch")
                .tag("queue", queue).register(registry);
        for (int i = 0; i < config.workers(); i++) {
            Thread worker = new Thread(this::work, "fgclip2-" + queue + "-batch-" + i);
            worker.setDaemon(true);
            workers.add(worker);
        }
        workers.forEach(Thread::start);
    }

    /**
     * Queues one item.
     *
     * @throws QueueFullException         when {@code queueCapacity} items are already waiting
     * @throws RejectedExecutionException after {@link #shutdown()}
     */
    public CompletableFuture<R> submit(I item) {
        return submitAll(List.of(item)).get(0);
    }

    /**
     * Queues the items of one request together: admitted when the queue is not full, even if they take it past
     * {@code queueCapacity} (a request's size is bounded by the request limits), so a large label set is never
     * refused half-way while small requests still get 429 under load.
     *
     * @throws QueueFullException         when {@code queueCapacity} items are already waiting
     * @throws RejectedExecutionException after {@link #shutdown()}
     */
    public List<CompletableFuture<R>> submitAll(List<I> items) {
        List<Object> keys = items.stream().map(batchKey).map(k -> (Object) k).toList();
        List<CompletableFuture<R>> futures = new ArrayList<>(items.size());
        lock.lock();
        try {
            if (closed) {
                throw new RejectedExecutionException("queue '" + config.name() + "' is shut down");
            }
            if (depth >= config.queueCapacity()) {
                rejected.increment();
                throw new QueueFullException(config.name(), config.queueCapacity(), retryAfter());
            }
            long now = System.nanoTime();
            for (int i = 0; i < items.size(); i++) {
                CompletableFuture<R> future = new CompletableFuture<>();
                queues.computeIfAbsent(keys.get(i), k -> new ArrayDeque<>()).addLast(new Pending<>(items.get(i), future, now));
                futures.add(future);
            }
            depth += items.size();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return futures;
    }

    /** Items waiting for a batch (not counting those being processed). */
    public int queueDepth() {
        return depth;
    }

    /** Refuses new items; the workers finish everything already queued without waiting for batches to fill, then stop. */
    public void shutdown() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the workers have drained the queue after {@link #shutdown()}; false on timeout. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread worker : workers) {
            long remaining = deadline - System.nanoTime();
            if (remaining > 0) {
                TimeUnit.NANOSECONDS.timedJoin(worker, remaining);
            }
            if (worker.isAlive()) {
                return false;
            }
        }
        return true;
    }

    /** {@link #shutdown()}, wait for the queue to drain, and unregister the metrics. */
    @Override
    public void close() {
        shutdown();
        boolean interrupted = false;
        for (Thread worker : workers) {
            while (worker.isAlive()) {
                try {
                    worker.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        // a replacement batcher with the same name must not find this one's gauge still registered
        for (Meter meter : List.of(queueWait, batchSize, rejected, queueDepth)) {
            registry.remove(meter);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Time to work through the queue at the recent batch rate, at least one second. */
    private Duration retryAfter() {
        double perBatch = meanBatchNanos;
        if (Double.isNaN(perBatch)) {
            return MIN_RETRY_AFTER;
        }
        long batchesPerWorker = -Math.floorDiv(-(long) depth, (long) config.maxBatchSize() * config.workers());
        Duration estimate = Duration.ofNanos((long) (batchesPerWorker * perBatch) + maxWaitNanos);
        return estimate.compareTo(MIN_RETRY_AFTER) < 0 ? MIN_RETRY_AFTER : estimate;
    }

    private void work() {
        List<Pending<I, R>> batch;
        while ((batch = nextBatch()) != null) {
            if (!batch.isEmpty()) {
                run(batch);
            }
        }
    }

    /** The next batch to run (possibly empty when all its items were cancelled), or null once shut down and drained. */
    private List<Pending<I, R>> nextBatch() {
        lock.lock();
        try {
            while (true) {
                if (queues.isEmpty()) {
                    if (closed) {
                        return null;
                    }
                    changed.awaitUninterruptibly();
                    continue;
                }
                long now = System.nanoTime();
                ArrayDeque<Pending<I, R>> oldest = null;
                ArrayDeque<Pending<I, R>> full = null;
                long oldestWaited = Long.MIN_VALUE;
                for (ArrayDeque<Pending<I, R>> queue : queues.values()) {
                    long waited = now - queue.peekFirst().enqueuedNanos();
                    if (waited > oldestWaited) {
                        oldestWaited = waited;
                        oldest = queue;
                    }
                    if (full == null && queue.size() >= config.maxBatchSize()) {
                        full = queue;
                    }
                }
                // an expired item goes first, so a key that keeps filling up cannot starve the others
                if (closed || oldestWaited >= maxWaitNanos) {
                    return take(oldest, now);
                }
                if (full != null) {
                    return take(full, now);
                }
                try {
                    changed.awaitNanos(maxWaitNanos - oldestWaited);
                } catch (InterruptedException e) {
                    // workers are never interrupted on purpose; queued callers still need their results
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private List<Pending<I, R>> take(ArrayDeque<Pending<I, R>> queue, long now) {
        List<Pending<I, R>> batch = new ArrayList<>(Math.min(queue.size(), config.maxBatchSize()));
        while (batch.size() < config.maxBatchSize() && !queue.isEmpty()) {
            Pending<I, R> pending = queue.pollFirst();
            depth--;
            if (!pending.future().isDone()) {
                queueWait.record(now - pending.enqueuedNanos(), TimeUnit.NANOSECONDS);
                batch.add(pending);
            }
        }
        if (queue.isEmpty()) {
            queues.values().remove(queue);
        }
        return batch;
    }

    private void run(List<Pending<I, R>> batch) {
        try {
            List<R> results = call(batch);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).future().complete(results.get(i));
            }
        } catch (Throwable batchFailure) {
            if (batch.size() == 1) {
                batch.get(0).future().completeExceptionally(batchFailure);
                return;
            }
            // isolate the failure: each item gets its own result or its own error
            for (Pending<I, R> pending : batch) {
                try {
                    pending.future().complete(call(List.of(pending)).get(0));
                } catch (Throwable itemFailure) {
                    pending.future().completeExceptionally(itemFailure);
                }
            }
        }
    }

    private List<R> call(List<Pending<I, R>> batch) throws Exception {
        List<I> items = new ArrayList<>(batch.size());
        for (Pending<I, R> pending : batch) {
            items.add(pending.item());
        }
        batchSize.record(items.size());
        long start = System.nanoTime();
        List<R> results = processor.process(items);
        if (results == null || results.size() != items.size()) {
            throw new IllegalStateException("queue '" + config.name() + "': processor returned "
                    + (results == null ? "null" : results.size() + " results") + " for " + items.size() + " items");
        }
        long elapsed = System.nanoTime() - start;
        double mean = meanBatchNanos;
        meanBatchNanos = Double.isNaN(mean) ? elapsed : mean + DURATION_SMOOTHING * (elapsed - mean);
        return results;
    }
}
