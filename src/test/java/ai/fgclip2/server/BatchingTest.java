package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Concurrent requests are batched across requests and give the same numbers as the same requests one by one.
 * Each text request carries ONE text, so a batch of more than one text can only come from overlapping requests;
 * the label cache is off here, or the concurrent pass would be served from what the sequential pass cached.
 */
@TestPropertySource(properties = "fgclip2.cache.text-embeddings=0")
class BatchingTest extends E2eServerTest {
    static final int CONCURRENT = 24;

    @Test
    void concurrentRequestsMatchSequentialOnes() throws Exception {
        List<Map<String, Object>> bodies = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        List<JsonNode> images = new ArrayList<>();
        FIXTURE.cases().path("images").forEach(images::add);
        for (int i = 0; i < CONCURRENT; i++) {
            if (i % 3 != 0) { // two text requests for every image request
                paths.add("/v1/embeddings/text");
                bodies.add(Map.of("texts", List.of("request " + i + " 并发的请求")));
            } else {
                paths.add("/v1/embeddings/image");
                bodies.add(Map.of("images", List.of(FIXTURE.imageBase64(images.get(i % images.size()).path("file").asString()))));
            }
        }
        List<JsonNode> sequential = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            sequential.add(post(paths.get(i), bodies.get(i)).json());
        }
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<ServerTestSupport.Response>> futures = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                int request = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    return post(paths.get(request), bodies.get(request));
                }));
            }
            start.countDown();
            for (int i = 0; i < CONCURRENT; i++) {
                ServerTestSupport.Response response = futures.get(i).get(120, TimeUnit.SECONDS);
                assertThat(response.status()).as(response.body()).isEqualTo(200);
                JsonNode concurrentData = response.json().path("data");
                JsonNode sequentialData = sequential.get(i).path("data");
                assertThat(concurrentData.size()).isEqualTo(sequentialData.size());
                for (int item = 0; item < concurrentData.size(); item++) {
                    float[] a = ServerTestSupport.floats(concurrentData.get(item).path("embedding"));
                    float[] b = ServerTestSupport.floats(sequentialData.get(item).path("embedding"));
                    for (int d = 0; d < a.length; d++) {
                        assertThat((double) a[d]).as("request %d item %d dim %d", i, item, d).isCloseTo(b[d], org.assertj.core.data.Offset.offset(1e-5));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        String metrics = get("/actuator/prometheus").body();
        double largestTextBatch = metrics.lines().filter(l -> l.startsWith("fgclip2_batch_size_max") && l.contains("queue=\"text\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).max().orElse(0);
        System.out.println("largest text batch seen: " + largestTextBatch);
        assertThat(largestTextBatch).as("single-text requests were batched together").isGreaterThan(1);
    }
}
