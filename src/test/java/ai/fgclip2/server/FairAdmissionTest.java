package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Admission under load, through HTTP: a request is admitted whole (rank's hundreds of new texts are one
 * admission, not hundreds of chances of a 429), and a maximal classification does not starve small requests that
 * arrive while it runs.
 */
class FairAdmissionTest extends E2eServerTest {

    @Test
    void rankAdmitsAllItsNewTextCandidatesTogether() {
        List<Map<String, String>> candidates = IntStream.range(0, 600).mapToObj(i -> Map.of("text", "candidate number " + i + " of a rank request")).toList();
        var response = post("/v1/rank", Map.of("query", Map.of("text", "a query"), "candidates", candidates, "topK", 5));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(response.json().path("results").size()).isEqualTo(5);
    }

    @Test
    void smallRequestsAreServedWhileAMaximalClassificationRuns() throws Exception {
        List<String> labels = IntStream.range(0, 1000).mapToObj(i -> "fair label " + i + " " + System.nanoTime()).toList();
        List<String> templates = IntStream.range(0, 32).mapToObj(i -> "template " + i + " of a {}.").toList();
        String big = ServerTestSupport.JSON.writeValueAsString(Map.of("image", FIXTURE.imageBase64(FIXTURE.cases().path("images").get(0).path("file").asString()),
                "labels", labels, "templates", templates, "topK", 1));
        CompletableFuture<HttpResponse<String>> classification = HttpClient.newHttpClient().sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/classify")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(big)).build(), HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ServerTestSupport.queueDepth(port, "text") < 1000) {
            assertThat(System.nanoTime()).as("the classification's prompts reached the queue").isLessThan(deadline);
            Thread.sleep(10);
        }
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            statuses.add(post("/v1/embeddings/text", Map.of("texts", List.of("a small request " + i + " " + System.nanoTime()))).status());
        }
        boolean smallOnesFinishedFirst = !classification.isDone();
        assertThat(statuses).as("small requests are admitted while the large one runs").containsOnly(200);
        assertThat(smallOnesFinishedFirst).as("they did not wait for the 32,000 prompts ahead of them").isTrue();
        assertThat(classification.get(120, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
}
