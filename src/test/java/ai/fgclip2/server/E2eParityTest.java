package ai.fgclip2.server;

import static ai.fgclip2.server.ServerTestSupport.cosine;
import static ai.fgclip2.server.ServerTestSupport.floats;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;

/**
 * Whole requests through HTTP against the official code's results (fixtures/fgclip2-e2e, driven by cases.json):
 * image, region and text embeddings by cosine, classification, region classification and rescoring by value.
 */
class E2eParityTest extends E2eServerTest {
    static final double PNG_COSINE = 0.99999;
    static final double JPEG_COSINE = 0.999;
    static final double VALUE_TOLERANCE = 1e-4;

    @TestFactory
    Stream<DynamicTest> imageEmbeddings() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode image : FIXTURE.cases().path("images")) {
            String name = image.path("name").asString();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                var response = post("/v1/embeddings/image", Map.of("images", List.of(FIXTURE.imageBase64(image.path("file").asString()))));
                assertThat(response.status()).as(response.body()).isEqualTo(200);
                JsonNode item = response.json().path("data").get(0);
                assertThat(item.path("grid").get(0).asInt()).isEqualTo(image.path("grid").get(0).asInt());
                assertThat(item.path("grid").get(1).asInt()).isEqualTo(image.path("grid").get(1).asInt());
                assertThat(item.path("maxNumPatches").asInt()).isEqualTo(image.path("maxNumPatches").asInt());
                double cos = cosine(floats(item.path("embedding")), FIXTURE.floats(image.path("tensor").asString()));
                System.out.printf("e2e image %-20s cosine %.7f%n", name, cos);
                assertThat(cos).isGreaterThanOrEqualTo(image.path("exact").asBoolean() ? PNG_COSINE : JPEG_COSINE);
            }));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> regionEmbeddings() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode region : FIXTURE.cases().path("regions")) {
            String imageName = region.path("image").asString();
            JsonNode image = imageCase(imageName);
            tests.add(DynamicTest.dynamicTest(imageName, () -> {
                var response = post("/v1/embeddings/regions", Map.of("image", FIXTURE.imageBase64(image.path("file").asString()), "boxes", region.path("boxes")));
                assertThat(response.status()).as(response.body()).isEqualTo(200);
                float[] expected = FIXTURE.floats(region.path("tensor").asString());
                JsonNode data = response.json().path("data");
                assertThat(data.size()).as("one embedding per box").isEqualTo(region.path("boxes").size());
                int dims = expected.length / data.size();
                assertThat(expected.length).isEqualTo(data.size() * dims);
                for (int b = 0; b < data.size(); b++) {
                    float[] want = java.util.Arrays.copyOfRange(expected, b * dims, (b + 1) * dims);
                    double cos = cosine(floats(data.get(b).path("embedding")), want);
                    System.out.printf("e2e region %-20s box %d cosine %.7f%n", imageName, b, cos);
                    assertThat(cos).isGreaterThanOrEqualTo(image.path("exact").asBoolean() ? PNG_COSINE : JPEG_COSINE);
                }
            }));
            if (region.has("labels")) {
                tests.add(DynamicTest.dynamicTest(imageName + " region classification", () -> {
                    var response = post("/v1/regions/classify", Map.of("image", FIXTURE.imageBase64(image.path("file").asString()),
                            "boxes", region.path("boxes"), "labels", region.path("labels")));
                    assertThat(response.status()).as(response.body()).isEqualTo(200);
                    float[] expected = FIXTURE.floats(region.path("softmax100").asString());
                    int labelCount = region.path("labels").size();
                    assertThat(response.json().path("results").size()).as("one result per box").isEqualTo(region.path("boxes").size());
                    for (JsonNode result : response.json().path("results")) {
                        assertThat(result.path("labels").size()).as("every label ranked").isEqualTo(labelCount);
                        int box = result.path("index").asInt();
                        for (JsonNode label : result.path("labels")) {
                            int l = indexOf(region.path("labels"), label.path("label").asString());
                            assertThat(label.path("probability").asDouble()).as("box %d label %s", box, label.path("label").asString())
                                    .isCloseTo(expected[box * labelCount + l], Offset.offset(VALUE_TOLERANCE));
                        }
                    }
                }));
            }
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> textEmbeddings() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode group : FIXTURE.cases().path("texts")) {
            String walk = group.path("walk").asString();
            tests.add(DynamicTest.dynamicTest(walk, () -> {
                var response = post("/v1/embeddings/text", Map.of("texts", group.path("texts"), "walk", walk));
                assertThat(response.status()).as(response.body()).isEqualTo(200);
                float[] expected = FIXTURE.floats(group.path("tensor").asString());
                JsonNode data = response.json().path("data");
                assertThat(data.size()).as("one embedding per text").isEqualTo(group.path("texts").size());
                int dims = expected.length / data.size();
                for (int t = 0; t < data.size(); t++) {
                    JsonNode item = data.get(t);
                    assertThat(item.path("walk").asString()).isEqualTo(walk);
                    assertThat(item.path("tokens").asInt()).as("tokens of text %d", t).isEqualTo(group.path("tokens_including_eos").get(t).asInt());
                    double cos = cosine(floats(item.path("embedding")), java.util.Arrays.copyOfRange(expected, t * dims, (t + 1) * dims));
                    System.out.printf("e2e text %-5s %d cosine %.7f%n", walk, t, cos);
                    assertThat(cos).isGreaterThanOrEqualTo(PNG_COSINE);
                }
            }));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> classification() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode classify : FIXTURE.cases().path("classify")) {
            JsonNode image = imageCase(classify.path("image").asString());
            tests.add(DynamicTest.dynamicTest(classify.path("image").asString(), () -> {
                var response = post("/v1/classify", Map.of("image", FIXTURE.imageBase64(image.path("file").asString()),
                        "labels", classify.path("labels"), "templates", classify.path("templates")));
                assertThat(response.status()).as(response.body()).isEqualTo(200);
                float[] logits = FIXTURE.floats(classify.path("logits").asString());
                float[] probabilities = FIXTURE.floats(classify.path("probabilities").asString());
                JsonNode results = response.json().path("results");
                assertThat(results.size()).isEqualTo(classify.path("labels").size());
                double previous = Double.POSITIVE_INFINITY;
                for (JsonNode result : results) {
                    int l = indexOf(classify.path("labels"), result.path("label").asString());
                    assertThat(result.path("logit").asDouble()).isCloseTo(logits[l], Offset.offset(VALUE_TOLERANCE));
                    assertThat(result.path("probability").asDouble()).isCloseTo(probabilities[l], Offset.offset(VALUE_TOLERANCE));
                    assertThat(result.path("probability").asDouble()).isLessThanOrEqualTo(previous);
                    previous = result.path("probability").asDouble();
                }
            }));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    /** The rescore rows: [p_align, fused with alpha=beta=0.5, fused with alpha=0.3, beta=0.7]. */
    @TestFactory
    Stream<DynamicTest> rescoring() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode rescore : FIXTURE.cases().path("rescore")) {
            JsonNode image = imageCase(rescore.path("image").asString());
            String tensor = rescore.path("expected").asString().split(" ")[0];
            float[] expected = FIXTURE.floats(tensor);
            double[][] weights = {{0.5, 0.5}, {0.3, 0.7}};
            for (int w = 0; w < weights.length; w++) {
                double alpha = weights[w][0];
                double beta = weights[w][1];
                int column = w + 1;
                tests.add(DynamicTest.dynamicTest("alpha=" + alpha + " beta=" + beta, () -> {
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("image", FIXTURE.imageBase64(image.path("file").asString()));
                    body.put("detections", rescore.path("detections"));
                    body.put("vocabulary", rescore.path("vocabulary"));
                    body.put("alpha", alpha);
                    body.put("beta", beta);
                    var response = post("/v1/detections/rescore", body);
                    assertThat(response.status()).as(response.body()).isEqualTo(200);
                    JsonNode detections = response.json().path("detections");
                    assertThat(detections.size()).as("one row per detection").isEqualTo(rescore.path("detections").size());
                    int columns = expected.length / detections.size();
                    for (int d = 0; d < detections.size(); d++) {
                        JsonNode detection = detections.get(d);
                        assertThat(detection.path("index").asInt()).isEqualTo(d);
                        assertThat(detection.path("alignProbability").asDouble()).isCloseTo(expected[d * columns], Offset.offset(VALUE_TOLERANCE));
                        assertThat(detection.path("score").asDouble()).isCloseTo(expected[d * columns + column], Offset.offset(VALUE_TOLERANCE));
                    }
                }));
            }
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    private static JsonNode imageCase(String name) {
        for (JsonNode image : FIXTURE.cases().path("images")) {
            if (image.path("name").asString().equals(name)) {
                return image;
            }
        }
        throw new AssertionError("cases.json names unknown image " + name);
    }

    private static int indexOf(JsonNode array, String value) {
        for (int i = 0; i < array.size(); i++) {
            if (array.get(i).asString().equals(value)) {
                return i;
            }
        }
        throw new AssertionError(value + " not in " + array);
    }
}
