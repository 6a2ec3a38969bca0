package ai.fgclip2.server.index.elasticsearch;

import ai.fgclip2.server.index.CollectionMissingException;
import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.index.HnswSettings;
import ai.fgclip2.server.index.IndexException;
import ai.fgclip2.server.index.IndexHit;
import ai.fgclip2.server.index.IndexItem;
import ai.fgclip2.server.index.Metadata;
import ai.fgclip2.server.index.StoredItem;
import ai.fgclip2.server.index.VectorSearch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The scale-out gallery index over Elasticsearch's REST API (plain JDK HTTP client): one index per collection, the
 * image vector as a {@code dense_vector} with dot-product similarity, regions as nested documents with their own
 * vector, metadata under {@code metadata.*} (keyword / double), the collection's spec in the mapping's
 * {@code _meta}. A region search is a kNN query on the nested vector whose inner hit is each image's best region.
 * Writes wait for a refresh (visible on return); Elasticsearch's translog makes each acknowledged bulk request
 * durable, so {@link #commit} has nothing left to do.
 */
public final class ElasticsearchGalleryIndex implements GalleryIndex {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Reply(int status, JsonNode body) {
    }

    private final ElasticsearchSettings settings;
    private final HnswSettings hnsw;
    private final HttpClient client;
    private final Map<String, CollectionSpec> specs = new ConcurrentHashMap<>();

    public ElasticsearchGalleryIndex(ElasticsearchSettings settings, HnswSettings hnsw) {
        this.settings = settings;
        this.hnsw = hnsw;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(settings.timeout());
        if (settings.caCertificate() != null) {
            builder.sslContext(trusting(settings));
        }
        this.client = builder.build();
    }

    private static SSLContext trusting(ElasticsearchSettings settings) {
        try (InputStream pem = Files.newInputStream(settings.caCertificate())) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int n = 0;
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(pem)) {
                trust.setCertificateEntry("ca-" + n++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IndexException("Cannot load the Elasticsearch CA certificate " + settings.caCertificate() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void create(CollectionSpec spec) {
        ObjectNode vectorOptions = JSON.createObjectNode().put("type", spec.quantized() ? "int8_hnsw" : "hnsw")
                .put("m", hnsw.maxConnections()).put("ef_construction", hnsw.beamWidth());
        ObjectNode metadata = JSON.createObjectNode();
        spec.fields().forEach((field, type) -> metadata.putObject(field).put("type", type == CollectionSpec.FieldType.NUMBER ? "double" : "keyword"));
        ObjectNode body = JSON.createObjectNode();
        ObjectNode mappings = body.putObject("mappings");
        mappings.put("dynamic", "strict");
        mappings.putObject("_meta").set("fgclip2", JSON.valueToTree(spec));
        mappings.putObject("_source").putArray("excludes").add("image_vector").add("regions.vector");
        ObjectNode properties = mappings.putObject("properties");
        properties.putObject("id").put("type", "keyword");
        properties.set("image_vector", vector(spec, vectorOptions));
        properties.putObject("metadata").set("properties", metadata);
        ObjectNode regions = properties.putObject("regions").put("type", "nested").putObject("properties");
        regions.set("vector", vector(spec, vectorOptions));
        regions.putObject("box").put("type", "float").put("index", false).put("doc_values", false);
        send("PUT", "/" + index(spec.name()), body, 200);
        specs.put(spec.name(), spec);
    }

    private static ObjectNode vector(CollectionSpec spec, ObjectNode options) {
        ObjectNode vector = JSON.createObjectNode().put("type", "dense_vector").put("dims", spec.dimensions()).put("index", true).put("similarity", "dot_product");
        vector.set("index_options", options);
        return vector;
    }

    @Override
    public Optional<CollectionSpec> describe(String collection) {
        CollectionSpec cached = specs.get(collection);
        if (cached != null) {
            return Optional.of(cached);
        }
        Reply reply = send("GET", "/" + index(collection) + "/_mapping", null, 200, 404);
        if (reply.status() == 404) {
            return Optional.empty();
        }
        Optional<CollectionSpec> spec = specOf(reply.body().path(index(collection)));
        spec.ifPresent(s -> specs.put(collection, s));
        return spec;
    }

    private static Optional<CollectionSpec> specOf(JsonNode indexMapping) {
        JsonNode meta = indexMapping.path("mappings").path("_meta").path("fgclip2");
        try {
            return meta.isMissingNode() ? Optional.empty() : Optional.of(JSON.treeToValue(meta, CollectionSpec.class));
        } catch (IOException e) {
            throw new IndexException("Unreadable collection spec in an Elasticsearch mapping: " + e.getMessage(), e);
        }
    }

    @Override
    public List<CollectionSpec> list() {
        JsonNode all = send("GET", "/" + encode(settings.indexPrefix()) + "*/_mapping", null, 200).body();
        List<CollectionSpec> out = new ArrayList<>();
        for (Iterator<JsonNode> it = all.elements(); it.hasNext(); ) {
            specOf(it.next()).ifPresent(out::add);
        }
        out.sort(java.util.Comparator.comparing(CollectionSpec::name));
        return out;
    }

    @Override
    public void drop(String collection) {
        specs.remove(collection);
        send("DELETE", "/" + index(collection), null, 200, 404);
    }

    @Override
    public void upsert(String collection, List<IndexItem> items) {
        StringBuilder bulk = new StringBuilder();
        for (IndexItem item : items) {
            ObjectNode action = JSON.createObjectNode();
            action.putObject("index").put("_id", item.id());
            ObjectNode doc = JSON.createObjectNode().put("id", item.id());
            doc.set("image_vector", floats(item.embedding()));
            ObjectNode metadata = doc.putObject("metadata");
            item.metadata().keywords().forEach((field, values) -> metadata.set(field, JSON.valueToTree(values)));
            item.metadata().numbers().forEach(metadata::put);
            ArrayNode regions = doc.putArray("regions");
            for (IndexItem.Region region : item.regions()) {
                ObjectNode r = regions.addObject();
                r.set("vector", floats(region.embedding()));
                r.set("box", floats(region.box()));
            }
            bulk.append(action).append('\n').append(doc).append('\n');
        }
        // a bulk request would create a missing index with a guessed mapping: refuse instead when it was dropped elsewhere
        if (send("HEAD", "/" + index(collection), null, 200, 404).status() == 404) {
            specs.remove(collection);
            throw missing(index(collection));
        }
        JsonNode reply = send("POST", "/" + index(collection) + "/_bulk?refresh=wait_for", bulk.toString(), "application/x-ndjson", 200).body();
        if (reply.path("errors").asBoolean()) {
            for (JsonNode entry : reply.path("items")) {
                JsonNode error = entry.path("index").path("error");
                if (!error.isMissingNode()) {
                    throw new IndexException("Elasticsearch refused item '" + entry.path("index").path("_id").asText() + "': " + error.path("reason").asText());
                }
            }
        }
    }

    private static ArrayNode floats(float[] values) {
        ArrayNode array = JSON.createArrayNode();
        for (float v : values) {
            array.add(v);
        }
        return array;
    }

    @Override
    public void commit(String collection) {
        // nothing: each bulk request was fsynced to the translog before it was acknowledged (index.translog.durability=request)
    }

    @Override
    public void optimize(String collection) {
        // a force merge runs for minutes on a large index: the cluster finishes it as a task, past our request timeout
        send("POST", "/" + index(collection) + "/_forcemerge?max_num_segments=1&wait_for_completion=false", (JsonNode) null, 200);
    }

    @Override
    public Optional<StoredItem> get(String collection, String id) {
        Reply reply = send("GET", "/" + index(collection) + "/_doc/" + encode(id), null, 200, 404);
        if (reply.status() == 404 || !reply.body().path("found").asBoolean()) {
            return Optional.empty();
        }
        JsonNode source = reply.body().path("_source");
        List<float[]> boxes = new ArrayList<>();
        for (JsonNode region : source.path("regions")) {
            boxes.add(floatArray(region.path("box")));
        }
        return Optional.of(new StoredItem(id, metadata(source.path("metadata")), boxes));
    }

    @Override
    public boolean delete(String collection, String id) {
        return send("DELETE", "/" + index(collection) + "/_doc/" + encode(id) + "?refresh=wait_for", null, 200, 404).status() == 200;
    }

    @Override
    public long count(String collection) {
        return send("GET", "/" + index(collection) + "/_count", null, 200).body().path("count").asLong();
    }

    @Override
    public Set<String> present(String collection, Collection<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        ObjectNode body = JSON.createObjectNode().put("size", ids.size()).put("_source", false);
        body.putObject("query").putObject("ids").set("values", JSON.valueToTree(ids));
        Set<String> found = new HashSet<>();
        for (JsonNode hit : send("POST", "/" + index(collection) + "/_search", body, 200).body().path("hits").path("hits")) {
            found.add(hit.path("_id").asText());
        }
        return found;
    }

    @Override
    public List<IndexHit> search(String collection, VectorSearch search) {
        boolean regions = search.target() == VectorSearch.Target.REGIONS;
        ObjectNode body = JSON.createObjectNode().put("size", search.window());
        body.putArray("_source").add("id").add("metadata");
        ObjectNode knn = body.putObject("knn").put("field", regions ? "regions.vector" : "image_vector")
                .put("k", search.window()).put("num_candidates", Math.max(search.window(), search.numCandidates()));
        knn.set("query_vector", floats(search.vector()));
        if (describe(collection).map(CollectionSpec::quantized).orElse(false)) {
            // as the embedded index does: the candidates rescored with the float vectors, so scores are exact
            // (Elasticsearch rescores k x oversample of them, oversample at most 10)
            knn.putObject("rescore_vector").put("oversample", Math.min(10.0, Math.max(1.0, search.numCandidates() / (double) search.window())));
        }
        if (!search.filters().isEmpty()) {
            ArrayNode filters = knn.putObject("filter").putObject("bool").putArray("filter");
            for (VectorSearch.Filter filter : search.filters()) {
                if (filter instanceof VectorSearch.KeywordFilter k) {
                    filters.addObject().putObject("terms").set("metadata." + k.field(), JSON.valueToTree(k.anyOf()));
                } else {
                    VectorSearch.RangeFilter r = (VectorSearch.RangeFilter) filter;
                    ObjectNode range = filters.addObject().putObject("range").putObject("metadata." + r.field());
                    if (r.min() != null) {
                        range.put("gte", r.min());
                    }
                    if (r.max() != null) {
                        range.put("lte", r.max());
                    }
                }
            }
        }
        if (regions) {
            knn.putObject("inner_hits").put("size", 1).putArray("_source").add("regions.box");
        }
        List<IndexHit> hits = new ArrayList<>();
        for (JsonNode hit : send("POST", "/" + index(collection) + "/_search", body, 200).body().path("hits").path("hits")) {
            Metadata metadata = metadata(hit.path("_source").path("metadata"));
            IndexHit.RegionMatch region = null;
            if (regions) {
                JsonNode best = hit.path("inner_hits").path("regions.vector").path("hits").path("hits").path(0);
                if (best.isMissingNode()) {
                    best = hit.path("inner_hits").elements().next().path("hits").path("hits").path(0);
                }
                region = new IndexHit.RegionMatch(best.path("_nested").path("offset").asInt(), floatArray(best.path("_source").path("box")),
                        cosine(best.path("_score").asDouble()));
            }
            hits.add(new IndexHit(hit.path("_id").asText(), cosine(hit.path("_score").asDouble()), metadata, region));
        }
        return hits;
    }

    /** Elasticsearch scores dot_product as (1 + dot) / 2 for floats. */
    private static double cosine(double score) {
        return 2 * score - 1;
    }

    private static Metadata metadata(JsonNode node) {
        Map<String, List<String>> keywords = new LinkedHashMap<>();
        Map<String, Double> numbers = new LinkedHashMap<>();
        node.fields().forEachRemaining(field -> {
            JsonNode value = field.getValue();
            if (value.isNumber()) {
                numbers.put(field.getKey(), value.asDouble());
            } else {
                List<String> values = new ArrayList<>();
                (value.isArray() ? value : JSON.createArrayNode().add(value)).forEach(v -> values.add(v.asText()));
                keywords.put(field.getKey(), values);
            }
        });
        return new Metadata(keywords, numbers);
    }

    private static float[] floatArray(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    private String index(String collection) {
        return settings.indexPrefix() + collection;
    }

    private static CollectionMissingException missing(String index) {
        return new CollectionMissingException("The collection's index " + index + " no longer exists on the cluster.");
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private Reply send(String method, String path, JsonNode body, int... expected) {
        return send(method, path, body == null ? null : body.toString(), "application/json", expected);
    }

    /** The first endpoint that answers; an answer outside {@code expected} is an {@link IndexException} with ES's reason. */
    private Reply send(String method, String path, String body, String contentType, int... expected) {
        IOException last = null;
        for (URI url : settings.urls()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(url.resolve(path)).timeout(settings.timeout())
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                request.header("Content-Type", contentType);
            }
            if (settings.apiKey() != null && !settings.apiKey().isBlank()) {
                request.header("Authorization", "ApiKey " + settings.apiKey());
            }
            HttpResponse<String> response;
            try {
                response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                last = e;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IndexException("Interrupted while calling Elasticsearch", e);
            }
            JsonNode json;
            try {
                json = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
            } catch (IOException e) {
                throw new IndexException("Elasticsearch answered " + method + " " + path + " with " + response.statusCode() + " and no JSON", e);
            }
            for (int status : expected) {
                if (status == response.statusCode()) {
                    return new Reply(status, json);
                }
            }
            JsonNode error = json.path("error");
            if (response.statusCode() == 404 && "index_not_found_exception".equals(error.path("type").asText())) {
                specs.values().removeIf(spec -> error.path("index").asText().equals(index(spec.name())));
                throw missing(error.path("index").asText());
            }
            String reason = error.isObject() ? error.path("type").asText() + ": " + error.path("reason").asText() : json.toString();
            throw new IndexException("Elasticsearch answered " + method + " " + path + " with " + response.statusCode() + ": " + reason);
        }
        throw new IndexException("No Elasticsearch endpoint of " + settings.urls() + " answered: " + (last == null ? "none configured" : last.getMessage()), last);
    }

    @Override
    public void close() {
        // the JDK client holds no resources that outlive it on Java 17
    }
}
