package ai.fgclip2.server.assembly;

import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.clip.ClipPipeline;
import ai.fgclip2.server.clip.DenseSimilarity;
import ai.fgclip2.server.clip.DetectionRescorer;
import ai.fgclip2.server.clip.Embeddings;
import ai.fgclip2.server.clip.InputChecks;
import ai.fgclip2.server.clip.Limits;
import ai.fgclip2.server.clip.Ranker;
import ai.fgclip2.server.clip.RegionClassifier;
import ai.fgclip2.server.clip.SiglipScores;
import ai.fgclip2.server.clip.Vocabularies;
import ai.fgclip2.server.clip.Vocabulary;
import ai.fgclip2.server.clip.VocabularyBuilder;
import ai.fgclip2.server.clip.ZeroShotClassifier;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.DecodeBudget;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.RegionEncoder;
import ai.fgclip2.server.pipeline.TextEncoder;
import ai.fgclip2.server.pipeline.batch.BatcherConfig;
import ai.fgclip2.server.pipeline.batch.TraceSpans;
import ai.fgclip2.server.pipeline.image.ImagePreprocessor;
import ai.fgclip2.server.pipeline.text.TextEmbeddingCache;
import ai.fgclip2.server.pipeline.text.TextTokenizer;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The pipeline and the use cases over one engine, without Spring: the server's configuration and the offline
 * commands assemble them the same way through this class.
 */
public final class ClipServices implements AutoCloseable {

    /** The batching knobs ({@code fgclip2.batching.*}). */
    public record Batching(int textMaxBatch, int imageMaxBatch, Duration maxWait, int queueCapacity) {
    }

    /**
     * @param textCacheEntries  label/template embedding cache size
     * @param maxImagePixels    width x height an image may have
     * @param maxDecodingPixels declared pixels decoding at once over all requests (DecodeBudget)
     * @param vocabularyDir     where registered vocabularies are persisted
     */
    public record Settings(Batching batching, Limits limits, long maxImagePixels, long maxDecodingPixels, int textCacheEntries, Path vocabularyDir) {
    }

    private final InferenceEngine engine;
    private final TextTokenizer tokenizer;
    private final TextEmbeddingCache textCache;
    private final ImagePreprocessor preprocessor;
    private final DecodeBudget decodeBudget;
    private final TextEncoder texts;
    private final ImageEncoder images;
    private final ClipPipeline pipeline;
    private final Vocabularies vocabularies;

    /** Without tracing: offline commands. The engine stays the caller's to close. */
    public ClipServices(InferenceEngine engine, Settings settings, MeterRegistry registry) {
        this(engine, settings, registry, TraceSpans.NONE);
    }

    /** @param spans records decode, queue-wait and inference spans in each request's trace */
    public ClipServices(InferenceEngine engine, Settings settings, MeterRegistry registry, TraceSpans spans) {
        this.engine = engine;
        Manifest manifest = engine.model().manifest();
        try {
            this.tokenizer = new TextTokenizer(engine.model().tokenizer(), manifest.textLengths().shortLength(), manifest.textLengths().longLength());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the tokenizer", e);
        }
        this.textCache = new TextEmbeddingCache(settings.textCacheEntries(), "text-embeddings", registry);
        this.preprocessor = new ImagePreprocessor(settings.maxImagePixels(), settings.limits().maxNumPatches());
        Batching batching = settings.batching();
        this.texts = new TextEncoder(tokenizer, engine, textCache, new BatcherConfig("text", batching.textMaxBatch(), batching.maxWait(), batching.queueCapacity(), 1),
                registry, spans);
        this.decodeBudget = new DecodeBudget(settings.maxDecodingPixels(), settings.maxImagePixels(), settings.limits().inferenceDeadline());
        this.images = new ImageEncoder(preprocessor, decodeBudget, engine, new BatcherConfig("image", batching.imageMaxBatch(), batching.maxWait(), batching.queueCapacity(), 1),
                registry, spans);
        Manifest.Scores scores = manifest.scores();
        this.pipeline = new ClipPipeline(texts, images, new RegionEncoder(images, engine), new InputChecks(settings.limits()),
                new SiglipScores(scores.logitScale(), scores.logitBias()), engine);
        this.vocabularies = new Vocabularies(new VocabularyBuilder(pipeline, modelKey(engine)), pipeline.checks(), settings.vocabularyDir());
    }

    /** The key registered vocabularies are valid for: the model's revision and precision. */
    public static Vocabulary.ModelKey modelKey(InferenceEngine engine) {
        return new Vocabulary.ModelKey(engine.model().id(), engine.model().revision(), engine.model().manifest().precision());
    }

    public InferenceEngine engine() {
        return engine;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public TextEmbeddingCache textCache() {
        return textCache;
    }

    public ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    public DecodeBudget decodeBudget() {
        return decodeBudget;
    }

    public TextEncoder texts() {
        return texts;
    }

    public ImageEncoder images() {
        return images;
    }

    public ClipPipeline pipeline() {
        return pipeline;
    }

    public Vocabularies vocabularies() {
        return vocabularies;
    }

    public Embeddings embeddings() {
        return new Embeddings(pipeline);
    }

    public ZeroShotClassifier zeroShotClassifier() {
        return new ZeroShotClassifier(pipeline, vocabularies);
    }

    public Ranker ranker() {
        return new Ranker(pipeline);
    }

    public RegionClassifier regionClassifier() {
        return new RegionClassifier(pipeline, vocabularies);
    }

    public DetectionRescorer detectionRescorer() {
        return new DetectionRescorer(pipeline, vocabularies);
    }

    public DenseSimilarity denseSimilarity() {
        return new DenseSimilarity(pipeline);
    }

    @Override
    public void close() {
        vocabularies.close();
        texts.close();
        images.close();
        tokenizer.close();
    }
}
