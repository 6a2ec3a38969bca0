package ai.fgclip2.server.pipeline.batch;

import java.time.Duration;

/**
 * @param name          the queue's name, the {@code queue} tag of its metrics and part of its thread names
 * @param maxBatchSize  most items per processor call
 * @param maxWait       how long the oldest queued item may wait for a batch to fill before it runs anyway
 * @param queueCapacity most items waiting (not yet taken by a worker); more are rejected
 * @param workers       threads taking batches; each runs one processor call at a time
 */
public record BatcherConfig(String name, int maxBatchSize, Duration maxWait, int queueCapacity, int workers) {

    public BatcherConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a batcher needs a name");
        }
        if (maxBatchSize < 1 || queueCapacity < 1 || workers < 1) {
            throw new IllegalArgumentException("maxBatchSize, queueCapacity and workers must be positive: "
                    + maxBatchSize + ", " + queueCapacity + ", " + workers);
        }
        if (maxWait == null || maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must be zero or positive: " + maxWait);
        }
    }
}
