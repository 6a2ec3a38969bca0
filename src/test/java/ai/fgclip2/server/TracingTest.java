package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * With an OTLP endpoint configured, each request's trace reaches it with spans for image decode, queue wait and
 * inference under the request's own trace. The collector is a tiny OTLP/HTTP receiver on loopback that reads
 * the protobuf wire format directly (trace id and name of every span).
 */
class TracingTest extends E2eServerTest {
    record ReceivedSpan(ByteString traceId, String name) {
    }

    private static final List<ReceivedSpan> RECEIVED = new CopyOnWriteArrayList<>();
    private static final HttpServer COLLECTOR = startCollector();

    @DynamicPropertySource
    static void tracing(DynamicPropertyRegistry registry) {
        registry.add("management.opentelemetry.tracing.export.otlp.endpoint",
                () -> "http://127.0.0.1:" + COLLECTOR.getAddress().getPort() + "/v1/traces");
        registry.add("management.tracing.sampling.probability", () -> "1.0");
        registry.add("management.opentelemetry.tracing.export.schedule-delay", () -> "100ms");
    }

    @AfterAll
    static void stopCollector() {
        COLLECTOR.stop(0);
    }

    @Test
    void aClassificationTraceHasDecodeQueueWaitAndInferenceSpans() throws Exception {
        ServerTestSupport.Response answer = post("/v1/classify", Map.of("image", FIXTURE.imageBase64("images/kitchen_640x427.png"),
                "labels", List.of("a stove", "a tree"), "topK", 2));
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        ReceivedSpan request = null;
        while (System.nanoTime() < deadline) {
            request = RECEIVED.stream().filter(s -> s.name().contains("/v1/classify")).findFirst().orElse(null);
            if (request != null && namesIn(request.traceId()).containsAll(List.of("fgclip2.decode", "fgclip2.queue.wait", "fgclip2.inference"))) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(request).as("the HTTP server span arrived; received %s", RECEIVED).isNotNull();
        assertThat(namesIn(request.traceId())).as("spans in the request's trace").contains("fgclip2.decode", "fgclip2.queue.wait", "fgclip2.inference");
    }

    private static List<String> namesIn(ByteString traceId) {
        return RECEIVED.stream().filter(s -> s.traceId().equals(traceId)).map(ReceivedSpan::name).toList();
    }

    private static HttpServer startCollector() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/v1/traces", exchange -> {
                RECEIVED.addAll(spans(exchange.getRequestBody().readAllBytes()));
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * ExportTraceServiceRequest: resource_spans = 1; ResourceSpans: scope_spans = 2; ScopeSpans: spans = 2;
     * Span: trace_id = 1, name = 5 (opentelemetry-proto, trace/v1/trace.proto).
     */
    private static List<ReceivedSpan> spans(byte[] request) throws IOException {
        List<ReceivedSpan> out = new CopyOnWriteArrayList<>();
        for (ByteString resourceSpans : fields(request, 1)) {
            for (ByteString scopeSpans : fields(resourceSpans.toByteArray(), 2)) {
                for (ByteString span : fields(scopeSpans.toByteArray(), 2)) {
                    out.add(new ReceivedSpan(fields(span.toByteArray(), 1).get(0), fields(span.toByteArray(), 5).get(0).toStringUtf8()));
                }
            }
        }
        return out;
    }

    /** The length-delimited fields numbered {@code number} of one message. */
    private static List<ByteString> fields(byte[] message, int number) throws IOException {
        List<ByteString> out = new java.util.ArrayList<>();
        CodedInputStream in = CodedInputStream.newInstance(message);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag >>> 3 == number && (tag & 7) == 2) {
                out.add(in.readBytes());
            } else {
                in.skipField(tag);
            }
        }
        return out;
    }
}
