package ai.fgclip2.server.config;

import ai.fgclip2.server.engine.EngineSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/** Every knob of the service, prefix {@code fgclip2}; the README lists them with their defaults. */
@ConfigurationProperties("fgclip2")
public record Fgclip2Properties(
        @DefaultValue Model model,
        @DefaultValue Engine engine,
        @DefaultValue Batching batching,
        @DefaultValue Limits limits,
        @DefaultValue Cache cache) {

    /**
     * @param dir       an exported model (manifest.json) or a Hugging Face checkpoint folder; unset = built-in demo model
     * @param precision precision used when this service exports a checkpoint itself: fp32 or fp16
     */
    public record Model(Path dir, @DefaultValue("fp32") String precision) {
    }

    /**
     * @param provider       auto tries CUDA and falls back to CPU; cuda fails when CUDA is unavailable
     * @param intraOpThreads ONNX Runtime threads per session; 0 = one per core
     * @param cudaDevice     CUDA device id
     * @param warmup         run every graph once before reporting ready
     */
    public record Engine(@DefaultValue("auto") EngineSettings.Provider provider, @DefaultValue("0") int intraOpThreads,
                         @DefaultValue("0") int cudaDevice, @DefaultValue("true") boolean warmup) {
    }

    public record Batching(@DefaultValue("32") int textMaxBatch, @DefaultValue("8") int imageMaxBatch,
                           @DefaultValue("5ms") Duration maxWait, @DefaultValue("256") int queueCapacity) {
    }

    /**
     * Request limits; a request over any of them gets a 4xx problem response naming the limit.
     */
    public record Limits(@DefaultValue("67108864") long maxRequestBytes, @DefaultValue("64") int maxItems, @DefaultValue("4096") int maxTextChars,
                         @DefaultValue("2048") int maxLabels, @DefaultValue("65536") int maxPrompts, @DefaultValue("256") int maxBoxes,
                         @DefaultValue("40000000") long maxImagePixels, @DefaultValue("4096") int maxNumPatches,
                         @DefaultValue("32") int maxDenseTexts, @DefaultValue("60s") Duration requestTimeout,
                         @DefaultValue("10000") int maxDetections) {
    }

    /**
     * @param dir            where checkpoints and the demo model are exported on first start (keyed by checkpoint digest)
     * @param textEmbeddings entries of the label/template embedding LRU cache (0 disables it)
     * @param vocabularies   where registered vocabularies are kept; unset = {@code <dir>/vocabularies}
     */
    public record Cache(@DefaultValue("${java.io.tmpdir}/fgclip2-cache") Path dir, @DefaultValue("20000") int textEmbeddings, Path vocabularies) {
        public Path vocabularyDir() {
            return vocabularies != null ? vocabularies : dir.resolve("vocabularies");
        }
    }
}
