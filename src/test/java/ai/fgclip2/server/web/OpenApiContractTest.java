package ai.fgclip2.server.web;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.RawHttp;
import ai.fgclip2.server.ServerTestSupport;
import ai.fgclip2.server.config.Fgclip2Properties;
import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.MessageResolver;
import com.atlassian.oai.validator.report.SimpleValidationReportFormat;
import com.atlassian.oai.validator.report.ValidationReport;
import com.atlassian.oai.validator.schema.SchemaValidator;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/**
 * Real requests to every endpoint, each request and its response checked against openapi.yaml by an OpenAPI
 * validator (any schema mismatch fails, including undocumented response properties: the response schemas
 * say additionalProperties: false).
 */
class OpenApiContractTest extends E2eServerTest {
    private static final String SPEC_TEXT = readSpec();
    private static final OpenAPI API = parseSpec();
    private static final LevelResolver EVERYTHING_IS_AN_ERROR = LevelResolver.create().withDefaultLevel(ValidationReport.Level.ERROR).build();
    private static final OpenApiInteractionValidator VALIDATOR = OpenApiInteractionValidator.createForInlineApiSpecification(SPEC_TEXT)
            .withLevelResolver(EVERYTHING_IS_AN_ERROR).build();
    private static final String PROBLEM_JSON = "application/problem+json";

    @Autowired
    private Fgclip2Properties properties;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    private RequestMappingHandlerMapping mappings;

    // ---- the spec itself ----

    @Test
    void specDocumentsExactlyTheServedEndpoints() {
        Set<String> served = new TreeSet<>();
        // OpenAPI has no rest-of-path parameter: {*id} (an id that may hold '/') is documented as {id}
        mappings.getHandlerMethods().keySet().forEach(info -> info.getPatternValues().stream().filter(p -> p.startsWith("/v1/"))
                .forEach(p -> info.getMethodsCondition().getMethods().forEach(m -> served.add(m.name() + " " + p.replace("{*", "{")))));
        Set<String> documented = new TreeSet<>();
        API.getPaths().entrySet().stream().filter(path -> path.getKey().startsWith("/v1/"))
                .forEach(path -> path.getValue().readOperationsMap().keySet().forEach(m -> documented.add(m.name() + " " + path.getKey())));
        assertThat(documented).isEqualTo(served);
    }

    @Test
    void everyJsonRequestExampleOfTheSpecIsAnsweredAsDocumented() {
        int examples = 0;
        for (var path : API.getPaths().entrySet()) {
            var post = path.getValue().getPost();
            if (post == null) {
                continue;
            }
            MediaType json = post.getRequestBody().getContent().get("application/json");
            assertThat(json.getExample()).as("example request of POST %s", path.getKey()).isNotNull();
            // the gallery examples build on each other in spec order: create "photos", add to it, search it
            int success = post.getResponses().keySet().stream().filter(code -> code.startsWith("2")).map(Integer::valueOf).findFirst().orElseThrow();
            postJson(path.getKey().replace("{name}", "photos"), Json.pretty(json.getExample()), success);
            examples++;
        }
        assertThat(examples).isPositive();
    }

    // ---- embeddings ----

    @Test
    void textEmbeddings() {
        List<String> texts = new ArrayList<>();
        FIXTURE.cases().path("texts").get(0).path("texts").forEach(t -> texts.add(t.asString()));
        JsonNode auto = postJson("/v1/embeddings/text", Map.of("texts", texts, "walk", "auto"), 200).json();
        assertThat(auto.path("data").size()).isEqualTo(texts.size());
        JsonNode box = postJson("/v1/embeddings/text", Map.of("texts", texts.subList(0, 2), "walk", "box", "normalize", false), 200).json();
        assertThat(box.path("data").get(0).path("walk").asString()).isEqualTo("box");
    }

