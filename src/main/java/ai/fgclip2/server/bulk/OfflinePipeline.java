package ai.fgclip2.server.bulk;

import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.clip.ClipPipeline;
import ai.fgclip2.server.clip.Gallery;
import ai.fgclip2.server.clip.InputChecks;
import ai.fgclip2.server.clip.SiglipScores;
import ai.fgclip2.server.config.Fgclip2Properties;
import ai.fgclip2.server.config.GalleryConfiguration;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.ModelLocator;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.RegionEncoder;
import ai.fgclip2.server.pipeline.TextEncoder;
import ai.fgclip2.server.pipeline.batch.BatcherConfig;
import ai.fgclip2.server.pipeline.image.ImagePreprocessor;
import ai.fgclip2.server.pipeline.text.TextEmbeddingCache;
import ai.fgclip2.server.pipeline.text.TextTokenizer;
import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * The gallery without Spring or HTTP, wired as {@code ModelConfiguration} and {@code GalleryConfiguration} wire it
 * (no warm-up, no label cache): for the bulk job and its benchmark.
 */
public final class OfflinePipeline implements AutoCloseable {
    public final ModelFiles files;
    public final ClipPipeline pipeline;
    public final Gallery gallery;
    private final InferenceEngine engine;
    private final TextTokenizer tokenizer;
    private final TextEncoder texts;
    private final ImageEncoder images;
    private final GalleryIndex index;

    public OfflinePipeline(Fgclip2Properties settings) throws OrtException, IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        files = ModelLocator.locate(settings.model().dir(), settings.model().precision(), settings.cache().dir());
        Fgclip2Properties.Engine e = settings.engine();
        Fgclip2Properties.Batching b = settings.batching();
        Fgclip2Properties.Limits l = settings.limits();
        Manifest manifest = files.manifest();
        engine = new OnnxEngine(files, new EngineSettings(e.provider(), e.intraOpThreads(), e.cudaDevice()), registry);
        tokenizer = new TextTokenizer(files.tokenizer(), manifest.textLengths().shortLength(), manifest.textLengths().longLength());
        texts = new TextEncoder(tokenizer, engine, new TextEmbeddingCache(0, "text-embeddings", registry),
                new BatcherConfig("text", b.textMaxBatch(), b.maxWait(), b.queueCapacity(), 1), registry);
        images = new ImageEncoder(new ImagePreprocessor(l.maxImagePixels(), l.maxNumPatches()), engine,
                new BatcherConfig("image", b.imageMaxBatch(), b.maxWait(), b.queueCapacity(), 1), registry);
        pipeline = new ClipPipeline(texts, images, new RegionEncoder(images, engine),
                new InputChecks(l.clipLimits()),
                new SiglipScores(manifest.scores().logitScale(), manifest.scores().logitBias()));
        index = GalleryConfiguration.galleryIndex(settings.index(), settings.cache().dir());
        gallery = GalleryConfiguration.gallery(pipeline, index, engine, settings.index());
    }

    /**
     * The server's {@code fgclip2.*} properties with their defaults, from {@code --fgclip2.x=y} arguments, system
     * properties and environment variables (FGCLIP2_MODEL_DIR), as the server reads them.
     */
    public static Fgclip2Properties properties(List<String> arguments) {
        Map<String, Object> given = new LinkedHashMap<>();
        for (String argument : arguments) {
            int equals = argument.indexOf('=');
            if (!argument.startsWith("--fgclip2.") || equals < 0) {
                throw new IllegalArgumentException("Unknown option '" + argument + "'; server properties are given as --fgclip2.name=value");
            }
            given.put(argument.substring(2, equals), argument.substring(equals + 1));
        }
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("arguments", given));
        return Binder.get(environment).bindOrCreate("fgclip2", Fgclip2Properties.class);
    }

    @Override
    public void close() {
        index.close();
        images.close();
        texts.close();
        tokenizer.close();
        engine.close();
    }
}
