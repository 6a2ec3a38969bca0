package ai.fgclip2.server.pipeline;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.batch.BatcherConfig;
import ai.fgclip2.server.pipeline.batch.DynamicBatcher;
import ai.fgclip2.server.pipeline.batch.DynamicBatcher.Reservation;
import ai.fgclip2.server.pipeline.batch.TraceSpans;
import ai.fgclip2.server.pipeline.text.TextEmbeddingCache;
import ai.fgclip2.server.pipeline.text.TextTokenizer;
import ai.fgclip2.server.pipeline.text.TextWalk;
import ai.fgclip2.server.pipeline.text.TokenizedText;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Text -> raw embedding: tokenize (on the caller's thread), look up the label cache, else queue for a
 * cross-request batch of the same walk and run the text graph.
 */
public final class TextEncoder implements AutoCloseable {

    /** @param embedding raw head output (not normalised) */
    public record EncodedText(String text, TextWalk walk, int tokens, boolean truncated, float[] embedding) {
    }

    static final int FULL_BATCHES_TO_TRUST = 3;

    private final TextTokenizer tokenizer;
    private final TextEmbeddingCache cache;
    private final DynamicBatcher<TokenizedText, float[]> batcher;
    private final Timer tokenizeTimer;
    private final int maxBatchSize;
    /** The least time per text any full batch took, and how many full batches ran. */
    private final AtomicLong fastestNanosPerText = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong fullBatches = new AtomicLong();

    public TextEncoder(TextTokenizer tokenizer, InferenceEngine engine, TextEmbeddingCache cache, BatcherConfig batching, MeterRegistry registry) {
        this(tokenizer, engine, cache, batching, registry, TraceSpans.NONE);
    }

    /** @param spans records the batcher's queue-wait and inference spans in each request's trace */
    public TextEncoder(TextTokenizer tokenizer, InferenceEngine engine, TextEmbeddingCache cache, BatcherConfig batching, MeterRegistry registry,
                       TraceSpans spans) {
        this.tokenizer = tokenizer;
        this.cache = cache;
        this.maxBatchSize = batching.maxBatchSize();
        this.batcher = new DynamicBatcher<>(batching, TokenizedText::walk, items -> runBatch(engine, items), registry, spans);
        this.tokenizeTimer = Timer.builder("fgclip2.tokenize").description("Tokenization time per text").register(registry);
    }

    private List<float[]> runBatch(InferenceEngine engine, List<TokenizedText> items) {
        List<long[]> ids = new ArrayList<>(items.size());
        items.forEach(item -> ids.add(item.ids()));
        long start = System.nanoTime();
        List<float[]> embeddings = List.of(engine.text(ids, head(items.get(0).walk())));
        if (items.size() >= maxBatchSize) {
            fastestNanosPerText.accumulateAndGet((System.nanoTime() - start) / items.size(), Math::min);
            fullBatches.incrementAndGet();
        }
        return embeddings;
    }

    /**
     * The least time {@code texts} texts can take on this server: at the fastest rate a full batch has run, whatever
     * its walk. Empty until {@value #FULL_BATCHES_TO_TRUST} full batches have run (a first run at a new batch shape is
     * slower than the rest).
     */
    public Optional<Duration> fastestTime(int texts) {
        return fullBatches.get() < FULL_BATCHES_TO_TRUST ? Optional.empty() : Optional.of(Duration.ofNanos(fastestNanosPerText.get() * texts));
    }

    static InferenceEngine.TextHead head(TextWalk walk) {
        return switch (walk) {
            case SHORT -> InferenceEngine.TextHead.SHORT;
            case BOX -> InferenceEngine.TextHead.BOX;
            case LONG -> InferenceEngine.TextHead.LONG;
            case AUTO -> throw new IllegalArgumentException("the walk must be resolved before inference");
        };
    }

    public TokenizedText tokenize(String text, TextWalk walk) {
        return tokenizeTimer.record(() -> tokenizer.tokenize(text, walk));
    }

    /**
     * Encodes all texts (one walk); completes when every text is done, failing with the first failure. The
     * texts the cache lacks are queued together ({@link DynamicBatcher#submitAll}), so a 1203-label vocabulary
     * is one admission, not 1203 chances to hit a full queue.
     */
    public CompletableFuture<List<EncodedText>> encode(List<String> texts, TextWalk walk, Admission admission) {
        List<TokenizedText> tokens = texts.stream().map(text -> tokenize(text, walk)).toList();
        List<TokenizedText> misses = new ArrayList<>();
        List<CompletableFuture<float[]>> pending = new ArrayList<>();
        List<CompletableFuture<float[]>> embeddings = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            TokenizedText tokenized = tokens.get(i);
            embeddings.add(cache.get(tokenized.walk(), texts.get(i), ignored -> {
                CompletableFuture<float[]> placeholder = new CompletableFuture<>();
                misses.add(tokenized);
                pending.add(placeholder);
                return placeholder;
            }));
        }
        if (!misses.isEmpty()) {
            List<CompletableFuture<float[]>> results;
            try {
                results = batcher.submitAll(misses, admission.texts(misses.size()));
            } catch (RuntimeException e) {
                pending.forEach(placeholder -> placeholder.completeExceptionally(e));
                throw e;
            }
            for (int i = 0; i < results.size(); i++) {
                CompletableFuture<float[]> placeholder = pending.get(i);
                results.get(i).whenComplete((embedding, failure) -> {
                    if (failure != null) {
                        placeholder.completeExceptionally(failure);
                    } else {
                        placeholder.complete(embedding);
                    }
                });
            }
        }
        return CompletableFuture.allOf(embeddings.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<EncodedText> out = new ArrayList<>(texts.size());
            for (int i = 0; i < texts.size(); i++) {
                TokenizedText t = tokens.get(i);
                out.add(new EncodedText(texts.get(i), t.walk(), t.tokens(), t.truncated(), embeddings.get(i).join()));
            }
            return out;
        });
    }

    /** Room in the text queue for one request (see {@link Admission}). */
    Reservation reserve(int items, long deadlineNanos) {
        return batcher.reserve(items, deadlineNanos);
    }

    /** How many of these texts the cache lacks: the room a request of them needs in the text queue. */
    public int uncached(List<String> texts, TextWalk walk) {
        int missing = 0;
        for (String text : texts) {
            // AUTO resolves to SHORT or LONG by token count; without tokenizing, either entry counts as cached
            boolean cached = walk == TextWalk.AUTO
                    ? cache.getIfPresent(TextWalk.SHORT, text) != null || cache.getIfPresent(TextWalk.LONG, text) != null
                    : cache.getIfPresent(walk, text) != null;
            if (!cached) {
                missing++;
            }
        }
        return missing;
    }

    /**
     * Raw embeddings of many texts of one walk, such as a vocabulary's prompts. Texts already in the cache are
     * not even tokenized, so a repeated vocabulary costs only lookups; the rest go through {@link #encode}.
     */
    public CompletableFuture<List<float[]>> embeddings(List<String> texts, TextWalk walk, Admission admission) {
        List<CompletableFuture<float[]>> embeddings = new ArrayList<>(texts.size());
        List<String> missing = new ArrayList<>();
        for (String text : texts) {
            CompletableFuture<float[]> cached = cache.getIfPresent(walk, text);
            embeddings.add(cached);
            if (cached == null) {
                missing.add(text);
            }
        }
        CompletableFuture<List<EncodedText>> computed = missing.isEmpty() ? CompletableFuture.completedFuture(List.of()) : encode(missing, walk, admission);
        return computed.thenCompose(encoded -> {
            int next = 0;
            for (int i = 0; i < embeddings.size(); i++) {
                if (embeddings.get(i) == null) {
                    embeddings.set(i, CompletableFuture.completedFuture(encoded.get(next++).embedding()));
                }
            }
            return CompletableFuture.allOf(embeddings.toArray(CompletableFuture[]::new));
        }).thenApply(done -> embeddings.stream().map(CompletableFuture::join).toList());
    }

    public int queueDepth() {
        return batcher.queueDepth();
    }

    @Override
    public void close() {
        batcher.close();
    }
}