    @Test
    void imageEmbeddingsFromJson() {
        List<String> images = new ArrayList<>();
        for (String file : fixtureImageFiles()) {
            images.add(FIXTURE.imageBase64(file));
        }
        images.set(0, "data:image/png;base64," + images.get(0));
        postJson("/v1/embeddings/image", Map.of("images", images), 200);
        postJson("/v1/embeddings/image", Map.of("images", images.subList(0, 1), "maxNumPatches", 256, "normalize", false), 200);
    }

    @Test
    void imageEmbeddingsFromUpload() {
        List<String> files = fixtureImageFiles();
        Multipart form = new Multipart().file("images", files.get(0)).file("images", files.get(1)).field("maxNumPatches", "256");
        JsonNode response = send("POST", "/v1/embeddings/image", form.contentType(), form.bytes(), 200, Check.EXCHANGE).json();
        assertThat(response.path("data").size()).isEqualTo(2);
    }

    /** As many uploads as max-items allows plus form fields: more parts than Tomcat's default of 50. */
    @Test
    void imageEmbeddingsFromAFullUpload() {
        int maxItems = properties.limits().maxItems();
        Multipart form = new Multipart().field("maxNumPatches", "16").field("normalize", "true");
        for (int i = 0; i < maxItems; i++) {
            form.file("images", fixtureImageFiles().get(i % 3));
        }
        JsonNode response = send("POST", "/v1/embeddings/image", form.contentType(), form.bytes(), 200, Check.EXCHANGE).json();
        assertThat(response.path("data").size()).isEqualTo(maxItems);
    }

    @Test
    void tooManyMultipartPartsAnswer413() {
        Multipart form = new Multipart();
        for (int i = 0; i < properties.limits().maxItems() + 20; i++) {
            form.field("note", "x");
        }
        var response = send("POST", "/v1/embeddings/image", form.contentType(), form.bytes(), 413, Check.RESPONSE);
        assertProblem(response, "limit-exceeded", null);
        assertThat(response.json().path("detail").asString()).contains("parts");
    }

    @Test
    void multipartFormFieldsAreStrict() {
        Multipart fraction = new Multipart().file("images", fixtureImageFiles().get(0)).field("maxNumPatches", "256.9");
        assertProblem(send("POST", "/v1/embeddings/image", fraction.contentType(), fraction.bytes(), 400, Check.RESPONSE), "invalid-request", "/maxNumPatches");
        Multipart number = new Multipart().file("images", fixtureImageFiles().get(0)).field("normalize", "0");
        assertProblem(send("POST", "/v1/embeddings/image", number.contentType(), number.bytes(), 400, Check.RESPONSE), "invalid-request", "/normalize");
        JsonNode region = FIXTURE.cases().path("regions").get(0);
        Multipart textBox = new Multipart().file("image", imageFile(region.path("image").asString())).field("boxes", "[[\"1\", 2, 30, 30]]");
        assertProblem(send("POST", "/v1/embeddings/regions", textBox.contentType(), textBox.bytes(), 400, Check.RESPONSE), "invalid-request", "/boxes/0/0");
    }

    @Test
    void regionEmbeddingsFromJson() {
        JsonNode region = FIXTURE.cases().path("regions").get(0);
        postJson("/v1/embeddings/regions", Map.of("image", imageOf(region), "boxes", region.path("boxes")), 200);
    }

    @Test
    void regionEmbeddingsFromUpload() {
        JsonNode region = FIXTURE.cases().path("regions").get(0);
        Multipart form = new Multipart().file("image", imageFile(region.path("image").asString()))
                .field("boxes", region.path("boxes").toString()).field("normalize", "false");
        JsonNode response = send("POST", "/v1/embeddings/regions", form.contentType(), form.bytes(), 200, Check.EXCHANGE).json();
        assertThat(response.path("data").size()).isEqualTo(region.path("boxes").size());
    }

