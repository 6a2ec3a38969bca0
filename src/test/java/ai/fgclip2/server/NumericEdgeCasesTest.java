package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Inputs that are valid numbers in JSON but have no meaning for the model: client errors naming the item, never a 500. */
class NumericEdgeCasesTest extends E2eServerTest {

    @Test
    void aBoxWithAreaOnlyInDoublePrecisionIsAnInvalidBox() {
        String image = FIXTURE.imageBase64(FIXTURE.cases().path("images").get(0).path("file").asString());
        var response = post("/v1/embeddings/regions", Map.of("image", image,
                "boxes", List.of(List.of(10, 10, 50, 50), List.of(10, 10, 10.0000001, 10.0000001))));
        assertThat(response.status()).as(response.body()).isEqualTo(422);
        assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:invalid-box");
        assertThat(response.json().path("pointer").asString()).isEqualTo("/boxes/1");
        assertThat(response.json().path("index").asInt()).isEqualTo(1);
    }

    @Test
    void anAllZeroEmbeddingHasNoDirectionToRankBy() {
        var response = post("/v1/rank", Map.of("query", Map.of("text", "a cat"),
                "candidates", List.of(Map.of("text", "a dog"), Map.of("embedding", new float[16]))));
        assertThat(response.status()).as(response.body()).isEqualTo(400);
        assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:invalid-request");
        assertThat(response.json().path("pointer").asString()).isEqualTo("/candidates/1/embedding");
    }

    @Test
    void anEmbeddingOfAnotherSizeIsRefusedBeforeAnyInference() {
        String before = get("/actuator/prometheus").body();
        var response = post("/v1/rank", Map.of("query", Map.of("text", "a query never embedded " + System.nanoTime()),
                "candidates", List.of(Map.of("text", "a dog"), Map.of("embedding", new float[] {1, 2, 3}))));
        assertThat(response.status()).as(response.body()).isEqualTo(400);
        assertThat(response.json().path("pointer").asString()).isEqualTo("/candidates/1/embedding");
        assertThat(response.json().path("detail").asString()).contains("3 dimensions");
        assertThat(textRuns(get("/actuator/prometheus").body())).as("no text inference for a refused request").isEqualTo(textRuns(before));
    }

    private static double textRuns(String prometheus) {
        return prometheus.lines().filter(l -> l.startsWith("fgclip2_inference_seconds_count") && l.contains("graph=\"text\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
