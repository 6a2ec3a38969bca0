package ai.fgclip2.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.server.pipeline.batch.QueueFullException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DecodeBudgetTest {

    @Test
    void theRoomHoldsAtLeastOneImageAtThePixelLimit() {
        DecodeBudget budget = new DecodeBudget(10, 1_000, Duration.ofMillis(50));
        try (DecodeBudget.Lease largest = budget.acquire(1_000)) {
            assertThat(budget.pixelsInUse()).isEqualTo(1_000);
            assertThatThrownBy(() -> budget.acquire(1)).isInstanceOf(QueueFullException.class).hasMessageContaining("max-decoding-pixels");
        }
        assertThat(budget.pixelsInUse()).isZero();
    }

    @Test
    void closingTwiceGivesTheRoomBackOnce() {
        DecodeBudget budget = new DecodeBudget(100, 100, Duration.ofMillis(50));
        DecodeBudget.Lease held = budget.acquire(60);
        DecodeBudget.Lease other = budget.acquire(40);
        held.close();
        held.close();
        assertThat(budget.pixelsInUse()).isEqualTo(40);
        other.close();
        assertThat(budget.pixelsInUse()).isZero();
    }

    @Test
    void aSmallImageTakesFreeRoomPastALargeOneWaitingAndTheLargeOneGetsItsTurn() throws Exception {
        DecodeBudget budget = new DecodeBudget(100, 100, Duration.ofSeconds(30));
        DecodeBudget.Lease running = budget.acquire(70);
        Thread[] waiter = new Thread[1];
        CompletableFuture<DecodeBudget.Lease> large = CompletableFuture.supplyAsync(() -> {
            waiter[0] = Thread.currentThread();
            return budget.acquire(80);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (waiter[0] == null || waiter[0].getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime()).as("the large image is waiting").isLessThan(deadline);
            Thread.sleep(5);
        }
        try (DecodeBudget.Lease small = budget.acquire(20)) {
            assertThat(budget.pixelsInUse()).isEqualTo(90);
            assertThat(large).isNotDone();
        }
        running.close();
        try (DecodeBudget.Lease largeLease = large.get(10, TimeUnit.SECONDS)) {
            assertThat(budget.pixelsInUse()).isEqualTo(80);
        }
    }
}
