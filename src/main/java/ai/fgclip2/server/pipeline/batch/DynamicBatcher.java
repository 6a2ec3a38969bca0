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
 * <p><b>Fairness.</b> Each request's items form a {@link Reservation}; a batch takes items round-robin across the
 * requests waiting on its key, so a request of 65,536 prompts shares every batch with the small requests that
 * arrive after it instead of running ahead of them. Admission counts a request at most one batch
 * ({@code min(items, maxBatchSize)}): that is how many batches a newly admitted item waits for at most under
 * round-robin. A request is admitted whole while that pressure is below {@code queueCapacity}, refused whole
 * otherwise ({@link QueueFullException}); callers that feed two batchers reserve both before submitting to either.
 *
 * <p><b>Deadlines.</b> An item whose reservation's deadline has passed, or whose future is already done (a caller
 * that gave up cancelled it), is dropped when its batch is formed, before inference.
 *
 * <p>When a batch fails, its items are retried one by one, so only the items that fail on their own fail.
 * Futures complete on a worker thread: callers should chain heavy work with the {@code *Async} methods.
 *
 * <p>Metrics, tagged {@code queue=<name>}: timer {@code fgclip2.queue.wait} (submission to batch start),
 * summary {@code fgclip2.batch.size} (items per processor call, single retries included), gauge
 * {@code fgclip2.queue.depth}, counter {@code fgclip2.queue.rejected} (requests refused when full), counter
 * {@code fgclip2.queue.expired} (items dropped at their deadline).
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
    /** Per batch key, the requests with items of that key, in round-robin order. Guarded by {@code lock}. */
    private final Map<Object, ArrayDeque<Share<I, R>>> queues = new LinkedHashMap<>();
    private volatile int depth;
    /** Sum over open reservations of min(items not yet taken or reserved, maxBatchSize). Guarded by {@code lock}. */
    private int pressure;
    private boolean closed;
    /** Running mean of processor call durations; workers update it without a lock since it only feeds an estimate. */
    private volatile double meanBatchNanos = Double.NaN;

    private final List<Thread> workers = new ArrayList<>();
    private final MeterRegistry registry;
    private final Timer queueWait;
    private final DistributionSummary batchSize;
    private final Counter rejected;
    private final Counter expired;
    private final Gauge queueDepth;

    private record Pending<I, R>(I item, CompletableFuture<R> future, long enqueuedNanos) {
    }

    /** One reservation's items of one batch key. */
    private record Share<I, R>(Reservation reservation, ArrayDeque<Pending<I, R>> items) {
    }

    /**
     * Room for one request's items in one batcher, taken before any of them is queued. Submit with
     * {@link #submitAll(List, Reservation)} (once) or {@link #release()} it.
     */
    public static final class Reservation {
        private final DynamicBatcher<?, ?> owner;
        private final long deadlineNanos;
        /** Items reserved but not yet submitted, or submitted but not yet taken by a worker. Guarded by the owner's lock. */
        private int outstanding;
        private boolean submitted;

        private Reservation(DynamicBatcher<?, ?> owner, int items, long deadlineNanos) {
            this.owner = owner;
            this.outstanding = items;
            this.deadlineNanos = deadlineNanos;
        }

        /** Gives the room back unless it was submitted. Idempotent. */
        public void release() {
            owner.release(this);
        }

        boolean expired(long now) {
            return now - deadlineNanos > 0;
        }
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
        this.rejected = Counter.builder("fgclip2.queue.rejected").description("requests refused because the queue was full")
                .tag("queue", queue).register(registry);
        this.expired = Counter.builder("fgclip2.queue.expired").description("items dropped because their request's deadline passed")
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

    /** Queues one item with no deadline. */
    public CompletableFuture<R> submit(I item) {
        return submitAll(List.of(item)).get(0);
    }

    /** Reserves and queues one request's items, with no deadline. */
    public List<CompletableFuture<R>> submitAll(List<I> items) {
        return submitAll(items, reserve(items.size(), Long.MAX_VALUE));
    }

    /**
     * Room for {@code items} items of one request whose results are worthless after {@code deadlineNanos}
     * ({@link System#nanoTime()} scale; {@code Long.MAX_VALUE} for none).
     *
     * @throws QueueFullException         when the queue's pressure has reached {@code queueCapacity}
     * @throws RejectedExecutionException after {@link #shutdown()}
     */
    public Reservation reserve(int items, long deadlineNanos) {
        lock.lock();
        try {
            if (closed) {
                throw new RejectedExecutionException("queue '" + config.name() + "' is shut down");
            }
            if (pressure >= config.queueCapacity()) {
                rejected.increment();
                throw new QueueFullException(config.name(), config.queueCapacity(), retryAfter());
            }
            Reservation reservation = new Reservation(this, items, deadlineNanos == Long.MAX_VALUE ? System.nanoTime() + Long.MAX_VALUE / 2 : deadlineNanos);
            pressure += share(items);
            return reservation;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues the items of a reservation. Never refused for capacity: the room was taken by {@link #reserve}
     * (fewer items give the rest back; more, as when a cached text was evicted meanwhile, are taken on).
     *
     * @throws RejectedExecutionException after {@link #shutdown()}
     */
    public List<CompletableFuture<R>> submitAll(List<I> items, Reservation reservation) {
        List<Object> keys = items.stream().map(batchKey).map(k -> (Object) k).toList();
        List<CompletableFuture<R>> futures = new ArrayList<>(items.size());
        lock.lock();
        try {
            if (reservation.owner != this || reservation.submitted) {
                throw new IllegalStateException("a reservation takes one submission to the batcher that made it");
            }
            if (closed) {
                reservation.submitted = true;
                resize(reservation, 0);
                throw new RejectedExecutionException("queue '" + config.name() + "' is shut down");
            }
            reservation.submitted = true;
            resize(reservation, items.size());
            long now = System.nanoTime();
            Map<Object, Share<I, R>> shares = new LinkedHashMap<>();
            for (int i = 0; i < items.size(); i++) {
                CompletableFuture<R> future = new CompletableFuture<>();
                Object key = keys.get(i);
                shares.computeIfAbsent(key, k -> {
                    Share<I, R> share = new Share<>(reservation, new ArrayDeque<>());
                    queues.computeIfAbsent(k, q -> new ArrayDeque<>()).addLast(share);
                    return share;
                }).items().addLast(new Pending<>(items.get(i), future, now));
                futures.add(future);
            }
            depth += items.size();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return futures;
    }

    private void release(Reservation reservation) {
        lock.lock();
        try {
            if (!reservation.submitted) {
                reservation.submitted = true;
                resize(reservation, 0);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A request's weight in the admission pressure. */
    private int share(int items) {
        return Math.min(items, config.maxBatchSize());
    }

    /** A reservation now holds {@code items} items (submitted, taken, dropped or given back). Under {@code lock}. */
    private void resize(Reservation reservation, int items) {
        pressure += share(items) - share(reservation.outstanding);
        reservation.outstanding = items;
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
        for (Meter meter : List.of(queueWait, batchSize, rejected, expired, queueDepth)) {
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
        // under round-robin a new item waits about one round: pressure items spread over full batches
        long batchesPerWorker = -Math.floorDiv(-(long) pressure, (long) config.maxBatchSize() * config.workers());
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

    /** The next batch to run (possibly empty when all its items were dropped), or null once shut down and drained. */
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
                ArrayDeque<Share<I, R>> oldest = null;
                ArrayDeque<Share<I, R>> full = null;
                long oldestWaited = Long.MIN_VALUE;
                for (ArrayDeque<Share<I, R>> queue : queues.values()) {
                    int waiting = 0;
                    for (Share<I, R> share : queue) {
                        long waited = now - share.items().peekFirst().enqueuedNanos();
                        if (waited > oldestWaited) {
                            oldestWaited = waited;
                            oldest = queue;
                        }
                        waiting += share.items().size();
                    }
                    if (full == null && waiting >= config.maxBatchSize()) {
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

    /** Up to maxBatchSize items of one key, one per request in turn; a request with items left goes to the back. */
    private List<Pending<I, R>> take(ArrayDeque<Share<I, R>> queue, long now) {
        List<Pending<I, R>> batch = new ArrayList<>(config.maxBatchSize());
        while (batch.size() < config.maxBatchSize() && !queue.isEmpty()) {
            Share<I, R> share = queue.pollFirst();
            Pending<I, R> pending = share.items().pollFirst();
            depth--;
            resize(share.reservation(), share.reservation().outstanding - 1);
            if (!share.items().isEmpty()) {
                queue.addLast(share);
            }
            if (pending.future().isDone()) {
                continue;
            }
            if (share.reservation().expired(now)) {
                expired.increment();
                pending.future().completeExceptionally(new DeadlineExceededException(config.name()));
                continue;
            }
            queueWait.record(now - pending.enqueuedNanos(), TimeUnit.NANOSECONDS);
            batch.add(pending);
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