    @Test
    void openAiEmbeddings() {
        postJson("/v1/embeddings", Map.of("input", List.of("a red kettle", "蓝色的自行车"), "model", "anything", "user", "u1"), 200);
        JsonNode base64 = postJson("/v1/embeddings", Map.of("input", "a red kettle", "encoding_format", "base64"), 200).json();
        assertThat(base64.path("data").get(0).path("embedding").isString()).isTrue();
        String dataUrl = "data:image/png;base64," + FIXTURE.imageBase64(fixtureImageFiles().get(2));
        postJson("/v1/embeddings", Map.of("input", List.of(dataUrl), "modality", "image"), 200);
    }

    // ---- scoring ----

    @Test
    void classify() {
        JsonNode c = FIXTURE.cases().path("classify").get(0);
        JsonNode response = postJson("/v1/classify", Map.of("image", imageOf(c), "labels", c.path("labels"), "templates", c.path("templates"), "topK", 3), 200).json();
        assertThat(response.path("results").size()).isEqualTo(3);
    }

    @Test
    void rank() {
        JsonNode embedded = postJson("/v1/embeddings/text", Map.of("texts", List.of("a kitchen")), 200).json();
        JsonNode embedding = embedded.path("data").get(0).path("embedding");
        String kitchen = FIXTURE.imageBase64(fixtureImageFiles().get(0));
        String poster = FIXTURE.imageBase64(fixtureImageFiles().get(1));
        JsonNode byText = postJson("/v1/rank", Map.of("query", Map.of("text", "a red kettle"),
                "candidates", List.of(Map.of("image", kitchen), Map.of("text", "a kitchen"), Map.of("embedding", embedding))), 200).json();
        assertThat(byText.path("results").size()).isEqualTo(3);
        postJson("/v1/rank", Map.of("query", Map.of("image", kitchen),
                "candidates", List.of(Map.of("text", "a kitchen"), Map.of("image", poster)), "topK", 1, "maxNumPatches", 128), 200);
    }

    @Test
    void classifyRegions() {
        JsonNode region = FIXTURE.cases().path("regions").get(0);
        postJson("/v1/regions/classify", Map.of("image", imageOf(region), "boxes", region.path("boxes"), "labels", region.path("labels"),
                "templates", List.of("a photo of a {}.", "a {} in the scene."), "topK", 2), 200);
    }

    @Test
    void rescoreDetections() {
        JsonNode r = FIXTURE.cases().path("rescore").get(0);
        postJson("/v1/detections/rescore", Map.of("image", imageOf(r), "detections", r.path("detections"), "vocabulary", r.path("vocabulary")), 200);
        List<Map<String, Object>> detections = List.of(Map.of("box", List.of(-10, -10, 300, 300), "score", 0.9, "label", "a label outside the vocabulary"));
        JsonNode relabeled = postJson("/v1/detections/rescore", Map.of("image", imageOf(r), "detections", detections, "vocabulary", r.path("vocabulary"),
                "alpha", 0.3, "beta", 0.7, "relabel", true), 200).json();
        assertThat(relabeled.path("detections").get(0).path("box").get(0).asDouble()).isZero(); // clipped to the image
    }

