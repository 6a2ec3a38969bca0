package ai.fgclip2.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.ServerTestSupport;
import java.net.URI;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/** API keys and CORS switched on (both are off by default): who gets in, what a browser is told. */
@TestPropertySource(properties = {"fgclip2.security.api-keys=first-key-0123,second-key-4567", "fgclip2.security.cors.allowed-origins=https://app.example"})
class SecurityTest extends E2eServerTest {
    private static final String TEXTS = "{\"texts\": [\"a red kettle\"]}";

    private ServerTestSupport.Response send(String method, String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return ServerTestSupport.send(port, request.build());
    }

    @Test
    void requestsWithoutAValidKeyGet401() {
        for (String[] headers : new String[][] {{}, {"X-API-Key", "first-key-012"}, {"Authorization", "Bearer second-key-45678"}, {"Authorization", "Basic Zm9vOmJhcg=="}}) {
            String[] all = new String[headers.length + 2];
            all[0] = "Content-Type";
            all[1] = "application/json";
            System.arraycopy(headers, 0, all, 2, headers.length);
            ServerTestSupport.Response response = send("POST", "/v1/embeddings/text", TEXTS, all);
            assertThat(response.status()).as(response.body()).isEqualTo(401);
            assertThat(response.contentType()).isEqualTo("application/problem+json");
            assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:unauthenticated");
            assertThat(response.raw().headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        }
        assertThat(send("GET", "/v1/models", null).status()).isEqualTo(401);
        assertThat(send("GET", "/actuator/prometheus", null).status()).isEqualTo(401);
    }

    @Test
    void eitherKeyInEitherHeaderIsAccepted() {
        assertThat(send("POST", "/v1/embeddings/text", TEXTS, "Content-Type", "application/json", "X-API-Key", "first-key-0123").status()).isEqualTo(200);
        assertThat(send("POST", "/v1/embeddings/text", TEXTS, "Content-Type", "application/json", "Authorization", "Bearer second-key-4567").status()).isEqualTo(200);
        assertThat(send("GET", "/v1/models", null, "Authorization", "bearer first-key-0123").status()).isEqualTo(200);
    }

    @Test
    void probesAreOpenAndHealthDetailsNeedAKey() {
        assertThat(send("GET", "/actuator/health/liveness", null).status()).isEqualTo(200);
        assertThat(send("GET", "/actuator/health/readiness", null).status()).isEqualTo(200);
        ServerTestSupport.Response anonymous = send("GET", "/actuator/health", null);
        assertThat(anonymous.status()).isEqualTo(200);
        assertThat(anonymous.body()).doesNotContain("details");
        ServerTestSupport.Response operator = send("GET", "/actuator/health", null, "X-API-Key", "second-key-4567");
        assertThat(operator.json().path("components").path("model").path("details").path("provider").asString()).isEqualTo("cpu");
    }

    @Test
    void allowedOriginGetsCorsHeadersAndItsPreflightNeedsNoKey() {
        ServerTestSupport.Response preflight = send("OPTIONS", "/v1/embeddings/text", null, "Origin", "https://app.example",
                "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-api-key");
        assertThat(preflight.status()).isEqualTo(200);
        assertThat(preflight.raw().headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
        assertThat(preflight.raw().headers().firstValue("Access-Control-Allow-Methods")).hasValueSatisfying(v -> assertThat(v).contains("POST"));
        ServerTestSupport.Response actual = send("POST", "/v1/embeddings/text", TEXTS, "Content-Type", "application/json", "X-API-Key", "first-key-0123",
                "Origin", "https://app.example");
        assertThat(actual.status()).isEqualTo(200);
        assertThat(actual.raw().headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
    }

    @Test
    void otherOriginsAreRefused() {
        ServerTestSupport.Response preflight = send("OPTIONS", "/v1/embeddings/text", null, "Origin", "https://evil.example",
                "Access-Control-Request-Method", "POST");
        assertThat(preflight.status()).isEqualTo(403);
        assertThat(preflight.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:forbidden");
        assertThat(preflight.raw().headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }
}
