package ai.fgclip2.server.config;

import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.backends.ModelFiles;
import ai.fgclip2.server.backends.ModelLocator;
import ai.fgclip2.server.backends.OnnxEngine;
import ai.fgclip2.server.core.ImageEncoder;
import ai.fgclip2.server.core.TextEncoder;
import ai.fgclip2.server.core.batch.BatcherConfig;
import ai.fgclip2.server.core.image.ImagePreprocessor;
import ai.fgclip2.server.core.image.PreprocessedImage;
import ai.fgclip2.server.core.image.RgbImage;
import ai.fgclip2.server.core.text.TextEmbeddingCache;
import ai.fgclip2.server.core.text.TextTokenizer;
import ai.fgclip2.server.core.text.TextWalk;
import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Wires the pipeline: model files -> ONNX Runtime engine -> tokenizer, preprocessor and batchers. Everything is
 * created and warmed up while the context starts, so readiness (published after startup) means "can serve".
 */
@Configuration(proxyBeanMethods = false)
public class ModelConfiguration {
    private static final Logger log = LoggerFactory.getLogger(ModelConfiguration.class);

    @Bean(destroyMethod = "close")
    OnnxEngine onnxEngine(Fgclip2Properties properties, MeterRegistry registry) throws OrtException {
        ModelFiles files = ModelLocator.locate(properties.model(), properties.cache().dir());
        OnnxEngine engine = new OnnxEngine(files, properties.engine(), registry);
        Manifest manifest = files.manifest();
        log.info("Serving {} (revision {}, {}, {} dimensions) on {}{}", files.id(), files.revision(), manifest.precision(),
                manifest.dimensions().projectionSize(), engine.provider(), files.demo() ? " [DEMO MODEL, UNTRAINED]" : "");
        return engine;
    }

    @Bean(destroyMethod = "close")
    TextTokenizer textTokenizer(OnnxEngine engine) throws IOException {
        Manifest.TextLengths lengths = engine.model().manifest().textLengths();
        return new TextTokenizer(engine.model().tokenizer(), lengths.shortLength(), lengths.longLength());
    }

    @Bean
    TextEmbeddingCache textEmbeddingCache(Fgclip2Properties properties, MeterRegistry registry) {
        return new TextEmbeddingCache(properties.cache().textEmbeddings(), "text-embeddings", registry);
    }

    @Bean
    ImagePreprocessor imagePreprocessor(Fgclip2Properties properties) {
        return new ImagePreprocessor(properties.limits().maxImagePixels(), properties.limits().maxNumPatches());
    }

    @Bean(destroyMethod = "close")
    TextEncoder textEncoder(TextTokenizer tokenizer, OnnxEngine engine, TextEmbeddingCache cache, Fgclip2Properties properties, MeterRegistry registry) {
        Fgclip2Properties.Batching batching = properties.batching();
        TextEncoder encoder = new TextEncoder(tokenizer, engine, cache,
                new BatcherConfig("text", batching.textMaxBatch(), batching.maxWait(), batching.queueCapacity(), 1), registry);
        if (properties.engine().warmup()) {
            long start = System.nanoTime();
            // Uncached texts so the warm-up really runs both text lengths through the graph.
            encoder.encode("warm-up " + System.nanoTime(), TextWalk.SHORT).join();
            encoder.encode("warm-up " + System.nanoTime(), TextWalk.LONG).join();
            log.info("Text graph warmed up in {} ms", (System.nanoTime() - start) / 1_000_000);
        }
        return encoder;
    }

    @Bean(destroyMethod = "close")
    ImageEncoder imageEncoder(ImagePreprocessor preprocessor, OnnxEngine engine, Fgclip2Properties properties, MeterRegistry registry) throws OrtException {
        Fgclip2Properties.Batching batching = properties.batching();
        ImageEncoder encoder = new ImageEncoder(preprocessor, engine,
                new BatcherConfig("image", batching.imageMaxBatch(), batching.maxWait(), batching.queueCapacity(), 1), registry);
        if (properties.engine().warmup()) {
            long start = System.nanoTime();
            int side = 256;
            PreprocessedImage image = preprocessor.preprocess(new RgbImage(side, side, new byte[side * side * 3]), null);
            ImageEncoder.EncodedImage encoded = encoder.encode(image, true).join();
            engine.regions(encoded.hiddenState(), image.grid().rows(), image.grid().cols(), side, side, new float[][] {{0, 0, side, side}});
            log.info("Vision and region graphs warmed up in {} ms", (System.nanoTime() - start) / 1_000_000);
        }
        return encoder;
    }

    /** {@code /actuator/health} details: what is served and on which provider (CUDA fallback shows here). */
    @Bean
    HealthIndicator modelHealthIndicator(OnnxEngine engine, TextEncoder textEncoder, ImageEncoder imageEncoder) {
        return () -> {
            ModelFiles files = engine.model();
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("id", files.id());
            details.put("revision", files.revision());
            details.put("variant", files.manifest().variant());
            details.put("precision", files.manifest().precision());
            details.put("provider", engine.provider());
            if (engine.providerFallback() != null) {
                details.put("providerFallback", engine.providerFallback());
            }
            details.put("demo", files.demo());
            details.put("textQueueDepth", textEncoder.queueDepth());
            details.put("imageQueueDepth", imageEncoder.queueDepth());
            return Health.up().withDetails(details).build();
        };
    }
}