    @Test
    void vocabulariesAndRescoringAtDetectorScale() throws InterruptedException {
        JsonNode r = FIXTURE.cases().path("rescore").get(0);
        List<String> vocabulary = new ArrayList<>();
        r.path("vocabulary").forEach(l -> vocabulary.add(l.asString()));
        byte[] body = ServerTestSupport.JSON.writeValueAsBytes(Map.of("labels", vocabulary, "templates", List.of("a photo of a {}.")));
        JsonNode accepted = send("PUT", "/v1/vocabularies/contract", "application/json", body, 202, Check.EXCHANGE).json();
        assertThat(accepted.path("name").asString()).isEqualTo("contract");
        byte[] shortWalk = ServerTestSupport.JSON.writeValueAsBytes(Map.of("labels", vocabulary, "walk", "short"));
        send("PUT", "/v1/vocabularies/contract-short", "application/json", shortWalk, 202, Check.EXCHANGE);
        for (String name : List.of("contract", "contract-short")) {
            for (int i = 0; i < 600 && !send("GET", "/v1/vocabularies/" + name, null, null, 200, Check.EXCHANGE).json().path("state").asString().equals("ready"); i++) {
                Thread.sleep(100);
            }
        }
        JsonNode one = send("GET", "/v1/vocabularies/contract", null, null, 200, Check.EXCHANGE).json();
        assertThat(one.path("state").asString()).isEqualTo("ready");
        assertThat(one.path("labels").size()).isEqualTo(vocabulary.size());
        JsonNode list = send("GET", "/v1/vocabularies", null, null, 200, Check.EXCHANGE).json();
        assertThat(list.path("builtins").toString()).contains("lvis", "coco");

        List<Integer> labels = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        List<JsonNode> boxes = new ArrayList<>();
        for (JsonNode d : r.path("detections")) {
            labels.add(vocabulary.indexOf(d.path("label").asString()));
            scores.add(d.path("score").asDouble());
            boxes.add(d.path("box"));
        }
        Map<String, Object> mmdet = Map.of("labels", labels, "scores", scores, "bboxes", boxes);
        postJson("/v1/detections/rescore", Map.of("image", imageOf(r), "detections", mmdet, "vocabulary", "contract", "sort", true, "topK", 2,
                "nmsIou", 0.5, "scoreThreshold", 0.0, "temperature", 100), 200);
        Map<String, Object> transformers = Map.of("scores", scores, "boxes", List.of(List.of(0.1, 0.1, 0.5, 0.5)).subList(0, 1),
                "text_labels", List.of("cup"));
        postJson("/v1/detections/rescore", Map.of("image", imageOf(r), "detections", Map.of("scores", scores.subList(0, 1), "boxes",
                transformers.get("boxes"), "text_labels", List.of("cup")), "vocabulary", vocabulary, "boxFormat", "xyxy"), 200);
        postJson("/v1/regions/classify", Map.of("image", imageOf(r), "boxes", List.of(List.of(0, 0, 100, 100)), "vocabulary", "contract", "topK", 2), 200);
        postJson("/v1/classify", Map.of("image", imageOf(r), "vocabulary", "contract-short", "topK", 2), 200);
        assertProblem(postJson("/v1/classify", Map.of("image", imageOf(r), "vocabulary", "contract"), 400), "invalid-request", "/vocabulary");
        assertProblem(postJson("/v1/detections/rescore", Map.of("image", imageOf(r), "detections", mmdet, "vocabulary", "nothing"), 400),
                "invalid-request", "/vocabulary");
        assertProblem(send("GET", "/v1/vocabularies/nothing", null, null, 404, Check.RESPONSE), "not-found", null);
        assertProblem(send("PUT", "/v1/vocabularies/bad", "application/json", ServerTestSupport.JSON.writeValueAsBytes(Map.of("builtin", "imagenet")), 400,
                Check.RESPONSE), "invalid-request", "/builtin");
        send("DELETE", "/v1/vocabularies/contract-short", null, null, 204, Check.EXCHANGE);
        assertProblem(send("DELETE", "/v1/vocabularies/contract-short", null, null, 404, Check.RESPONSE), "not-found", null);
    }

