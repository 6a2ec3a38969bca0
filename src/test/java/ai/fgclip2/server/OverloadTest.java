package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.annotation.DirtiesContext;

/**
 * A full queue answers 429 with Retry-After instead of queueing without bound. The queue holds 2 items and a
 * batch waits 10 s to fill, so the third text of one request is refused deterministically. Runs on the
 * built-in demo model, which also checks that the service starts with nothing configured. The context is closed
 * after the class (not at JVM exit) so the two queued texts drain while ONNX Runtime's environment is alive: its
 * own JVM shutdown hook frees it concurrently with Spring's.
 */
@DirtiesContext
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.batching.queue-capacity=2", "fgclip2.batching.text-max-batch=64",
                "fgclip2.batching.max-wait=10s", "fgclip2.engine.warmup=false"})
class OverloadTest {
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void cache(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("demo").toString());
    }

    @Test
    void fullQueueAnswers429WithRetryAfter() {
        ServerTestSupport.Response response = ServerTestSupport.post(port, "/v1/embeddings/text",
                Map.of("texts", Collections.nCopies(10, "a text").stream().map(t -> t + Math.random()).toList()));
        assertThat(response.status()).as(response.body()).isEqualTo(429);
        assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:overloaded");
        assertThat(response.raw().headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
    }

    @Test
    void demoModelIsMarkedInEveryModelAnswer() {
        ServerTestSupport.Response models = ServerTestSupport.get(port, "/v1/models");
        assertThat(models.json().path("model").path("demo").asBoolean()).isTrue();
        assertThat(models.json().path("data").get(0).path("notice").asString()).contains("untrained");
    }
}
