package ai.fgclip2.server.pipeline.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TextEmbeddingCacheTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<String> computed = new CopyOnWriteArrayList<>();
    private final Function<String, CompletableFuture<float[]>> embed = text -> {
        computed.add(text);
        return CompletableFuture.completedFuture(new float[] {text.length()});
    };

    private double gets(String result) {
        return registry.get("cache.gets").tag("cache", "labels").tag("result", result).functionCounter().count();
    }

    @Test
    void secondLookupIsAHitAndCountsAsOne() {
        TextEmbeddingCache cache = new TextEmbeddingCache(100, "labels", registry);
        float[] first = cache.get(TextWalk.BOX, "cat", embed).join();
        float[] second = cache.get(TextWalk.BOX, "cat", embed).join();
        assertThat(second).isSameAs(first);
        assertThat(computed).containsExactly("cat");
        assertThat(gets("hit")).isEqualTo(1);
        assertThat(gets("miss")).isEqualTo(1);
    }

    @Test
    void getIfPresentAnswersOnlyWhatWasComputed() {
        TextEmbeddingCache cache = new TextEmbeddingCache(100, "labels", registry);
        assertThat(cache.getIfPresent(TextWalk.BOX, "cat")).isNull();
        float[] computed = cache.get(TextWalk.BOX, "cat", embed).join();
        assertThat(cache.getIfPresent(TextWalk.BOX, "cat").join()).isSameAs(computed);
        assertThat(cache.getIfPresent(TextWalk.SHORT, "cat")).isNull();
    }

    @Test
    void walkAndExactTextAreBothPartOfTheKey() {
        TextEmbeddingCache cache = new TextEmbeddingCache(100, "labels", registry);
        cache.get(TextWalk.SHORT, "cat", embed).join();
        cache.get(TextWalk.BOX, "cat", embed).join();
        cache.get(TextWalk.BOX, "Cat", embed).join();
        cache.get(TextWalk.LONG, "cat", embed).join();
        assertThat(computed).containsExactly("cat", "cat", "Cat", "cat");
        assertThat(gets("miss")).isEqualTo(4);
    }

    @Test
    void concurrentMissesShareOneComputation() {
        TextEmbeddingCache cache = new TextEmbeddingCache(100, "labels", registry);
        CompletableFuture<float[]> pending = new CompletableFuture<>();
        Function<String, CompletableFuture<float[]>> slow = text -> {
            computed.add(text);
            return pending;
        };
        CompletableFuture<float[]> a = cache.get(TextWalk.SHORT, "dog", slow);
        CompletableFuture<float[]> b = cache.get(TextWalk.SHORT, "dog", slow);
        pending.complete(new float[] {1});
        assertThat(a.join()).isSameAs(b.join());
        assertThat(computed).containsExactly("dog");
    }

    @Test
    void failuresAreNotCached() {
        TextEmbeddingCache cache = new TextEmbeddingCache(100, "labels", registry);
        CompletableFuture<float[]> failed = cache.get(TextWalk.SHORT, "dog", text -> CompletableFuture.failedFuture(new IllegalStateException("model down")));
        assertThat(failed).isCompletedExceptionally();
        assertThat(cache.get(TextWalk.SHORT, "dog", embed).join()).containsExactly(3);
        assertThat(computed).containsExactly("dog");
    }

    @Test
    void sizeIsBounded() {
        TextEmbeddingCache cache = new TextEmbeddingCache(2, "labels", registry);
        for (String label : List.of("a", "b", "c", "d", "e")) {
            cache.get(TextWalk.SHORT, label, embed).join();
        }
        cache.cleanUp();
        assertThat(cache.estimatedSize()).isEqualTo(2);
        assertThat(registry.get("cache.evictions").tag("cache", "labels").functionCounter().count()).isEqualTo(3);
    }

    @Test
    void autoIsNotAWalkToCacheUnder() {
        TextEmbeddingCache cache = new TextEmbeddingCache(2, "labels", registry);
        assertThatThrownBy(() -> cache.get(TextWalk.AUTO, "cat", embed)).isInstanceOf(IllegalArgumentException.class);
    }
}