    @Test
    void denseSimilarityAsJsonAndPng() {
        String image = FIXTURE.imageBase64(fixtureImageFiles().get(2));
        JsonNode maps = postJson("/v1/dense/similarity", Map.of("image", image, "texts", List.of("a red kettle", "a window")), 200).json();
        assertThat(maps.path("data").get(0).path("similarity").size()).isEqualTo(maps.path("grid").get(0).asInt());
        var png = postJson("/v1/dense/similarity", Map.of("image", image, "texts", List.of("a red kettle"), "format", "png"), 200);
        assertThat(png.contentType()).isEqualTo("image/png");
        assertThat(Arrays.copyOf(png.raw().body(), 8)).isEqualTo(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    }

    @Test
    void modelsAndOperatorEndpoints() {
        JsonNode models = send("GET", "/v1/models", null, null, 200, Check.EXCHANGE).json();
        assertThat(models.path("data").get(0).path("provider").asString()).isEqualTo("cpu");
        send("GET", "/actuator/health/liveness", null, null, 200, Check.EXCHANGE);
        send("GET", "/actuator/health/readiness", null, null, 200, Check.EXCHANGE);
        assertThat(send("GET", "/actuator/prometheus", null, null, 200, Check.EXCHANGE).body()).contains("http_server_requests_seconds");
    }

    // ---- gallery ----

    @Test
    void galleryEndpoints() {
        String image = FIXTURE.imageBase64(fixtureImageFiles().get(2));
        postJson("/v1/collections", Map.of("name", "contract", "fields", Map.of("tags", "keyword", "year", "number")), 201);
        send("GET", "/v1/collections", null, null, 200, Check.EXCHANGE);
        postJson("/v1/collections/contract/items", Map.of("items", List.of(
                Map.of("id", "a", "image", image, "metadata", Map.of("tags", "cat", "year", 2001), "boxes", List.of(List.of(0, 0, 20, 20), List.of(5, 5, 30, 25))),
                Map.of("id", "b", "image", FIXTURE.imageBase64(fixtureImageFiles().get(0)), "metadata", Map.of("tags", List.of("dog", "cat"))))), 200);
        byte[] put = ServerTestSupport.JSON.writeValueAsBytes(Map.of("image", image, "boxes", List.of(List.of(1, 1, 9, 9))));
        send("PUT", "/v1/collections/contract/items/c", "application/json", put, 200, Check.EXCHANGE);
        JsonNode item = send("GET", "/v1/collections/contract/items/a", null, null, 200, Check.EXCHANGE).json();
        assertThat(item.path("boxes").size()).isEqualTo(2);
        assertThat(send("GET", "/v1/collections/contract", null, null, 200, Check.EXCHANGE).json().path("count").asInt()).isEqualTo(3);
        JsonNode byText = postJson("/v1/collections/contract/search", Map.of("query", Map.of("text", "一只猫"), "filter", Map.of("tags", "cat")), 200).json();
        assertThat(byText.path("hits").size()).isEqualTo(2);
        assertThat(byText.path("hits").get(0).has("probability")).isTrue();
        JsonNode regions = postJson("/v1/collections/contract/search", Map.of("query", Map.of("image", image), "target", "regions",
                "filter", Map.of("year", Map.of("gte", 2000, "lte", 2002))), 200).json();
        assertThat(regions.path("hits").get(0).path("region").path("box").size()).isEqualTo(4);
        postJson("/v1/collections/contract/search", Map.of("query", Map.of("embedding", floatsOf(item.path("boxes").get(0), 1)), "topK", 1, "offset", 1), 400);
        send("DELETE", "/v1/collections/contract/items/c", null, null, 204, Check.EXCHANGE);

        assertProblem(send("GET", "/v1/collections/contract/items/c", null, null, 404, Check.RESPONSE), "not-found", null);
        assertProblem(postJson("/v1/collections/nothing/search", Map.of("query", Map.of("text", "a")), 404), "not-found", null);
        assertProblem(postJson("/v1/collections", Map.of("name", "contract"), 409), "conflict", "/name");
        assertProblem(postJson("/v1/collections/contract/items", Map.of("items", List.of(Map.of("id", "x", "image", image, "metadata", Map.of("year", "old")))), 400),
                "invalid-request", "/items/0/metadata/year");
        assertProblem(postJson("/v1/collections/contract/items", Map.of("items", List.of(Map.of("id", "x", "image", image, "boxes", List.of(List.of(-50, -50, -10, -10))))), 422),
                "invalid-box", "/items/0/boxes/0");
        assertProblem(postJson("/v1/collections/contract/search", Map.of("query", Map.of("text", "a"), "topK", 600, "offset", 600), 413), "limit-exceeded", "/offset");
        send("DELETE", "/v1/collections/contract", null, null, 204, Check.EXCHANGE);
        assertProblem(send("DELETE", "/v1/collections/contract", null, null, 404, Check.RESPONSE), "not-found", null);
    }

    /** A vector of the model's dimensions made from a node's numbers (any direction will do for a refused request). */
    private static float[] floatsOf(JsonNode numbers, int dimensions) {
        float[] out = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
            out[i] = numbers.get(i % numbers.size()).floatValue() + 1;
        }
        return out;
    }

