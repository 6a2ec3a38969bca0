package ai.fgclip2.server.bulk;

import ai.fgclip2.server.assembly.ClipServices;
import ai.fgclip2.server.clip.ClipPipeline;
import ai.fgclip2.server.clip.Gallery;
import ai.fgclip2.server.config.Fgclip2Properties;
import ai.fgclip2.server.config.GalleryConfiguration;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.ModelLocator;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.index.GalleryIndex;
import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
    private final ClipServices services;
    private final GalleryIndex index;

    public OfflinePipeline(Fgclip2Properties settings) throws OrtException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        files = ModelLocator.locate(settings.model().dir(), settings.model().precision(), settings.cache().dir());
        Fgclip2Properties.Engine e = settings.engine();
        Fgclip2Properties.Batching b = settings.batching();
        Fgclip2Properties.Limits l = settings.limits();
        engine = new OnnxEngine(files, new EngineSettings(e.provider(), e.intraOpThreads(), e.cudaDevice()), registry);
        // no label cache: a bulk job embeds each text once
        services = new ClipServices(engine, new ClipServices.Settings(new ClipServices.Batching(b.textMaxBatch(), b.imageMaxBatch(), b.maxWait(),
                b.queueCapacity()), l.clipLimits(), l.maxImagePixels(), l.decodingPixels(), 0, settings.cache().vocabularyDir()), registry);
        pipeline = services.pipeline();
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
        services.close();
        engine.close();
    }
}
