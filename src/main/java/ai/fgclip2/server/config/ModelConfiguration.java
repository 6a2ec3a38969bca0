package ai.fgclip2.server.config;

import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.clip.ClipPipeline;
import ai.fgclip2.server.clip.DenseSimilarity;
import ai.fgclip2.server.clip.DetectionRescorer;
import ai.fgclip2.server.clip.Embeddings;
import ai.fgclip2.server.clip.InputChecks;
import ai.fgclip2.server.clip.Ranker;
import ai.fgclip2.server.clip.Vocabularies;
import ai.fgclip2.server.assembly.ClipServices;
import ai.fgclip2.server.clip.RegionClassifier;
import ai.fgclip2.server.clip.Warmup;
import ai.fgclip2.server.clip.ZeroShotClassifier;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.ModelLocator;
import ai.fgclip2.server.engine.QuantizationAgreement;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.TextEncoder;
import ai.fgclip2.server.pipeline.batch.TraceSpans;
import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Wires the layers: model files -> ONNX Runtime engine (the engine port) -> pipeline (tokenizer, preprocessor,
 * batching encoders) -> use cases. The only place that maps {@link Fgclip2Properties} onto the settings records
 * of the layers below. Warm-up runs as an application runner, so readiness (published after the runners) means
 * "can serve".
 */
@Configuration(proxyBeanMethods = false)
public class ModelConfiguration {
    private static final Logger log = LoggerFactory.getLogger(ModelConfiguration.class);

    @Bean(destroyMethod = "close")
    InferenceEngine inferenceEngine(Fgclip2Properties properties, MeterRegistry registry) throws OrtException {
        ModelFiles files = ModelLocator.locate(properties.model().dir(), properties.model().precision(), properties.cache().dir());
        Fgclip2Properties.Engine engine = properties.engine();
        OnnxEngine onnx = new OnnxEngine(files, new EngineSettings(engine.provider(), engine.intraOpThreads(), engine.cudaDevice()), registry);
        Manifest manifest = files.manifest();
        log.info("Serving {} (revision {}, {}, {} dimensions) on {}{}", files.id(), files.revision(), manifest.precision(),
                manifest.dimensions().projectionSize(), onnx.provider(), files.demo() ? " [DEMO MODEL, UNTRAINED]" : "");
        QuantizationAgreement agreement = onnx.quantizationAgreement();
        if (agreement != null) {
            Fgclip2Properties.Model model = properties.model();
            log.info("int8 agreement with float32: {}", agreement.summary());
            if (!agreement.passes(model.int8MinCosine(), model.int8MinCentredCosine())) {
                onnx.close();
                throw new IllegalStateException(String.format(java.util.Locale.ROOT, "the int8 model agrees too little with float32 (cosine %.5f, centred "
                        + "cosine %.5f; required %.5f and %.5f by fgclip2.model.int8-min-cosine and int8-min-centred-cosine). Serve it in fp32, or "
                        + "re-export with --float-layers for the layers that quantize badly.", agreement.minCosine(), agreement.minCentredCosine(),
                        model.int8MinCosine(), model.int8MinCentredCosine()));
            }
        }
        return onnx;
    }

    /** The pipeline and use cases, assembled as the offline commands assemble them. */
    @Bean(destroyMethod = "close")
    ClipServices clipServices(InferenceEngine engine, Fgclip2Properties properties, MeterRegistry registry, TraceSpans spans) {
        Fgclip2Properties.Batching batching = properties.batching();
        Fgclip2Properties.Limits limits = properties.limits();
        return new ClipServices(engine, new ClipServices.Settings(
                new ClipServices.Batching(batching.textMaxBatch(), batching.imageMaxBatch(), batching.maxWait(), batching.queueCapacity()),
                limits.clipLimits(), limits.maxImagePixels(), limits.decodingPixels(), properties.cache().textEmbeddings(), properties.cache().vocabularyDir()), registry, spans);
    }

    /** Spans in each request's trace, exported over OTLP only when an endpoint is configured (README, Observability). */
    @Bean
    TraceSpans traceSpans(ObjectProvider<OpenTelemetry> openTelemetry) {
        OpenTelemetry otel = openTelemetry.getIfAvailable();
        return otel == null ? TraceSpans.NONE : new TraceSpans(otel.getTracer("fgclip2-server"));
    }

    @Bean(destroyMethod = "")
    TextEncoder textEncoder(ClipServices services) {
        return services.texts();
    }

    @Bean(destroyMethod = "")
    ImageEncoder imageEncoder(ClipServices services) {
        return services.images();
    }

    @Bean
    InputChecks inputChecks(ClipServices services) {
        return services.pipeline().checks();
    }

    @Bean
    ClipPipeline clipPipeline(ClipServices services) {
        return services.pipeline();
    }

    @Bean(destroyMethod = "")
    Vocabularies vocabularies(ClipServices services) {
        return services.vocabularies();
    }

    @Bean
    Embeddings embeddings(ClipServices services) {
        return services.embeddings();
    }

    @Bean
    ZeroShotClassifier zeroShotClassifier(ClipServices services) {
        return services.zeroShotClassifier();
    }

    @Bean
    Ranker ranker(ClipServices services) {
        return services.ranker();
    }

    @Bean
    RegionClassifier regionClassifier(ClipServices services) {
        return services.regionClassifier();
    }

    @Bean
    DetectionRescorer detectionRescorer(ClipServices services) {
        return services.detectionRescorer();
    }

    @Bean
    DenseSimilarity denseSimilarity(ClipServices services) {
        return services.denseSimilarity();
    }

    /** Every graph once before the service reports ready (the runners finish before readiness is published). */
    @Bean
    ApplicationRunner warmup(ClipServices services, Fgclip2Properties properties) {
        return arguments -> {
            if (properties.engine().warmup()) {
                Warmup.Timings timings = new Warmup(services.pipeline(), services.preprocessor()).run();
                log.info("Warmed up: text graph {} ms, vision and region graphs {} ms", timings.textMillis(), timings.imageMillis());
            }
        };
    }
}