    // ---- problems ----

    @Test
    void badRequests() {
        assertProblem(postJson("/v1/embeddings/text", Map.of("texts", List.of("a"), "walk", "medium"), 400), "invalid-request", "/walk");
        assertProblem(postJson("/v1/embeddings/text", "{\"texts\": [", 400), "invalid-request", null);
        assertProblem(postJson("/v1/embeddings", Map.of("input", "a", "dimensions", 8), 400), "unsupported-parameter", "/dimensions");
        assertProblem(postJson("/v1/classify", Map.of("image", FIXTURE.imageBase64(fixtureImageFiles().get(2)), "labels", List.of("a"),
                "maxNumPatches", 0), 400), "invalid-request", "/maxNumPatches");
        Multipart noBoxes = new Multipart().file("image", fixtureImageFiles().get(2));
        assertProblem(send("POST", "/v1/embeddings/regions", noBoxes.contentType(), noBoxes.bytes(), 400, Check.RESPONSE), "invalid-request", "/boxes");
        Multipart noImage = new Multipart().field("boxes", "[[1, 1, 9, 9]]");
        assertProblem(send("POST", "/v1/embeddings/regions", noImage.contentType(), noImage.bytes(), 400, Check.RESPONSE), "invalid-request", "/image");
    }

    @Test
    void unknownPathAndWrongMethod() {
        var notFound = send("GET", "/v1/nothing-here", null, null, 404, Check.PROBLEM_BODY);
        assertProblem(notFound, "not-found", null);
        var wrongMethod = send("GET", "/v1/classify", null, null, 405, Check.PROBLEM_BODY);
        assertProblem(wrongMethod, "method-not-allowed", null);
        assertThat(wrongMethod.raw().headers().firstValue("Allow")).hasValue("POST");
    }

    @Test
    void unacceptableAcceptHeader() {
        assertProblem(send("GET", "/v1/models", null, null, 406, Check.RESPONSE, "Accept", "text/html"), "not-acceptable", null);
    }

