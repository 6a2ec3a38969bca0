package ai.fgclip2.server.pipeline.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {
    /** Long enough that no test relies on it expiring; draining on shutdown must not wait for it either. */
    private static final Duration NEVER = Duration.ofHours(1);
    private static final long TIMEOUT_SECONDS = 30;

    private record Job(String key, int value) {
    }

    /** Records every batch; the first call can be held until {@link #release} so the queue fills behind it. */
    private static final class RecordingProcessor implements BatchProcessor<Job, Integer> {
        final List<List<Job>> batches = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch firstStarted = new CountDownLatch(1);
        final CountDownLatch release;
        final int failingValue;

        RecordingProcessor(boolean holdFirst, int failingValue) {
            this.release = new CountDownLatch(holdFirst ? 1 : 0);
            this.failingValue = failingValue;
        }

        @Override
        public List<Integer> process(List<Job> items) throws Exception {
            batches.add(List.copyOf(items));
            firstStarted.countDown();
            assertThat(release.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            if (items.stream().anyMatch(job -> job.value() == failingValue)) {
                throw new IllegalArgumentException("bad item in batch of " + items.size());
            }
            return items.stream().map(job -> job.value() * 10).toList();
        }

        List<Integer> sizes() {
            synchronized (batches) {
                return batches.stream().map(List::size).toList();
            }
        }
    }

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private DynamicBatcher<Job, Integer> batcher;

    private DynamicBatcher<Job, Integer> start(RecordingProcessor processor, int maxBatch, Duration maxWait, int capacity, int workers) {
        batcher = new DynamicBatcher<>(new BatcherConfig("text", maxBatch, maxWait, capacity, workers), Job::key, processor, registry);
        return batcher;
    }

    /**
     * Holds the single worker inside its first batch: a full batch of key "first", since with maxWait
     * {@link #NEVER} only a full batch starts before shutdown.
     */
    private List<CompletableFuture<Integer>> occupyWorker(RecordingProcessor processor, int maxBatch) throws InterruptedException {
        List<CompletableFuture<Integer>> first = new ArrayList<>();
        for (int i = 0; i < maxBatch; i++) {
            first.add(batcher.submit(new Job("first", -1)));
        }
        assertThat(processor.firstStarted.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        return first;
    }

    @AfterEach
    void stop() {
        if (batcher != null) {
            batcher.close();
        }
    }

    private static int await(CompletableFuture<Integer> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void concurrentSubmissionsShareOneBatch() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(false, Integer.MIN_VALUE);
        start(processor, 8, NEVER, 100, 1);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<CompletableFuture<Integer>>> submissions = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int value = i;
                submissions.add(CompletableFuture.supplyAsync(() -> batcher.submit(new Job("short", value)), clients));
            }
            for (int i = 0; i < 8; i++) {
                assertThat(await(submissions.get(i).get(TIMEOUT_SECONDS, TimeUnit.SECONDS))).isEqualTo(i * 10);
            }
        } finally {
            clients.shutdownNow();
        }
        // the batch only runs once full (maxWait never expires), so all eight went in one call
        assertThat(processor.sizes()).containsExactly(8);
        assertThat(registry.get("fgclip2.batch.size").tag("queue", "text").summary().max()).isEqualTo(8);
        assertThat(registry.get("fgclip2.queue.wait").tag("queue", "text").timer().count()).isEqualTo(8);
    }

    @Test
    void manyClientsAndWorkersGetEveryResultOnce() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(false, Integer.MIN_VALUE);
        start(processor, 16, Duration.ofMillis(1), 1000, 2);
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<CompletableFuture<Integer>>> submissions = new ArrayList<>();
            for (int i = 0; i < 800; i++) {
                int value = i;
                submissions.add(CompletableFuture.supplyAsync(() -> batcher.submit(new Job(value % 3 == 0 ? "long" : "short", value)), clients));
            }
            for (int i = 0; i < submissions.size(); i++) {
                assertThat(await(submissions.get(i).get(TIMEOUT_SECONDS, TimeUnit.SECONDS))).isEqualTo(i * 10);
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(processor.sizes()).allSatisfy(size -> assertThat(size).isBetween(1, 16));
        assertThat(processor.sizes().stream().mapToInt(Integer::intValue).sum()).isEqualTo(800);
        for (List<Job> batch : processor.batches) {
            assertThat(batch).extracting(Job::key).containsOnly(batch.get(0).key());
        }
    }

    @Test
    void itemsWithDifferentKeysNeverShareABatch() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(false, Integer.MIN_VALUE);
        start(processor, 3, NEVER, 100, 1);
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            futures.add(batcher.submit(new Job(i % 2 == 0 ? "short" : "long", i)));
        }
        for (int i = 0; i < 6; i++) {
            assertThat(await(futures.get(i))).isEqualTo(i * 10);
        }
        assertThat(processor.sizes()).containsExactly(3, 3);
        for (List<Job> batch : processor.batches) {
            assertThat(batch).extracting(Job::key).containsOnly(batch.get(0).key());
        }
    }

    @Test
    void batchesNeverExceedTheMaximum() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 4, NEVER, 100, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 4);
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futures.add(batcher.submit(new Job("short", i)));
        }
        assertThat(batcher.queueDepth()).isEqualTo(10);
        assertThat(registry.get("fgclip2.queue.depth").tag("queue", "text").gauge().value()).isEqualTo(10);
        processor.release.countDown();
        await(first.get(0));
        for (int i = 0; i < 8; i++) {
            assertThat(await(futures.get(i))).isEqualTo(i * 10);
        }
        batcher.shutdown(); // the last two never fill a batch: shutting down runs them now
        assertThat(await(futures.get(9))).isEqualTo(90);
        assertThat(processor.sizes()).containsExactly(4, 4, 4, 2);
    }

    @Test
    void aLoneItemRunsAfterMaxWait() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(false, Integer.MIN_VALUE);
        start(processor, 8, Duration.ofMillis(20), 100, 2);
        assertThat(await(batcher.submit(new Job("short", 7)))).isEqualTo(70);
        assertThat(processor.sizes()).containsExactly(1);
    }

    @Test
    void oneRequestsItemsAreAdmittedTogetherPastCapacityButNotIntoAFullQueue() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 2, NEVER, 2, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 2);
        List<CompletableFuture<Integer>> admitted = batcher.submitAll(List.of(new Job("short", 1), new Job("short", 2), new Job("short", 3)));
        assertThat(batcher.queueDepth()).isEqualTo(3);
        assertThatThrownBy(() -> batcher.submitAll(List.of(new Job("short", 4)))).isInstanceOf(QueueFullException.class);
        processor.release.countDown();
        await(first.get(0));
        batcher.shutdown();
        assertThat(admitted.stream().map(f -> {
            try {
                return await(f);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList()).containsExactly(10, 20, 30);
    }

    @Test
    void aFullQueueRejectsWithRetryAfter() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 2, NEVER, 2, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 2);
        CompletableFuture<Integer> a = batcher.submit(new Job("short", 1));
        CompletableFuture<Integer> b = batcher.submit(new Job("short", 2));
        assertThatThrownBy(() -> batcher.submit(new Job("short", 3)))
                .isInstanceOfSatisfying(QueueFullException.class, e -> assertThat(e.retryAfter()).isGreaterThanOrEqualTo(Duration.ofSeconds(1)));
        assertThat(registry.get("fgclip2.queue.rejected").tag("queue", "text").counter().count()).isEqualTo(1);
        processor.release.countDown();
        await(first.get(0));
        batcher.shutdown();
        assertThat(await(a)).isEqualTo(10);
        assertThat(await(b)).isEqualTo(20);
    }

    @Test
    void aFailingItemFailsAloneAndTheRestOfItsBatchSucceeds() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(false, 2);
        start(processor, 4, NEVER, 100, 1);
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            futures.add(batcher.submit(new Job("short", i)));
        }
        assertThat(await(futures.get(0))).isEqualTo(0);
        assertThat(await(futures.get(1))).isEqualTo(10);
        assertThatThrownBy(() -> await(futures.get(2))).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("bad item in batch of 1");
        assertThat(await(futures.get(3))).isEqualTo(30);
        assertThat(processor.sizes()).containsExactly(4, 1, 1, 1, 1);
    }

    @Test
    void aProcessorReturningTheWrongNumberOfResultsFailsItsItems() throws Exception {
        batcher = new DynamicBatcher<>(new BatcherConfig("text", 2, NEVER, 10, 1), Job::key, items -> List.of(), registry);
        CompletableFuture<Integer> a = batcher.submit(new Job("short", 1));
        CompletableFuture<Integer> b = batcher.submit(new Job("short", 2));
        for (CompletableFuture<Integer> f : List.of(a, b)) {
            assertThatThrownBy(() -> await(f)).cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("0 results for 1 items");
        }
    }

    @Test
    void shutdownDrainsQueuedItemsAndRejectsNewOnes() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 4, NEVER, 100, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 4);
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(batcher.submit(new Job(i < 3 ? "short" : "long", i)));
        }
        batcher.shutdown();
        assertThatThrownBy(() -> batcher.submit(new Job("short", 9)))
                .isInstanceOf(RejectedExecutionException.class).isNotInstanceOf(QueueFullException.class);
        assertThat(batcher.awaitTermination(Duration.ZERO)).isFalse();
        processor.release.countDown();
        assertThat(batcher.awaitTermination(Duration.ofSeconds(TIMEOUT_SECONDS))).isTrue();
        assertThat(first).allSatisfy(f -> assertThat(f).isCompletedWithValue(-10));
        for (int i = 0; i < 5; i++) {
            assertThat(futures.get(i)).isCompletedWithValue(i * 10);
        }
        assertThat(processor.sizes()).containsExactly(4, 3, 2);
        assertThat(batcher.queueDepth()).isZero();
    }

    @Test
    void cancelledItemsAreNotProcessed() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 4, NEVER, 100, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 4);
        CompletableFuture<Integer> cancelled = batcher.submit(new Job("short", 1));
        CompletableFuture<Integer> kept = batcher.submit(new Job("short", 2));
        cancelled.cancel(false);
        processor.release.countDown();
        await(first.get(0));
        batcher.shutdown();
        assertThat(await(kept)).isEqualTo(20);
        assertThat(processor.batches).extracting(batch -> batch.get(0).value()).containsExactly(-1, 2);
    }

    @Test
    void closeUnregistersTheMetersSoAReplacementCanRegister() {
        RecordingProcessor processor = new RecordingProcessor(false, Integer.MIN_VALUE);
        start(processor, 4, NEVER, 100, 1).close();
        assertThat(registry.find("fgclip2.queue.depth").gauges()).isEmpty();
        batcher = new DynamicBatcher<>(new BatcherConfig("text", 4, NEVER, 100, 1), Job::key, processor, registry);
        assertThat(registry.get("fgclip2.queue.depth").tag("queue", "text").gauge().value()).isZero();
    }

    @Test
    void invalidConfigurationIsRejected() {
        assertThatThrownBy(() -> new BatcherConfig("text", 0, NEVER, 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BatcherConfig("text", 1, Duration.ofMillis(-1), 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BatcherConfig(" ", 1, NEVER, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A large request queued first shares the next batch with a small one queued after it, one item each in turn. */
    @Test
    void aLargeRequestSharesEveryBatchWithTheSmallOnesBehindIt() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 4, NEVER, 100, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 4);
        List<Job> large = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            large.add(new Job("short", 100 + i));
        }
        List<CompletableFuture<Integer>> bulk = batcher.submitAll(large);
        CompletableFuture<Integer> small = batcher.submit(new Job("short", 7));
        processor.release.countDown();
        assertThat(await(small)).isEqualTo(70);
        await(first.get(0));
        batcher.shutdown(); // the last partial batch runs at shutdown (maxWait never expires)
        for (CompletableFuture<Integer> item : bulk) {
            await(item);
        }
        // batch 0 held the worker; batch 1 is the first formed after both requests queued
        assertThat(processor.batches.get(1)).contains(new Job("short", 7));
        assertThat(processor.batches.get(1)).hasSize(4);
    }

    /** A request counts one batch at most against the capacity, so a huge request leaves room for small ones. */
    @Test
    void admissionCountsARequestAtMostOneBatch() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 4, NEVER, 10, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 4);
        List<Job> large = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            large.add(new Job("short", i));
        }
        batcher.submitAll(large);
        batcher.submitAll(List.of(new Job("short", 1), new Job("short", 2), new Job("short", 3), new Job("short", 4)));
        assertThat(batcher.queueDepth()).isEqualTo(1004);
        // pressure: min(1000, 4) + min(4, 4) = 8 of 10, so two more single items fit and the next does not
        CompletableFuture<Integer> ninth = batcher.submit(new Job("short", 5));
        CompletableFuture<Integer> tenth = batcher.submit(new Job("short", 6));
        assertThatThrownBy(() -> batcher.submit(new Job("short", 7))).isInstanceOf(QueueFullException.class);
        processor.release.countDown();
        await(first.get(0));
        assertThat(await(ninth)).isEqualTo(50);
        assertThat(await(tenth)).isEqualTo(60);
    }

    /** Room taken in one batcher is given back when the request is refused by another, so nothing is half-queued. */
    @Test
    void aReleasedReservationGivesItsRoomBack() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 2, NEVER, 2, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 2);
        DynamicBatcher.Reservation held = batcher.reserve(5, Long.MAX_VALUE);
        assertThatThrownBy(() -> batcher.reserve(1, Long.MAX_VALUE)).isInstanceOf(QueueFullException.class);
        held.release();
        held.release();
        DynamicBatcher.Reservation again = batcher.reserve(1, Long.MAX_VALUE);
        List<CompletableFuture<Integer>> queued = batcher.submitAll(List.of(new Job("short", 3)), again);
        assertThat(batcher.queueDepth()).isEqualTo(1);
        assertThatThrownBy(() -> batcher.submitAll(List.of(new Job("short", 4)), again)).isInstanceOf(IllegalStateException.class);
        processor.release.countDown();
        await(first.get(0));
        batcher.shutdown();
        assertThat(await(queued.get(0))).isEqualTo(30);
    }

    /** Items whose request's deadline passed while they waited are dropped before the processor sees them. */
    @Test
    void itemsPastTheirDeadlineAreDroppedBeforeInference() throws Exception {
        RecordingProcessor processor = new RecordingProcessor(true, Integer.MIN_VALUE);
        start(processor, 2, NEVER, 10, 1);
        List<CompletableFuture<Integer>> first = occupyWorker(processor, 2);
        long soon = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        List<CompletableFuture<Integer>> late = batcher.submitAll(List.of(new Job("short", 1), new Job("short", 2)), batcher.reserve(2, soon));
        CompletableFuture<Integer> onTime = batcher.submit(new Job("short", 3));
        Thread.sleep(100);
        processor.release.countDown();
        await(first.get(0));
        batcher.shutdown();
        assertThat(await(onTime)).isEqualTo(30);
        for (CompletableFuture<Integer> item : late) {
            assertThatThrownBy(() -> await(item)).hasCauseInstanceOf(DeadlineExceededException.class);
        }
        assertThat(processor.batches).noneMatch(batch -> batch.contains(new Job("short", 1)) || batch.contains(new Job("short", 2)));
        assertThat(registry.get("fgclip2.queue.expired").tag("queue", "text").counter().count()).isEqualTo(2);
    }
}
