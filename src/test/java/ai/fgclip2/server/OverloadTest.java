package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.annotation.DirtiesContext;

/**
 * A full queue answers 429 with Retry-After instead of queueing without bound. The queue holds 2 items and a
 * batch waits 3 s to fill: a first request's 10 texts are admitted together and wait, so a second request is
 * refused deterministically, and the first still completes. Runs on the
 * built-in demo model, which also checks that the service starts with nothing configured. The context is closed
 * after the class (not at JVM exit) so the two queued texts drain while ONNX Runtime's environment is alive: its
 * own JVM shutdown hook frees it concurrently with Spring's.
 */
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.batching.queue-capacity=2", "fgclip2.batching.text-max-batch=64",
                "fgclip2.batching.max-wait=3s", "fgclip2.engine.warmup=false"})
class OverloadTest {
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void cache(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("demo").toString());
    }

    @Test
    void fullQueueAnswers429WithRetryAfterAndAdmittedWorkCompletes(CapturedOutput output) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        String first = ServerTestSupport.JSON.writeValueAsString(Map.of("texts", IntStream.range(0, 10).mapToObj(i -> "first " + i).toList()));
        CompletableFuture<HttpResponse<String>> admitted = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/embeddings/text"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(first)).build(), HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ServerTestSupport.queueDepth(port, "text") == 0) {
            assertThat(System.nanoTime()).as("the first request reached the queue").isLessThan(deadline);
            Thread.sleep(20);
        }
        ServerTestSupport.Response refused = ServerTestSupport.post(port, "/v1/embeddings/text", Map.of("texts", List.of("second")));
        assertThat(refused.status()).as(refused.body()).isEqualTo(429);
        assertThat(refused.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:overloaded");
        assertThat(refused.raw().headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
        assertThat(admitted.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        // an expected rejection is no warning: no WARN line, no stack trace in the log
        assertThat(output.getAll()).doesNotContain("QueueFullException").doesNotContain("Exception thrown during asynchronous load");
    }

    @Test
    void demoModelIsMarkedInEveryModelAnswer() {
        ServerTestSupport.Response models = ServerTestSupport.get(port, "/v1/models");
        assertThat(models.json().path("model").path("demo").asBoolean()).isTrue();
        assertThat(models.json().path("data").get(0).path("notice").asString()).contains("untrained");
    }
}
