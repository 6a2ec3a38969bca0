package ai.fgclip2.server.config;

import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.pipeline.DecodeBudget;
import java.nio.file.Path;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/** Every knob of the service, prefix {@code fgclip2}; the README lists them with their defaults. */
@ConfigurationProperties("fgclip2")
public record Fgclip2Properties(
        @DefaultValue Model model,
        @DefaultValue Engine engine,
        @DefaultValue Batching batching,
        @DefaultValue Limits limits,
        @DefaultValue Cache cache,
        @DefaultValue Security security,
        @DefaultValue Index index) {

    /**
     * @param dir                  an exported model (manifest.json) or a Hugging Face checkpoint folder; unset = built-in demo model
     * @param precision            precision used when this service exports a checkpoint itself: fp32, fp16 or int8
     * @param int8MinCosine        an int8 model must reach this worst-case cosine with float32 on its canonical inputs, or the service does not start
     * @param int8MinCentredCosine the same for the cosine after removing the mean embedding
     */
    public record Model(Path dir, @DefaultValue("fp32") String precision, @DefaultValue("0.999") double int8MinCosine,
                        @DefaultValue("0.97") double int8MinCentredCosine) {
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
     *
     * @param maxRequestBytes         body bytes of one request, whatever its transfer encoding (multipart included)
     * @param requestReadTimeout      time from the end of the headers until the whole body has arrived (408 after it)
     * @param maxBufferedRequestBytes body bytes buffered for all requests together (429 beyond it)
     * @param maxDecodingPixels       declared pixels decoding at once in this process; unset = half the heap at
     *                                {@value DecodeBudget#BYTES_PER_PIXEL} bytes a pixel (images wait for room, 429 after the deadline)
     */
    public record Limits(@DefaultValue("67108864") long maxRequestBytes, @DefaultValue("60s") Duration requestReadTimeout,
                         @DefaultValue("268435456") long maxBufferedRequestBytes, @DefaultValue("64") int maxItems,
                         @DefaultValue("4096") int maxTextChars, @DefaultValue("2048") int maxLabels, @DefaultValue("65536") int maxPrompts,
                         @DefaultValue("256") int maxBoxes, @DefaultValue("40000000") long maxImagePixels, @DefaultValue("4096") int maxNumPatches,
                         @DefaultValue("32") int maxDenseTexts, @DefaultValue("300s") Duration inferenceDeadline,
                         @DefaultValue("160000000") long maxRequestPixels, @DefaultValue("65536") int maxRequestPatches,
                         @DefaultValue("10000") int maxDetections, Long maxDecodingPixels) {

        public long decodingPixels() {
            return maxDecodingPixels != null ? maxDecodingPixels : DecodeBudget.halfOfHeap();
        }

        /** The limits the use cases enforce, whatever the front end (HTTP, offline jobs). */
        public ai.fgclip2.server.clip.Limits clipLimits() {
            return new ai.fgclip2.server.clip.Limits(maxItems, maxTextChars, maxLabels, maxPrompts, maxBoxes, maxNumPatches, maxDenseTexts,
                    inferenceDeadline, maxRequestPixels, maxRequestPatches, maxDetections);
        }
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

    /**
     * @param apiKeys accepted API keys (Authorization: Bearer KEY or X-API-Key: KEY); empty = no authentication
     * @param cors    cross-origin access for browsers; off while no origin is allowed
     */
    public record Security(@DefaultValue("") List<String> apiKeys, @DefaultValue Cors cors) {
    }

    /**
     * @param allowedOrigins origins allowed to call the API from a browser ("*" for any); empty = CORS off
     * @param allowedMethods methods allowed in cross-origin requests
     * @param allowedHeaders request headers allowed in cross-origin requests
     * @param maxAge         how long a browser may cache a preflight answer
     */
    public record Cors(@DefaultValue("") List<String> allowedOrigins, @DefaultValue({"GET", "POST", "PUT", "DELETE"}) List<String> allowedMethods,
                       @DefaultValue({"Content-Type", "Authorization", "X-API-Key"}) List<String> allowedHeaders,
                       @DefaultValue("30m") Duration maxAge) {
    }

    /**
     * The gallery index behind {@code /v1/collections}.
     *
     * @param backend        lucene (embedded, under {@code dir}) or elasticsearch
     * @param dir            where the embedded index keeps its collections; unset = {@code <cache.dir>/index}
     * @param quantize       new collections search int8 scalar-quantized vectors (the top candidates are rescored exactly)
     * @param numCandidates  candidates a search explores (and rescores); more = better recall, slower
     * @param maxWindow      the deepest hit a search may page to (offset + topK)
     * @param maxConnections HNSW graph degree (Lucene maxConn, Elasticsearch m)
     * @param beamWidth      HNSW construction beam (Lucene beamWidth, Elasticsearch ef_construction)
     * @param searchThreads  Lucene: segments one search walks at once (each has its own graph); unset = one per core
     */
    public record Index(@DefaultValue("lucene") Backend backend, Path dir, @DefaultValue("false") boolean quantize,
                        @DefaultValue("1500") int numCandidates, @DefaultValue("1000") int maxWindow,
                        @DefaultValue("32") int maxConnections, @DefaultValue("200") int beamWidth,
                        @DefaultValue Elasticsearch elasticsearch, Integer searchThreads) {
        public enum Backend { LUCENE, ELASTICSEARCH }

        /** Lucene: segments one search walks at once; unset = one per core. */
        public int luceneSearchThreads() {
            return searchThreads != null ? searchThreads : Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * @param urls          cluster endpoints, tried in order (http or https)
     * @param apiKey        sent as {@code Authorization: ApiKey <apiKey>} (the encoded id:key Elasticsearch returns); unset = none
     * @param caCertificate PEM file of the CA that signed the cluster's certificate; unset = the JVM's trust store
     * @param indexPrefix   prefix of the Elasticsearch index of each collection
     * @param timeout       per request
     */
    public record Elasticsearch(@DefaultValue("http://127.0.0.1:9200") List<URI> urls, String apiKey, Path caCertificate,
                                @DefaultValue("fgclip2-") String indexPrefix, @DefaultValue("30s") Duration timeout) {
    }
}
