package ai.fgclip2.server.web;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.RawHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * Bodies as hostile or unlucky clients send them, over raw sockets: chunked past the size limit, stalled,
 * trickled, and more of them at once than there are request threads. The server here has 8 request threads,
 * a 256 KiB body limit, a 5 s deadline to receive a body and 300 KB for all bodies being received.
 */
@TestPropertySource(properties = {"server.tomcat.threads.max=8", "server.tomcat.threads.min-spare=2", "fgclip2.limits.max-request-bytes=262144",
        "fgclip2.limits.request-read-timeout=5s", "fgclip2.limits.max-buffered-request-bytes=300000"})
class SlowAndChunkedBodiesTest extends E2eServerTest {
    @org.springframework.beans.factory.annotation.Autowired
    io.micrometer.core.instrument.MeterRegistry registry;

    private static final int MAX_BYTES = 262_144;
    private static final int THREADS = 8;
    private static final Duration READ = Duration.ofSeconds(15);

    private static String head(String path, String contentType, String framing) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + contentType + "\r\n" + framing + "\r\n";
    }

    private static void assertProblem(RawHttp.Response response, int status, String type) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:" + type);
    }

    @Test
    void chunkedJsonBodyIsServed() {
        String body = "{\"texts\": [\"a red kettle\", \"a window\"]}";
        try (RawHttp connection = RawHttp.connect(port, READ)) {
            connection.send(head("/v1/embeddings/text", "application/json", "Transfer-Encoding: chunked\r\n"));
            for (String piece : List.of(body.substring(0, 10), body.substring(10, 25), body.substring(25))) {
                connection.send(Integer.toHexString(piece.length()) + "\r\n" + piece + "\r\n");
            }
            RawHttp.Response response = connection.send("0\r\n\r\n").response();
            assertThat(response.status()).as(response.body()).isEqualTo(200);
            assertThat(response.json().path("data").size()).isEqualTo(2);
        }
    }

    /** The body is never finished: the 413 must come as soon as the limit is passed, not after buffering it whole. */
    @Test
    void chunkedBodyOverTheLimitIsRefusedAsSoonAsItPassesIt() {
        for (String contentType : List.of("application/json", "multipart/form-data; boundary=xyz")) {
            try (RawHttp connection = RawHttp.connect(port, READ)) {
                connection.send(head("/v1/embeddings/image", contentType, "Transfer-Encoding: chunked\r\n"));
                byte[] filler = new byte[MAX_BYTES + 1];
                Arrays.fill(filler, (byte) 'x');
                connection.send(Integer.toHexString(4 * MAX_BYTES) + "\r\n").send(filler);
                RawHttp.Response response = connection.response();
                assertProblem(response, 413, "limit-exceeded");
                assertThat(response.json().path("detail").asString()).contains("fgclip2.limits.max-request-bytes");
                assertThat(response.header("Connection")).isEqualTo("close");
            }
        }
    }

    /**
     * Three times as many clients as request threads, half stalled after one body byte, half sending a byte every
     * 300 ms: a normal request is still answered while they hang on, and each of them gets 408 at the deadline,
     * which a trickle does not extend.
     */
    @Test
    void slowClientsCostConnectionsNotThreads() throws Exception {
        List<RawHttp> slow = new ArrayList<>();
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        try {
            for (int i = 0; i < 3 * THREADS; i++) {
                RawHttp connection = RawHttp.connect(port, READ);
                connection.send(head("/v1/embeddings/text", "application/json", "Content-Length: 1000\r\n") + "{");
                slow.add(connection);
            }
            List<RawHttp> trickling = slow.subList(0, slow.size() / 2);
            trickle.scheduleAtFixedRate(() -> trickling.forEach(c -> c.trySend(" ".getBytes(UTF_8))), 300, 300, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> normal = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/embeddings/text"))
                    .timeout(Duration.ofSeconds(4)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": [\"still served\"]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(normal.statusCode()).as(normal.body()).isEqualTo(200);
            // answered while every slow client was still connected (the deadline is 5 s)
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            for (RawHttp connection : slow) {
                RawHttp.Response response = connection.response();
                assertProblem(response, 408, "request-timeout");
                assertThat(response.header("Connection")).isEqualTo("close");
            }
        } finally {
            trickle.shutdownNow();
            slow.forEach(RawHttp::close);
        }
    }

    /** A served request gives its body's bytes back to the budget: four bodies of a third of it, one after another, all pass. */
    @Test
    void servedBodiesReleaseTheirBudget() {
        String padded = "{\"texts\": [\"a red kettle\"]" + " ".repeat(100_000) + "}";
        for (int i = 0; i < 4; i++) {
            try (RawHttp connection = RawHttp.connect(port, READ)) {
                RawHttp.Response response = connection.send(head("/v1/embeddings/text", "application/json", "Content-Length: " + padded.length() + "\r\n")
                        + padded).response();
                assertThat(response.status()).as("request %d: %s", i, response.body()).isEqualTo(200);
            }
        }
    }

    /** Bodies being received share a memory budget: past it a new body is refused with 429, not buffered. */
    @Test
    void bufferedBodiesShareABudget() throws InterruptedException {
        // other tests' bodies are released when their exchange completes on the server, which can trail the answer
        awaitNoBufferedBytes();
        byte[] part = new byte[200_000];
        Arrays.fill(part, (byte) ' ');
        try (RawHttp first = RawHttp.connect(port, READ); RawHttp second = RawHttp.connect(port, READ)) {
            first.send(head("/v1/embeddings/text", "application/json", "Content-Length: 250000\r\n")).send(part);
            second.send(head("/v1/embeddings/text", "application/json", "Content-Length: 250000\r\n")).send(part);
            // whichever body arrived second went over the budget; the other waits for its missing bytes until the deadline
            List<RawHttp.Response> answers = List.of(first.response(), second.response());
            RawHttp.Response refused = answers.stream().filter(r -> r.status() == 429).findFirst().orElseThrow(() -> new AssertionError(answers));
            assertProblem(refused, 429, "overloaded");
            assertThat(refused.header("Retry-After")).isEqualTo("1");
            assertThat(answers).extracting(RawHttp.Response::status).containsExactlyInAnyOrder(429, 408);
        }
        awaitNoBufferedBytes(); // both bodies gave their bytes back
    }

    private void awaitNoBufferedBytes() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (registry.get(RequestBodyFilter.BUFFERED_METRIC).gauge().value() > 0) {
            assertThat(System.nanoTime()).as("request body bytes still held: %s", registry.get(RequestBodyFilter.BUFFERED_METRIC).gauge().value())
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
