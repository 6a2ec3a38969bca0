package ai.fgclip2.offline;

import ai.fgclip2.server.assembly.ClipServices;
import ai.fgclip2.server.clip.Limits;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.ModelLocator;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.pipeline.DecodeBudget;
import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The model options the offline commands share, and the same engine, pipeline and use cases the server runs,
 * in this process (no HTTP).
 */
final class OfflineModel {
    /**
     * Offline inputs are files the user controls: the request limits of a public server do not apply, and an
     * image (or a vocabulary build step) may wait for inference as long as it takes on a slow machine.
     */
    static final Limits LIMITS = new Limits(1024, 4096, 100_000, 10_000_000, 100_000, 4096, 32, Duration.ofHours(1), Long.MAX_VALUE, Integer.MAX_VALUE, 1_000_000);

    @Option(names = "--model-dir", description = "An exported model (manifest.json) or a Hugging Face checkpoint folder; unset = the built-in demo model.")
    Path modelDir;

    @Option(names = "--precision", defaultValue = "fp32", description = "Precision when exporting a checkpoint: fp32, fp16 or int8 (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--cache-dir", defaultValue = "${java.io.tmpdir}/fgclip2-cache",
            description = "Where checkpoints are exported and registered vocabularies kept, as the server's fgclip2.cache.dir (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime threads per graph; 0 = one per core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--provider", defaultValue = "auto", description = "auto (CUDA when it works, else CPU), cuda or cpu (default: ${DEFAULT-VALUE}).")
    String provider;

    /** An engine and the services over it; close both. */
    record Loaded(OnnxEngine engine, ClipServices services) implements AutoCloseable {
        @Override
        public void close() {
            services.close();
            engine.close();
        }
    }

    Loaded load() throws OrtException {
        ModelFiles files = ModelLocator.locate(modelDir, precision, cacheDir);
        EngineSettings settings = new EngineSettings(EngineSettings.Provider.valueOf(provider.toUpperCase(java.util.Locale.ROOT)), threads, 0);
        OnnxEngine engine = new OnnxEngine(files, settings, new SimpleMeterRegistry());
        try {
            ClipServices services = new ClipServices(engine, new ClipServices.Settings(new ClipServices.Batching(32, 8, Duration.ofMillis(2), 1 << 20),
                    LIMITS, 200_000_000L, DecodeBudget.halfOfHeap(), 0, cacheDir.resolve("vocabularies")), new SimpleMeterRegistry());
            System.err.printf("model %s (revision %s, %s) on %s%s%n", files.id(), files.revision(), files.manifest().precision(), engine.provider(),
                    files.demo() ? " [DEMO MODEL, UNTRAINED]" : "");
            return new Loaded(engine, services);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }
}
