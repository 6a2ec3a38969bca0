package ai.fgclip2.server.gallery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.ServerTestSupport;
import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.GalleryIndex;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * The gallery over HTTP on the e2e fixture model (the embedded Lucene index): a synthetic gallery of noise images
 * with boxes, searched with the model's own embeddings as targets, so the expectations do not depend on trained
 * weights. Also the refusals that need a populated collection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GalleryApiTest extends E2eServerTest {
    private static final int IMAGES = 12;
    private static final List<List<Integer>> BOXES = List.of(List.of(0, 0, 48, 48), List.of(40, 20, 120, 90), List.of(64, 48, 128, 96));
    private final List<String> images = new ArrayList<>();

    @Autowired
    private GalleryIndex index;

    @BeforeAll
    void gallery() {
        post("/v1/collections", Map.of("name", "synthetic", "fields", Map.of("parity", "keyword", "n", "number")));
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            images.add(png(128, 96, i));
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("id", "img-" + i);
            item.put("image", images.get(i));
            item.put("metadata", Map.of("parity", i % 2 == 0 ? "even" : "odd", "n", i));
            if (i % 3 != 2) {
                item.put("boxes", BOXES);
            }
            items.add(item);
        }
        var added = post("/v1/collections/synthetic/items", Map.of("items", items));
        assertThat(added.status()).as(added.body()).isEqualTo(200);
    }

    @Test
    void regionSearchFindsTheImageAndTheBoxHoldingTheTarget() {
        for (int target : new int[] {4, 7}) {
            for (int box = 0; box < BOXES.size(); box++) {
                JsonNode regions = post("/v1/embeddings/regions", Map.of("image", images.get(target), "boxes", BOXES)).json();
                float[] query = ServerTestSupport.floats(regions.path("data").get(box).path("embedding"));
                JsonNode hits = search(Map.of("query", Map.of("embedding", query), "target", "regions", "topK", 5)).path("hits");
                assertThat(hits.get(0).path("id").asString()).isEqualTo("img-" + target);
                assertThat(hits.get(0).path("region").path("index").asInt()).isEqualTo(box);
                assertThat(hits.get(0).path("region").path("score").asDouble()).isCloseTo(1.0, within(1e-5));
                assertThat(ServerTestSupport.floats(hits.get(0).path("region").path("box"))).containsExactly(floats(BOXES.get(box)));
                List<String> ids = new ArrayList<>();
                hits.forEach(hit -> ids.add(hit.path("id").asString()));
                assertThat(ids).doesNotHaveDuplicates().noneMatch(id -> Integer.parseInt(id.substring(4)) % 3 == 2);
            }
        }
    }

    @Test
    void imageQueriesFindTheirOwnImageAndScoreAsCosines() {
        JsonNode result = search(Map.of("query", Map.of("image", images.get(5)), "topK", 3));
        JsonNode best = result.path("hits").get(0);
        assertThat(best.path("id").asString()).isEqualTo("img-5");
        assertThat(best.path("score").asDouble()).isCloseTo(1.0, within(1e-5));
        assertThat(best.has("probability")).isFalse();
        assertThat(result.has("walk")).isFalse();
        assertThat(best.path("metadata").path("parity").get(0).asString()).isEqualTo("odd");
    }

    @Test
    void textQueriesGoThroughTheWalkTheirLengthAndTargetCall() {
        JsonNode english = search(Map.of("query", Map.of("text", "a red kettle on a stove"), "topK", IMAGES));
        assertThat(english.path("walk").asString()).isEqualTo("short");
        float[] text = ServerTestSupport.floats(post("/v1/embeddings/text", Map.of("texts", List.of("a red kettle on a stove"))).json().path("data").get(0).path("embedding"));
        JsonNode byEmbedding = search(Map.of("query", Map.of("embedding", text), "topK", IMAGES));
        for (int i = 0; i < IMAGES; i++) {
            JsonNode hit = english.path("hits").get(i);
            assertThat(hit.path("id").asString()).isEqualTo(byEmbedding.path("hits").get(i).path("id").asString());
            double cosine = hit.path("score").asDouble();
            assertThat(cosine).isCloseTo(byEmbedding.path("hits").get(i).path("score").asDouble(), within(1e-5));
            double logit = hit.path("logit").asDouble();
            assertThat(hit.path("probability").asDouble()).isCloseTo(1 / (1 + Math.exp(-logit)), within(1e-9));
        }
        String longCaption = "一个红色的水壶放在厨房的炉子上，旁边有一个蓝色的杯子和一些木制的勺子，".repeat(4);
        assertThat(search(Map.of("query", Map.of("text", longCaption))).path("walk").asString()).isEqualTo("long");
        JsonNode chineseRegions = search(Map.of("query", Map.of("text", "红色的水壶"), "target", "regions"));
        assertThat(chineseRegions.path("walk").asString()).isEqualTo("box");
        assertThat(chineseRegions.path("hits").get(0).has("probability")).isFalse();
    }

    @Test
    void filtersKeepTopKFullAndPagesSliceTheSameRanking() {
        SplittableRandom random = new SplittableRandom(3);
        float[] query = new float[post("/v1/embeddings/text", Map.of("texts", List.of("x"))).json().path("dimensions").asInt()];
        for (int d = 0; d < query.length; d++) {
            query[d] = (float) random.nextGaussian();
        }
        JsonNode even = search(Map.of("query", Map.of("embedding", query), "filter", Map.of("parity", "even", "n", Map.of("gte", 2)), "topK", 5)).path("hits");
        assertThat(even.size()).isEqualTo(5);
        even.forEach(hit -> {
            assertThat(Integer.parseInt(hit.path("id").asString().substring(4)) % 2).isZero();
            assertThat(hit.path("metadata").path("n").asDouble()).isGreaterThanOrEqualTo(2);
        });
        JsonNode all = search(Map.of("query", Map.of("embedding", query), "topK", 6)).path("hits");
        JsonNode page = search(Map.of("query", Map.of("embedding", query), "topK", 3, "offset", 3)).path("hits");
        JsonNode fewCandidates = search(Map.of("query", Map.of("embedding", query), "topK", 6, "numCandidates", 1)).path("hits");
        assertThat(fewCandidates.size()).as("a search explores at least offset + topK candidates").isEqualTo(6);
        for (int i = 0; i < 3; i++) {
            assertThat(page.get(i).path("id").asString()).isEqualTo(all.get(3 + i).path("id").asString());
            assertThat(page.get(i).path("rank").asInt()).isEqualTo(4 + i);
        }
    }

    @Test
    void reAddingAnIdReplacesTheItem() {
        post("/v1/collections", Map.of("name", "replace"));
        post("/v1/collections/replace/items", Map.of("items", List.of(Map.of("id", "x", "image", images.get(0), "boxes", BOXES))));
        post("/v1/collections/replace/items", Map.of("items", List.of(Map.of("id", "x", "image", images.get(1)))));
        assertThat(get("/v1/collections/replace").json().path("count").asInt()).isEqualTo(1);
        assertThat(get("/v1/collections/replace/items/x").json().path("boxes").size()).isZero();
        JsonNode hit = post("/v1/collections/replace/search", Map.of("query", Map.of("image", images.get(1)))).json().path("hits").get(0);
        assertThat(hit.path("score").asDouble()).isCloseTo(1.0, within(1e-5));
    }

    @Test
    void badInputIsRefusedWithTheItemNamed() {
        var duplicate = post("/v1/collections/synthetic/items", Map.of("items", List.of(Map.of("id", "d", "image", images.get(0)),
                Map.of("id", "e", "image", images.get(1)), Map.of("id", "d", "image", images.get(2)))));
        assertProblem(duplicate, 400, "invalid-request", "/items/2/id");
        assertThat(duplicate.json().path("index").asInt()).isEqualTo(2);
        assertThat(get("/v1/collections/synthetic/items/e").status()).as("nothing of a refused batch is stored").isEqualTo(404);
        assertProblem(post("/v1/collections/synthetic/items", Map.of("items", List.of(Map.of("id", "f", "image", images.get(0), "boxes", List.of(List.of(200, 10, 300, 50)))))),
                422, "invalid-box", "/items/0/boxes/0");
        assertProblem(post("/v1/collections/synthetic/items", Map.of("items", List.of(Map.of("id", "f", "image", images.get(0), "metadata", Map.of("n", List.of("1")))))),
                400, "invalid-request", "/items/0/metadata/n");
        assertProblem(post("/v1/collections/synthetic/items", Map.of("items", List.of(Map.of("id", "f", "image", images.get(0), "metadata", Map.of("colour", "red"))))),
                400, "invalid-request", "/items/0/metadata/colour");
        assertProblem(search(Map.of("query", Map.of("text", "a"), "filter", Map.of("parity", 1)), 400), 400, "invalid-request", "/filter/parity");
        assertProblem(search(Map.of("query", Map.of("text", "a"), "numCandidates", 0), 400), 400, "invalid-request", "/numCandidates");
        assertProblem(search(Map.of("query", Map.of("text", "a"), "numCandidates", 10_001), 413), 413, "limit-exceeded", "/numCandidates");
        assertProblem(post("/v1/collections/missing/items", Map.of("items", List.of(Map.of("id", "f", "image", images.get(0))))), 404, "not-found", null);
        assertProblem(post("/v1/collections", Map.of("name", "Bad Name")), 400, "invalid-request", "/name");
    }

    @Test
    void idsWithSlashesAreReachableAndDotSegmentsAreRefused() {
        post("/v1/collections", Map.of("name", "paths"));
        var put = send("PUT", "/v1/collections/paths/items/trip/2024/k1.jpg", Map.of("image", images.get(0)));
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(put.json().path("items").get(0).path("id").asString()).isEqualTo("trip/2024/k1.jpg");
        assertThat(get("/v1/collections/paths/items/trip/2024/k1.jpg").json().path("id").asString()).isEqualTo("trip/2024/k1.jpg");
        assertThat(post("/v1/collections/paths/search", Map.of("query", Map.of("image", images.get(0)))).json().path("hits").get(0).path("id").asString())
                .isEqualTo("trip/2024/k1.jpg");
        // a client would send DELETE .../items/.. as DELETE /v1/collections/paths: such ids never get in
        for (String id : List.of("..", ".", "a/../b", "a//b", "/a", "a/")) {
            assertProblem(post("/v1/collections/paths/items", Map.of("items", List.of(Map.of("id", id, "image", images.get(0))))),
                    400, "invalid-request", "/items/0/id");
        }
        assertThat(send("DELETE", "/v1/collections/paths/items/trip/2024/k1.jpg", null).status()).isEqualTo(204);
        assertThat(get("/v1/collections/paths").json().path("count").asInt()).isZero();
    }

    @Test
    void idsAreCountedInUtf8BytesAndNamesThatCannotBeCollectionsAreNotFound() {
        String chinese = "猫".repeat(171); // 513 UTF-8 bytes in 171 characters
        assertProblem(post("/v1/collections/synthetic/items", Map.of("items", List.of(Map.of("id", chinese, "image", images.get(0))))),
                400, "invalid-request", "/items/0/id");
        var fits = post("/v1/collections/synthetic/items", Map.of("items", List.of(Map.of("id", "猫".repeat(170), "image", images.get(0)))));
        assertThat(fits.status()).as(fits.body()).isEqualTo(200);
        send("DELETE", "/v1/collections/synthetic/items/" + java.net.URLEncoder.encode("猫".repeat(170), java.nio.charset.StandardCharsets.UTF_8), null);
        for (String name : List.of("a%20b", "a%7Cb", "UPPER", "%E7%8C%AB")) {
            assertProblem(get("/v1/collections/" + name), 404, "not-found", null);
            assertProblem(post("/v1/collections/" + name + "/search", Map.of("query", Map.of("text", "a"))), 404, "not-found", null);
        }
    }

    @Test
    void aCollectionOfAnotherModelRevisionRefusesItemsAndQueries() {
        CollectionSpec current = index.describe("synthetic").orElseThrow();
        index.create(new CollectionSpec("older", current.modelId(), "0123456789ab", current.precision(), current.dimensions(), current.fields(), false));
        var add = post("/v1/collections/older/items", Map.of("items", List.of(Map.of("id", "f", "image", images.get(0)))));
        assertProblem(add, 409, "conflict", null);
        assertThat(add.json().path("detail").asString()).contains("0123456789ab").contains(current.modelRevision());
        assertProblem(post("/v1/collections/older/search", Map.of("query", Map.of("text", "a"))), 409, "conflict", null);
        assertThat(get("/v1/collections/older").json().path("model").path("revision").asString()).isEqualTo("0123456789ab");
    }

    private ServerTestSupport.Response send(String method, String path, Object body) {
        return ServerTestSupport.send(port, java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                        : java.net.http.HttpRequest.BodyPublishers.ofString(ServerTestSupport.JSON.writeValueAsString(body))).build());
    }

    private JsonNode search(Map<String, Object> body) {
        var response = post("/v1/collections/synthetic/search", body);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private ServerTestSupport.Response search(Map<String, Object> body, int status) {
        var response = post("/v1/collections/synthetic/search", body);
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        return response;
    }

    private static void assertProblem(ServerTestSupport.Response response, int status, String type, String pointer) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:" + type);
        if (pointer != null) {
            assertThat(response.json().path("pointer").asString()).isEqualTo(pointer);
        }
    }

    private static float[] floats(List<Integer> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    /** Noise with a seed: every image and every region of it embeds differently. */
    static String png(int width, int height, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", out);
            return Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
