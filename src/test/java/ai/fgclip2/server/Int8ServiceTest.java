package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The service exporting the e2e checkpoint in int8 itself: the precision shows in /v1/models and in every
 * response's model reference, the start-up agreement with float32 is reported, embeddings stay close to the
 * official float32 results, and a model below the configured agreement does not start.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.model.precision=int8"})
class Int8ServiceTest {
    private static final E2eFixture FIXTURE = E2eFixture.load();
    private static final Path CHECKPOINT = FIXTURE.checkpointCopy(ServerTestSupport.SHARED_CACHE.resolve("e2e-checkpoint-int8"));
    /** Worst image and text cosine with the official float32 embeddings accepted for the int8 graphs of this tiny model. */
    static final double MIN_COSINE_WITH_FP32 = 0.99;

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.model.dir", CHECKPOINT::toString);
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("exports").toString());
    }

    @Test
    void precisionAndAgreementAreReported() {
        JsonNode models = ServerTestSupport.get(port, "/v1/models").json();
        assertThat(models.path("model").path("precision").asString()).isEqualTo("int8");
        JsonNode info = models.path("data").get(0);
        assertThat(info.path("precision").asString()).isEqualTo("int8");
        System.out.println("int8 agreement on the e2e model: " + info.path("int8Agreement"));
        assertThat(info.path("int8Agreement").path("minCosine").asDouble()).isGreaterThanOrEqualTo(0.999);
        var texts = ServerTestSupport.post(port, "/v1/embeddings/text", Map.of("texts", List.of("a cat")));
        assertThat(texts.json().path("model").path("precision").asString()).isEqualTo("int8");
    }

    @Test
    void embeddingsStayCloseToTheOfficialFloat32Results() {
        for (JsonNode image : FIXTURE.cases().path("images")) {
            if (!image.path("exact").asBoolean()) {
                continue;
            }
            var response = ServerTestSupport.post(port, "/v1/embeddings/image", Map.of("images", List.of(FIXTURE.imageBase64(image.path("file").asString()))));
            assertThat(response.status()).as(response.body()).isEqualTo(200);
            double cosine = ServerTestSupport.cosine(ServerTestSupport.floats(response.json().path("data").get(0).path("embedding")),
                    FIXTURE.floats(image.path("tensor").asString()));
            System.out.printf("int8 image %-20s cosine with official fp32 %.6f%n", image.path("name").asString(), cosine);
            assertThat(cosine).isGreaterThanOrEqualTo(MIN_COSINE_WITH_FP32);
        }
        for (JsonNode group : FIXTURE.cases().path("texts")) {
            var response = ServerTestSupport.post(port, "/v1/embeddings/text", Map.of("texts", group.path("texts"), "walk", group.path("walk").asString()));
            float[] expected = FIXTURE.floats(group.path("tensor").asString());
            JsonNode data = response.json().path("data");
            int dims = expected.length / data.size();
            for (int t = 0; t < data.size(); t++) {
                double cosine = ServerTestSupport.cosine(ServerTestSupport.floats(data.get(t).path("embedding")),
                        java.util.Arrays.copyOfRange(expected, t * dims, (t + 1) * dims));
                assertThat(cosine).as("%s text %d", group.path("walk").asString(), t).isGreaterThanOrEqualTo(MIN_COSINE_WITH_FP32);
            }
        }
    }

    @Test
    void aModelBelowTheRequiredAgreementDoesNotStart() {
        assertThatThrownBy(() -> SpringApplication.run(ServerApplication.class, "--server.port=0", "--server.address=127.0.0.1",
                "--fgclip2.model.dir=" + CHECKPOINT, "--fgclip2.cache.dir=" + ServerTestSupport.SHARED_CACHE.resolve("exports"),
                "--fgclip2.model.precision=int8", "--fgclip2.model.int8-min-centred-cosine=1.000001", "--fgclip2.engine.warmup=false").close())
                .hasStackTraceContaining("agrees too little with float32");
    }
}