    @Test
    void limitsAnswer413() {
        int maxItems = properties.limits().maxItems();
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i <= maxItems; i++) {
            tooMany.add("text " + i);
        }
        assertProblem(postJson("/v1/embeddings/text", Map.of("texts", tooMany), 413), "limit-exceeded", "/texts");
        String tooLong = "x".repeat(properties.limits().maxTextChars() + 1);
        var response = postJson("/v1/classify", Map.of("image", FIXTURE.imageBase64(fixtureImageFiles().get(2)), "labels", List.of("a", tooLong)), 413);
        assertProblem(response, "limit-exceeded", "/labels/1");
        assertThat(response.json().path("index").asInt()).isEqualTo(1);
    }

    @Test
    void oversizedBodyIsRefusedBeforeItIsRead() {
        long declared = properties.limits().maxRequestBytes() + 1;
        // only the headers are sent: the server must answer from Content-Length alone
        RawHttp.Response raw;
        try (RawHttp connection = RawHttp.connect(port, Duration.ofSeconds(15))) {
            raw = connection.send("POST /v1/embeddings/text HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + declared + "\r\n\r\n").response();
        }
        assertThat(raw.status()).isEqualTo(413);
        var response = new SimpleResponse.Builder(raw.status()).withContentType(raw.header("Content-Type")).withBody(raw.body()).build();
        assertValid(VALIDATOR.validateResponse("/v1/embeddings/text", Request.Method.POST, response), "oversized body");
        JsonNode json = ServerTestSupport.JSON.readTree(raw.body());
        assertThat(json.path("type").asString()).isEqualTo("urn:fgclip2:problem:limit-exceeded");
    }

    @Test
    void unsupportedMediaTypes() {
        assertProblem(send("POST", "/v1/embeddings/text", "text/plain", "a dog".getBytes(UTF_8), 415, Check.RESPONSE), "unsupported-media-type", null);
        String notAnImage = Base64.getEncoder().encodeToString("II*\0 this is no image format we decode".getBytes(UTF_8));
        assertProblem(postJson("/v1/embeddings/image", Map.of("images", List.of(FIXTURE.imageBase64(fixtureImageFiles().get(2)), notAnImage)), 415),
                "unsupported-image-format", "/images/1");
    }

    @Test
    void unprocessableImagesAndBoxes() {
        String image = FIXTURE.imageBase64(fixtureImageFiles().get(2));
        var box = postJson("/v1/embeddings/regions", Map.of("image", image, "boxes", List.of(List.of(0, 0, 10, 10), List.of(5, 5, 5, 9))), 422);
        assertProblem(box, "invalid-box", "/boxes/1");
        assertThat(box.json().path("index").asInt()).isEqualTo(1);
        assertProblem(postJson("/v1/detections/rescore", Map.of("image", image, "vocabulary", List.of("cup"),
                "detections", List.of(Map.of("box", List.of(100, 100, 200, 200), "score", 0.5, "label", "cup"))), 422), "invalid-box", "/detections/0/box");
        assertProblem(postJson("/v1/classify", Map.of("image", "not base64 at all!", "labels", List.of("a")), 422), "invalid-image", "/image");
        assertProblem(postJson("/v1/embeddings/image", Map.of("images", List.of(image, image.substring(0, image.length() / 8 * 4))), 422),
                "invalid-image", "/images/1");
        assertProblem(postJson("/v1/rank", Map.of("query", Map.of("image", "http://127.0.0.1/cat.png"), "candidates", List.of(Map.of("text", "a"))), 422),
                "invalid-image", "/query/image");
    }

    // ---- helpers ----

    /** What of an exchange is checked against the spec. */
    private enum Check {
        /** a valid request: request and response against the operation */
        EXCHANGE,
        /** a deliberately bad request: the response against the operation */
        RESPONSE,
        /** an answer outside every operation (unknown path, wrong method): the body against Problem */
        PROBLEM_BODY
    }

    private ServerTestSupport.Response postJson(String path, Object body, int expectedStatus) {
        return postJson(path, body, expectedStatus, expectedStatus < 400 ? Check.EXCHANGE : Check.RESPONSE);
    }

    private ServerTestSupport.Response postJson(String path, Object body, int expectedStatus, Check check) {
        String json = body instanceof String s ? s : ServerTestSupport.JSON.writeValueAsString(body);
        return send("POST", path, "application/json", json.getBytes(UTF_8), expectedStatus, check);
    }

    /** One real exchange over HTTP, checked against openapi.yaml as {@code check} says; {@code headers} are name, value pairs. */
    private ServerTestSupport.Response send(String method, String path, String contentType, byte[] body, int expectedStatus, Check check,
                                            String... headers) {
        HttpRequest.Builder http = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        SimpleRequest.Builder request = new SimpleRequest.Builder(method, path);
        for (int i = 0; i < headers.length; i += 2) {
            http.header(headers[i], headers[i + 1]);
            request.withHeader(headers[i], headers[i + 1]);
        }
        if (body == null) {
            http.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            http.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
            request.withContentType(contentType).withBody(body);
        }
        ServerTestSupport.Response response = ServerTestSupport.send(port, http.build());
        assertThat(response.status()).as("%s %s: %s", method, path, response.body()).isEqualTo(expectedStatus);
        String what = method + " " + path + " -> " + response.status();
        SimpleResponse.Builder answer = new SimpleResponse.Builder(response.status()).withBody(response.raw().body());
        response.raw().headers().map().forEach(answer::withHeader);
        switch (check) {
            case EXCHANGE -> assertValid(VALIDATOR.validate(request.build(), answer.build()), what);
            case RESPONSE -> assertValid(VALIDATOR.validateResponse(path, Request.Method.valueOf(method), answer.build()), what);
            case PROBLEM_BODY -> {
                assertThat(response.contentType()).isEqualTo(PROBLEM_JSON);
                SchemaValidator schemas = new SchemaValidator(API, new MessageResolver(EVERYTHING_IS_AN_ERROR));
                assertValid(schemas.validate(response.body(), API.getComponents().getSchemas().get("Problem"), "response.body"), what);
            }
        }
        return response;
    }

    private static void assertValid(ValidationReport report, String what) {
        assertThat(report.getMessages()).as("%s against openapi.yaml:%n%s", what, SimpleValidationReportFormat.getInstance().apply(report)).isEmpty();
    }

    private static void assertProblem(ServerTestSupport.Response response, String type, String pointer) {
        assertThat(response.contentType()).isEqualTo(PROBLEM_JSON);
        JsonNode problem = response.json();
        assertThat(problem.path("type").asString()).as(response.body()).isEqualTo("urn:fgclip2:problem:" + type);
        assertThat(problem.path("status").asInt()).isEqualTo(response.status());
        if (pointer == null) {
            assertThat(problem.has("pointer")).as(response.body()).isFalse();
        } else {
            assertThat(problem.path("pointer").asString()).as(response.body()).isEqualTo(pointer);
        }
    }

    private static List<String> fixtureImageFiles() {
        List<String> files = new ArrayList<>();
        FIXTURE.cases().path("images").forEach(image -> files.add(image.path("file").asString()));
        assertThat(files).hasSizeGreaterThanOrEqualTo(3);
        return files;
    }

    private static String imageFile(String name) {
        for (JsonNode image : FIXTURE.cases().path("images")) {
            if (image.path("name").asString().equals(name)) {
                return image.path("file").asString();
            }
        }
        throw new IllegalArgumentException("no fixture image " + name);
    }

    /** The base64 of the fixture image a case names in its {@code image} field. */
    private static String imageOf(JsonNode fixtureCase) {
        return FIXTURE.imageBase64(imageFile(fixtureCase.path("image").asString()));
    }

    private static String readSpec() {
        try {
            return Files.readString(Path.of(System.getProperty("user.dir"), "openapi.yaml"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static OpenAPI parseSpec() {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(SPEC_TEXT, null, options);
        assertThat(result.getMessages()).as("openapi.yaml parse messages").isEmpty();
        return result.getOpenAPI();
    }

    /** A multipart/form-data body built by hand (the JDK client has no builder for it). */
    private static final class Multipart {
        private final String boundary = "contract-test-boundary-7f3a";
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        Multipart file(String name, String fixtureFile) {
            byte[] bytes = Base64.getDecoder().decode(FIXTURE.imageBase64(fixtureFile));
            String filename = Path.of(fixtureFile).getFileName().toString();
            String type = filename.endsWith(".png") ? "image/png" : "image/jpeg";
            return part("Content-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename + "\"\r\nContent-Type: " + type, bytes);
        }

        Multipart field(String name, String value) {
            return part("Content-Disposition: form-data; name=\"" + name + "\"", value.getBytes(UTF_8));
        }

        private Multipart part(String headers, byte[] content) {
            body.writeBytes(("--" + boundary + "\r\n" + headers + "\r\n\r\n").getBytes(UTF_8));
            body.writeBytes(content);
            body.writeBytes("\r\n".getBytes(UTF_8));
            return this;
        }

        String contentType() {
            return "multipart/form-data; boundary=" + boundary;
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(body.toByteArray());
            out.writeBytes(("--" + boundary + "--\r\n").getBytes(UTF_8));
            return out.toByteArray();
        }
    }
}
