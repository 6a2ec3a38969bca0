package ai.fgclip2.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.server.pipeline.batch.QueueFullException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DecodeBudgetTest {

    @Test
    void theRoomHoldsAtLeastOneImageAtThePixelLimit() {
        DecodeBudget budget = new DecodeBudget(10, 1_000, Duration.ofMillis(50));
        try (DecodeBudget.Lease largest = budget.acquire(1_000, budget.deadlineFromNow())) {
            assertThat(budget.pixelsInUse()).isEqualTo(1_000);
            assertThatThrownBy(() -> budget.acquire(1, budget.deadlineFromNow())).isInstanceOf(QueueFullException.class).hasMessageContaining("max-decoding-pixels");
        }
        assertThat(budget.pixelsInUse()).isZero();
    }

    @Test
    void aRequestWaitsForAllItsImagesUntilOneDeadline() throws Exception {
        DecodeBudget budget = new DecodeBudget(100, 100, Duration.ofSeconds(2));
        long requestDeadline = budget.deadlineFromNow();
        try (DecodeBudget.Lease first = budget.acquire(100, requestDeadline)) {
            Thread.sleep(1_500);
            long before = System.nanoTime();
            assertThatThrownBy(() -> budget.acquire(1, requestDeadline)).isInstanceOf(QueueFullException.class);
            // the second image waits what is left of the request's 2 s (0.5 s), not 2 s of its own
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofMillis(1_200));
        }
    }

    @Test
    void closingTwiceGivesTheRoomBackOnce() {
        DecodeBudget budget = new DecodeBudget(100, 100, Duration.ofMillis(50));
        DecodeBudget.Lease held = budget.acquire(60, budget.deadlineFromNow());
        DecodeBudget.Lease other = budget.acquire(40, budget.deadlineFromNow());
        held.close();
        held.close();
        assertThat(budget.pixelsInUse()).isEqualTo(40);
        other.close();
        assertThat(budget.pixelsInUse()).isZero();
    }

    @Test
    void aSmallImageTakesFreeRoomPastALargeOneWaitingAndTheLargeOneGetsItsTurn() throws Exception {
        DecodeBudget budget = new DecodeBudget(100, 100, Duration.ofSeconds(30));
        DecodeBudget.Lease running = budget.acquire(70, budget.deadlineFromNow());
        AtomicReference<Thread> waiter = new AtomicReference<>();
        CompletableFuture<DecodeBudget.Lease> large = CompletableFuture.supplyAsync(() -> {
            waiter.set(Thread.currentThread());
            return budget.acquire(80, budget.deadlineFromNow());
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (waiter.get() == null || waiter.get().getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime()).as("the large image is waiting").isLessThan(deadline);
            Thread.sleep(5);
        }
        try (DecodeBudget.Lease small = budget.acquire(20, budget.deadlineFromNow())) {
            assertThat(budget.pixelsInUse()).isEqualTo(90);
            assertThat(large).isNotDone();
        }
        running.close();
        try (DecodeBudget.Lease largeLease = large.get(10, TimeUnit.SECONDS)) {
            assertThat(budget.pixelsInUse()).isEqualTo(80);
        }
    }
}
