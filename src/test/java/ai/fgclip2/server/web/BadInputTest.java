package ai.fgclip2.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.ServerTestSupport;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Distinct bad requests across the endpoints: each must get a 4xx application/problem+json answer with the
 * expected stable type (and item pointer where there is an item), never a 500, a stack trace or a hang.
 * The oversized body (413 before reading) is OpenApiContractTest's: it sends headers only over a socket, since
 * a client streaming 70 MB races the server's early answer and close.
 */
class BadInputTest extends E2eServerTest {

    record Case(String name, String method, String path, String contentType, String body, int status, String type, String pointer) {
    }

    private String png() {
        return FIXTURE.imageBase64(FIXTURE.cases().path("images").get(0).path("file").asString());
    }

    private List<Case> cases() {
        String png = png();
        String tinyBox = "[[10,10,50,50]]";
        List<Case> cases = new ArrayList<>();
        // malformed bodies and protocol errors
        cases.add(new Case("invalid JSON", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [", 400, "invalid-request", null));
        cases.add(new Case("JSON array instead of object", "POST", "/v1/embeddings/text", "application/json", "[1,2]", 400, "invalid-request", null));
        cases.add(new Case("wrong field type", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": \"not a list\"}", 400, "invalid-request", null));
        cases.add(new Case("misspelt field", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [], \"max_num_patches\": 256}", 400, "invalid-request", null));
        cases.add(new Case("text/plain body", "POST", "/v1/embeddings/text", "text/plain", "hello", 415, "unsupported-media-type", null));
        cases.add(new Case("unknown path", "POST", "/v1/nothing", "application/json", "{}", 404, "not-found", null));
        cases.add(new Case("GET on a POST endpoint", "GET", "/v1/classify", null, null, 405, "method-not-allowed", null));
        cases.add(new Case("empty body", "POST", "/v1/classify", "application/json", "", 400, "invalid-request", null));
        cases.add(new Case("unknown field named", "POST", "/v1/classify", "application/json", "{\"image\": \"" + png + "\", \"labels\": [\"a\"], \"top_k\": 3}", 400, "invalid-request", "/top_k"));
        // strict JSON types: nothing is converted
        cases.add(new Case("fractional maxNumPatches", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"" + png + "\"], \"maxNumPatches\": 256.9}", 400, "invalid-request", "/maxNumPatches"));
        cases.add(new Case("maxNumPatches as a string", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"" + png + "\"], \"maxNumPatches\": \"256\"}", 400, "invalid-request", "/maxNumPatches"));
        cases.add(new Case("normalize as a number", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [\"a\"], \"normalize\": 0}", 400, "invalid-request", "/normalize"));
        cases.add(new Case("normalize as a string", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [\"a\"], \"normalize\": \"false\"}", 400, "invalid-request", "/normalize"));
        cases.add(new Case("box coordinate as a string", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[10,\"10\",50,50]]}", 400, "invalid-request", "/boxes/0/1"));
        cases.add(new Case("text as a number", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [\"a\", 5]}", 400, "invalid-request", "/texts/1"));
        cases.add(new Case("scalar for a list", "POST", "/v1/classify", "application/json", "{\"image\": \"" + png + "\", \"labels\": \"cat\"}", 400, "invalid-request", "/labels"));
        cases.add(new Case("topK as a fraction", "POST", "/v1/classify", "application/json", "{\"image\": \"" + png + "\", \"labels\": [\"cat\"], \"topK\": 1.5}", 400, "invalid-request", "/topK"));
        cases.add(new Case("object where the body's object is expected", "POST", "/v1/rank", "application/json", "{\"query\": \"cat\", \"candidates\": [{\"text\": \"a\"}]}", 400, "invalid-request", "/query"));
        cases.add(new Case("openai encoding_format as an array", "POST", "/v1/embeddings", "application/json", "{\"input\": \"cat\", \"encoding_format\": [\"base64\"]}", 400, "invalid-request", "/encoding_format"));
        cases.add(new Case("openai modality as a number", "POST", "/v1/embeddings", "application/json", "{\"input\": \"cat\", \"modality\": 1}", 400, "invalid-request", "/modality"));
        cases.add(new Case("openai model as an object", "POST", "/v1/embeddings", "application/json", "{\"input\": \"cat\", \"model\": {}}", 400, "invalid-request", "/model"));
        // texts
        cases.add(new Case("missing texts", "POST", "/v1/embeddings/text", "application/json", "{}", 400, "invalid-request", "/texts"));
        cases.add(new Case("empty texts", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": []}", 400, "invalid-request", "/texts"));
        cases.add(new Case("null text item", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [\"a\", null]}", 400, "invalid-request", "/texts/1"));
        cases.add(new Case("unknown walk", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [\"a\"], \"walk\": \"sideways\"}", 400, "invalid-request", "/walk"));
        cases.add(new Case("text too long", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [\"ok\", \"" + "x".repeat(5000) + "\"]}", 413, "limit-exceeded", "/texts/1"));
        cases.add(new Case("too many texts", "POST", "/v1/embeddings/text", "application/json", "{\"texts\": [" + "\"a\",".repeat(64) + "\"a\"]}", 413, "limit-exceeded", "/texts"));
        // images
        cases.add(new Case("missing images", "POST", "/v1/embeddings/image", "application/json", "{}", 400, "invalid-request", "/images"));
        cases.add(new Case("empty image string", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"" + png + "\", \"\"]}", 422, "invalid-image", "/images/1"));
        cases.add(new Case("not base64", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"%%%not base64%%%\"]}", 422, "invalid-image", "/images/0"));
        cases.add(new Case("base64 of text (second item)", "POST", "/v1/embeddings/image", "application/json",
                "{\"images\": [\"" + png + "\", \"" + Base64.getEncoder().encodeToString("hello world, not an image".getBytes()) + "\"]}", 415, "unsupported-image-format", "/images/1"));
        cases.add(new Case("truncated PNG", "POST", "/v1/embeddings/image", "application/json",
                "{\"images\": [\"" + png.substring(0, 400) + "\"]}", 422, "invalid-image", "/images/0"));
        cases.add(new Case("http URL instead of bytes", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"http://127.0.0.1/cat.png\"]}", 422, "invalid-image", "/images/0"));
        cases.add(new Case("data URL without base64", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"data:image/png,abc\"]}", 422, "invalid-image", "/images/0"));
        cases.add(new Case("maxNumPatches zero", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"" + png + "\"], \"maxNumPatches\": 0}", 400, "invalid-request", "/maxNumPatches"));
        cases.add(new Case("maxNumPatches over the limit", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"" + png + "\"], \"maxNumPatches\": 100000}", 400, "invalid-request", "/maxNumPatches"));
        cases.add(new Case("image over the pixel limit", "POST", "/v1/embeddings/image", "application/json", "{\"images\": [\"" + hugePngHeader() + "\"]}", 413, "image-too-large", "/images/0"));
        // boxes
        cases.add(new Case("zero-area box", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[10,10,50,50],[5,5,5,40]]}", 422, "invalid-box", "/boxes/1"));
        cases.add(new Case("inverted box", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[50,50,10,10]]}", 422, "invalid-box", "/boxes/0"));
        cases.add(new Case("box fully outside", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[5000,5000,6000,6000]]}", 422, "invalid-box", "/boxes/0"));
        cases.add(new Case("box with three numbers", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[1,2,3]]}", 422, "invalid-box", "/boxes/0"));
        cases.add(new Case("box with null coordinate", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[1,null,30,30]]}", 422, "invalid-box", "/boxes/0"));
        cases.add(new Case("no boxes", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": []}", 400, "invalid-request", "/boxes"));
        cases.add(new Case("too many boxes", "POST", "/v1/embeddings/regions", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [" + "[1,1,9,9],".repeat(256) + "[1,1,9,9]]}", 413, "limit-exceeded", "/boxes"));
        // classify and region classification
        cases.add(new Case("classify without labels", "POST", "/v1/classify", "application/json", "{\"image\": \"" + png + "\"}", 400, "invalid-request", "/labels"));
        cases.add(new Case("classify without image", "POST", "/v1/classify", "application/json", "{\"labels\": [\"cat\"]}", 400, "invalid-request", "/image"));
        cases.add(new Case("template without placeholder", "POST", "/v1/classify", "application/json", "{\"image\": \"" + png + "\", \"labels\": [\"cat\"], \"templates\": [\"a photo\"]}", 400, "invalid-request", "/templates/0"));
        cases.add(new Case("topK zero", "POST", "/v1/classify", "application/json", "{\"image\": \"" + png + "\", \"labels\": [\"cat\"], \"topK\": 0}", 400, "invalid-request", "/topK"));
        cases.add(new Case("region classify bad box", "POST", "/v1/regions/classify", "application/json", "{\"image\": \"" + png + "\", \"boxes\": [[0,0,10,10],[1,2,1,9]], \"labels\": [\"cat\"]}", 422, "invalid-box", "/boxes/1"));
        // rank
        cases.add(new Case("rank without query", "POST", "/v1/rank", "application/json", "{\"candidates\": [{\"text\": \"a\"}]}", 400, "invalid-request", "/query"));
        cases.add(new Case("rank candidate with two modalities", "POST", "/v1/rank", "application/json", "{\"query\": {\"text\": \"cat\"}, \"candidates\": [{\"text\": \"a\"}, {\"text\": \"b\", \"image\": \"" + png + "\"}]}", 400, "invalid-request", "/candidates/1"));
        cases.add(new Case("rank embedding of wrong size", "POST", "/v1/rank", "application/json", "{\"query\": {\"text\": \"cat\"}, \"candidates\": [{\"embedding\": [0.1, 0.2]}]}", 400, "invalid-request", "/candidates/0/embedding"));
        // rescore
        cases.add(new Case("rescore score above 1", "POST", "/v1/detections/rescore", "application/json", "{\"image\": \"" + png + "\", \"vocabulary\": [\"cat\"], \"detections\": [{\"box\": [1,1,20,20], \"score\": 0.4, \"label\": \"cat\"}, {\"box\": [1,1,20,20], \"score\": 1.5, \"label\": \"cat\"}]}", 400, "invalid-request", "/detections/1/score"));
        cases.add(new Case("rescore negative alpha", "POST", "/v1/detections/rescore", "application/json", "{\"image\": \"" + png + "\", \"vocabulary\": [\"cat\"], \"alpha\": -1, \"detections\": [{\"box\": [1,1,20,20], \"score\": 0.4, \"label\": \"cat\"}]}", 400, "invalid-request", "/alpha"));
        cases.add(new Case("rescore NaN-free box check", "POST", "/v1/detections/rescore", "application/json", "{\"image\": \"" + png + "\", \"vocabulary\": [\"cat\"], \"detections\": [{\"box\": [30,1,20,20], \"score\": 0.4, \"label\": \"cat\"}]}", 422, "invalid-box", "/detections/0/box"));
        cases.add(new Case("rescore missing label", "POST", "/v1/detections/rescore", "application/json", "{\"image\": \"" + png + "\", \"vocabulary\": [\"cat\"], \"detections\": [{\"box\": [1,1,20,20], \"score\": 0.4}]}", 400, "invalid-request", "/detections/0/label"));
        // OpenAI-compatible and dense
        cases.add(new Case("openai dimensions", "POST", "/v1/embeddings", "application/json", "{\"input\": \"cat\", \"dimensions\": 8}", 400, "unsupported-parameter", "/dimensions"));
        cases.add(new Case("openai token arrays", "POST", "/v1/embeddings", "application/json", "{\"input\": [[1,2,3]]}", 400, "invalid-request", "/input/0"));
        cases.add(new Case("openai bad encoding_format", "POST", "/v1/embeddings", "application/json", "{\"input\": \"cat\", \"encoding_format\": \"int8\"}", 400, "invalid-request", "/encoding_format"));
        cases.add(new Case("openai image that is not a data URL", "POST", "/v1/embeddings", "application/json", "{\"input\": [\"Zm9v\"], \"modality\": \"image\"}", 415, "unsupported-image-format", "/input/0"));
        cases.add(new Case("dense png with two texts", "POST", "/v1/dense/similarity", "application/json", "{\"image\": \"" + png + "\", \"texts\": [\"a\", \"b\"], \"format\": \"png\"}", 400, "invalid-request", "/texts"));
        cases.add(new Case("dense unknown format", "POST", "/v1/dense/similarity", "application/json", "{\"image\": \"" + png + "\", \"texts\": [\"a\"], \"format\": \"gif\"}", 400, "invalid-request", "/format"));
        return cases;
    }

    /** A valid PNG signature and IHDR claiming 100000 x 100000 pixels, and nothing else: refused from the header. */
    private static String hugePngHeader() {
        java.nio.ByteBuffer png = java.nio.ByteBuffer.allocate(8 + 25);
        png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        png.putInt(13).put("IHDR".getBytes()).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png.array(), 12, 17);
        png.putInt((int) crc.getValue());
        return Base64.getEncoder().encodeToString(png.array());
    }

    @TestFactory
    Stream<DynamicTest> badRequestsGetProblemResponses() {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + c.path()));
            if (c.contentType() != null) {
                request.header("Content-Type", c.contentType());
            }
            request.method(c.method(), c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(c.body()));
            ServerTestSupport.Response response = ServerTestSupport.send(port, request.build());
            assertThat(response.status()).as("%s: %s", c.name(), response.body()).isEqualTo(c.status());
            assertThat(response.contentType()).as(c.name()).startsWith("application/problem+json");
            assertThat(response.json().path("type").asString()).as(c.name()).isEqualTo("urn:fgclip2:problem:" + c.type());
            assertThat(response.json().path("status").asInt()).isEqualTo(c.status());
            assertThat(response.json().path("detail").asString()).isNotBlank();
            assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
            // product words only: no class, package or method names of the implementation
            assertThat(response.json().path("detail").asString()).as(c.name()).doesNotContain("ai.fgclip2").doesNotContain("java.")
                    .doesNotContain("ApiModels").doesNotContain("$").doesNotContain("tools.jackson");
            if (c.pointer() != null) {
                assertThat(response.json().path("pointer").asString()).as(c.name()).isEqualTo(c.pointer());
            }
        }));
    }

    @Test
    void aBadRequestDoesNotDisturbTheNextGoodOne() {
        post("/v1/embeddings/image", "{\"images\": [\"%%%\"]}");
        ServerTestSupport.Response ok = post("/v1/embeddings/text", "{\"texts\": [\"still fine\"]}");
        assertThat(ok.status()).isEqualTo(200);
    }
}
