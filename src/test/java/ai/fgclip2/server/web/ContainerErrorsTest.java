package ai.fgclip2.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.RawHttp;
import ai.fgclip2.server.ServerTestSupport;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;

/**
 * Requests the servlet container refuses before (or instead of) the application, sent over raw sockets: each
 * must still be answered with an RFC 9457 problem of a stable type, never Tomcat's HTML page or Spring Boot's
 * default error JSON.
 */
class ContainerErrorsTest extends E2eServerTest {

    record Case(String name, String request, int status, String type) {
    }

    private static final String HOST = "Host: 127.0.0.1\r\n";

    private static Stream<Case> cases() {
        StringBuilder manyHeaders = new StringBuilder();
        for (int i = 0; i < 150; i++) {
            manyHeaders.append("X-Header-").append(i).append(": v\r\n");
        }
        return Stream.of(
                new Case("encoded slash in the path", "GET /v1/models%2Fsecret HTTP/1.1\r\n" + HOST + "\r\n", 400, "invalid-request"),
                new Case("invalid percent escape", "GET /v1/mo%zzdels HTTP/1.1\r\n" + HOST + "\r\n", 400, "invalid-request"),
                new Case("very long URL", "GET /v1/" + "a".repeat(20_000) + " HTTP/1.1\r\n" + HOST + "\r\n", 400, "invalid-request"),
                new Case("very long header", "GET /v1/models HTTP/1.1\r\n" + HOST + "X-Long: " + "b".repeat(20_000) + "\r\n\r\n", 400, "invalid-request"),
                new Case("too many headers", "GET /v1/models HTTP/1.1\r\n" + HOST + manyHeaders + "\r\n", 400, "invalid-request"),
                new Case("malformed Content-Length", "POST /v1/embeddings/text HTTP/1.1\r\n" + HOST + "Content-Type: application/json\r\nContent-Length: 12abc\r\n\r\n",
                        400, "invalid-request"),
                new Case("TRACE", "TRACE /v1/models HTTP/1.1\r\n" + HOST + "\r\n", 405, "method-not-allowed"),
                new Case("unknown transfer encoding", "POST /v1/embeddings/text HTTP/1.1\r\n" + HOST + "Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n",
                        400, "invalid-request"));
    }

    @TestFactory
    Stream<DynamicTest> containerRefusalsAreProblems() {
        return cases().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            RawHttp.Response response;
            try (RawHttp connection = RawHttp.connect(port, Duration.ofSeconds(15))) {
                response = connection.send(c.request()).response();
            }
            assertThat(response.status()).as("%s: %s", c.name(), response.body()).isEqualTo(c.status());
            assertThat(response.header("Content-Type")).as(c.name()).isEqualTo("application/problem+json");
            JsonNode problem = response.json();
            assertThat(problem.path("type").asString()).as(c.name()).isEqualTo("urn:fgclip2:problem:" + c.type());
            assertThat(problem.path("status").asInt()).isEqualTo(c.status());
            assertThat(problem.path("detail").asString()).isNotBlank();
            assertThat(problem.path("instance").asString()).as(c.name()).startsWith("/");
            assertThat(response.body()).doesNotContain("<html").doesNotContain("Tomcat").doesNotContain("timestamp");
        }));
    }

    @Test
    void traceNamesTheAllowedMethods() {
        try (RawHttp connection = RawHttp.connect(port, Duration.ofSeconds(15))) {
            RawHttp.Response response = connection.send("TRACE /v1/classify HTTP/1.1\r\n" + HOST + "\r\n").response();
            assertThat(response.status()).isEqualTo(405);
            assertThat(response.header("Allow")).contains("POST").doesNotContain("TRACE");
        }
    }

    @Test
    void healthDetailsAreNotPublic() {
        ServerTestSupport.Response health = get("/actuator/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().path("status").asString()).isEqualTo("UP");
        assertThat(health.body()).doesNotContain("details").doesNotContain("provider").doesNotContain("/");
    }
}
