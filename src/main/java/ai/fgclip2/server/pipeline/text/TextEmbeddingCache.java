package ai.fgclip2.server.pipeline.text;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Bounded cache of text embeddings keyed by (walk, exact text), for labels and prompt templates that
 * recur across requests. Concurrent requests for the same missing text share one computation; a failed
 * computation is not cached. Eviction is Caffeine's size-bounded policy (recency and frequency).
 *
 * <p>Cached arrays are shared between callers and must not be modified.
 *
 * <p>Metrics (Micrometer's Caffeine binder, tagged {@code cache=<name>}): {@code cache.gets} with
 * {@code result=hit|miss}, {@code cache.evictions}, {@code cache.size} and related meters.
 */
public final class TextEmbeddingCache {
    private record Key(TextWalk walk, String text) {
    }

    private final AsyncCache<Key, float[]> cache;

    public TextEmbeddingCache(long maximumSize, String name, MeterRegistry registry) {
        if (maximumSize < 0) {
            throw new IllegalArgumentException("cache size must not be negative: " + maximumSize);
        }
        this.cache = CaffeineCacheMetrics.monitor(registry,
                Caffeine.newBuilder().maximumSize(maximumSize).recordStats().<Key, float[]>buildAsync(), name);
    }

    /**
     * The cached embedding of {@code text} in {@code walk}, or the one {@code compute} produces (then cached).
     *
     * @param walk    the resolved walk the embedding belongs to (not {@link TextWalk#AUTO})
     * @param compute embeds the text; called only on a miss
     */
    public CompletableFuture<float[]> get(TextWalk walk, String text, Function<String, CompletableFuture<float[]>> compute) {
        if (walk == TextWalk.AUTO) {
            throw new IllegalArgumentException("cache embeddings under their resolved walk, not AUTO");
        }
        Objects.requireNonNull(text);
        return cache.get(new Key(walk, text), (key, executor) -> compute.apply(key.text()));
    }

    /** The cached (or in-flight) embedding of {@code text} in {@code walk}, or null: no tokenizing, no computing. */
    public CompletableFuture<float[]> getIfPresent(TextWalk walk, String text) {
        return cache.getIfPresent(new Key(walk, text));
    }

    /** Entries currently held (approximate while evictions are pending). */
    public long estimatedSize() {
        return cache.synchronous().estimatedSize();
    }

    /** Runs pending maintenance such as evictions now. */
    void cleanUp() {
        cache.synchronous().cleanUp();
    }
}
