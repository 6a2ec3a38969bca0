package ai.fgclip2.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Plain HTTP calls against the running test server (real sockets, loopback only). */
public final class ServerTestSupport {
    public static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    /** One export of the e2e fixture per JVM: the Spring test contexts share this cache. */
    public static final Path SHARED_CACHE;

    static {
        try {
            SHARED_CACHE = Files.createTempDirectory("fgclip2-test-cache");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ServerTestSupport() {
    }

    public record Response(int status, String contentType, String body, JsonNode json, HttpResponse<byte[]> raw) {
    }

    public static Response post(int port, String path, Object body) {
        return send(port, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body))).build());
    }

    public static Response get(int port, String path) {
        return send(port, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build());
    }

    public static Response send(int port, HttpRequest request) {
        try {
            HttpResponse<byte[]> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofByteArray());
            String contentType = response.headers().firstValue("Content-Type").orElse("");
            String text = new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
            JsonNode json = contentType.contains("json") && !text.isEmpty() ? JSON.readTree(text) : null;
            return new Response(response.statusCode(), contentType, text, json, response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Items waiting in a batching queue ("text" or "image"), from the fgclip2.queue.depth gauge (health details are not public). */
    public static int queueDepth(int port, String queue) {
        return (int) gauge(port, "fgclip2_queue_depth{", "queue=\"" + queue + "\"");
    }

    /** The value of the Prometheus sample whose line starts with {@code sample} (name and "{" or " ") and contains {@code tag}. */
    public static double gauge(int port, String sample, String tag) {
        for (String line : get(port, "/actuator/prometheus").body().split("\n")) {
            if (line.startsWith(sample) && line.contains(tag)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no Prometheus sample " + sample + " with " + tag);
    }

    public static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    public static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
