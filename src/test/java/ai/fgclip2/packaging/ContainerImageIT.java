package ai.fgclip2.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.PruneType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds the real Dockerfile (CPU variant, on a base image made from Debian packages), runs the image as
 * Kubernetes would (read-only root, /tmp and the cache as tmpfs, non-root) with host networking on a loopback
 * port, and checks an embedding request, the Prometheus endpoint and that SIGTERM lets an in-flight request
 * finish. Skipped with a message where no Docker daemon answers, except under CI=true, where that fails.
 */
@EnabledIf(value = "dockerAvailable", disabledReason = ContainerImageIT.NO_DOCKER)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerImageIT {
    static final String NO_DOCKER = "no Docker daemon answers: the container image test (ContainerImageIT) is skipped";
    private static final String BASE_IMAGE = "fgclip2-base:bookworm-jre17";
    private static final String IMAGE = "fgclip2-server:it";
    private static final Path BASE_IMAGE_SCRIPT = Path.of("src/test/docker/make-base-image.sh");
    private static final Path JAR = Path.of("target/fgclip2-server.jar");
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    /** spring.lifecycle.timeout-per-shutdown-phase plus JVM exit. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(45);
    /** Long enough for every other JVM shutdown hook to have run (ONNX Runtime's releases its environment). */
    private static final Duration IN_FLIGHT_AFTER_SIGTERM = Duration.ofSeconds(3);
    private static final String EMBED_PATH = "/v1/embeddings/text";
    private static final String EMBED_BODY = "{\"texts\":[\"a photo of a cat\"]}";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final JsonMapper json = new JsonMapper();
    private ApplicationConfig app;
    private GenericContainer<?> container;
    private int port;

    @BeforeAll
    void startContainer() throws Exception {
        assertThat(JAR).as("the packaged jar (failsafe runs after package)").exists();
        app = ApplicationConfig.load();
        makeBaseImage();

        long buildStart = System.nanoTime();
        String image = buildImage();
        System.out.printf("[ContainerImageIT] image built in %.1f s%n", seconds(System.nanoTime() - buildStart));

        port = freeLoopbackPort();
        container = new GenericContainer<>(DockerImageName.parse(image))
                .withNetworkMode("host")
                .withEnv("SERVER_PORT", String.valueOf(port))
                .withEnv("SERVER_ADDRESS", "127.0.0.1")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withReadonlyRootfs(true)
                        .withTmpFs(Map.of(
                                "/tmp", "rw,size=512m",
                                "/var/cache/fgclip2", "rw,size=1g,uid=10001,gid=10001")))
                .withLogConsumer(frame -> {
                    if (frame.getType() != OutputFrame.OutputType.END) {
                        System.out.println("[container] " + frame.getUtf8StringWithoutLineEnding());
                    }
                })
                .waitingFor(new ReadinessWait());
        long start = System.nanoTime();
        container.start();
        System.out.printf("[ContainerImageIT] container ready in %.1f s%n", seconds(System.nanoTime() - start));
    }

    @AfterAll
    void stopContainerAndRemoveBuildLeftovers() {
        if (container != null) {
            container.stop();
        }
        // the unpack stage holds a copy of the jar; each new jar would leave another one behind
        DockerClientFactory.instance().client().pruneCmd(PruneType.IMAGES).withDangling(true)
                .withLabelFilter("ai.fgclip2.build-stage=unpack").exec();
    }

    @Test
    @Order(1)
    void embedsText() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(EMBED_PATH))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(EMBED_BODY)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode embedding = json.readTree(response.body()).path("data").path(0).path("embedding");
        assertThat(embedding.isArray()).as(response.body()).isTrue();
        assertThat(embedding.size()).isPositive();
        assertThat(embedding.values()).allSatisfy(v -> assertThat(Double.isFinite(v.asDouble())).isTrue());
    }

    @Test
    @Order(2)
    void exposesPrometheusMetricsIncludingTheEmbeddingRequests() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(app.actuatorPath("prometheus"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("jvm_memory_used_bytes")
                .containsPattern("http_server_requests_seconds_count\\{[^}]*uri=\"" + EMBED_PATH + "\"");
    }

    /**
     * Sends the request line, headers and half of the body, so the request is inside the servlet (reading its
     * body) when SIGTERM arrives, and holds it there for a few seconds while the JVM runs its shutdown hooks:
     * graceful shutdown must refuse new work, keep the engine alive and let the request complete.
     */
    @Test
    @Order(3)
    void sigtermLetsAnInFlightRequestComplete() throws Exception {
        byte[] body = EMBED_BODY.getBytes(StandardCharsets.UTF_8);
        int half = body.length / 2;
        DockerClient docker = DockerClientFactory.instance().client();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout((int) DRAIN_TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + EMBED_PATH + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, half);
            out.flush();
            Thread.sleep(1000); // the server dispatches on the headers; now it waits for the rest of the body

            long sigterm = System.nanoTime();
            docker.killContainerCmd(container.getContainerId()).withSignal("SIGTERM").exec();
            assertNewRequestsRefusedWhileDraining();
            Thread.sleep(Math.max(0, IN_FLIGHT_AFTER_SIGTERM.toMillis() - (System.nanoTime() - sigterm) / 1_000_000));
            assertThat(container.isRunning()).as("still draining the in-flight request").isTrue();

            out.write(body, half, body.length - half);
            out.flush();
            String response = readAll(socket.getInputStream());
            assertThat(response).as("response to the in-flight request").startsWith("HTTP/1.1 200").contains("\"embedding\"");
        }

        Integer exitCode = docker.waitContainerCmd(container.getContainerId())
                .start().awaitStatusCode(DRAIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and exited on the signal
        assertThat(exitCode).isIn(0, 143);
        assertThat(container.getLogs()).contains("Commencing graceful shutdown");
    }

    /** Readiness leaves 200 (connection refused or closed unanswered, or 503) soon after SIGTERM. */
    private void assertNewRequestsRefusedWhileDraining() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> readiness = http.send(HttpRequest.newBuilder(uri(app.probePath("readiness")))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (readiness.statusCode() != 200) {
                    return;
                }
            } catch (IOException refused) {
                return;
            }
            Thread.sleep(200);
        }
        fail("the server still accepted and reported ready 10 s after SIGTERM");
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** Polls readiness on the loopback port; host networking has no mapped ports to wait on. */
    private final class ReadinessWait extends AbstractWaitStrategy {
        @Override
        protected void waitUntilReady() {
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (!waitStrategyTarget.isRunning()) {
                    throw new IllegalStateException("the container exited before it was ready");
                }
                try {
                    HttpResponse<Void> response = http.send(HttpRequest.newBuilder(uri(app.probePath("readiness")))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYetListening) {
                    // keep polling
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                sleep(Duration.ofMillis(250));
            }
            throw new IllegalStateException("not ready within " + READY_TIMEOUT);
        }

        private static void sleep(Duration duration) {
            try {
                Thread.sleep(duration.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** The class condition: skip without Docker, except under CI=true, where a missing Docker is an error. */
    static boolean dockerAvailable() {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            return true;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true but " + NO_DOCKER.replace(" is skipped", " cannot run"));
        }
        System.err.println("WARNING: " + NO_DOCKER);
        return false;
    }

    /**
     * docker build of the Dockerfile with the CPU base. Built through the Docker API directly: Testcontainers'
     * ImageFromDockerfile would first try to pull every FROM name, stage names included, from a registry.
     */
    private static String buildImage() {
        DockerClient docker = DockerClientFactory.instance().client();
        docker.buildImageCmd()
                .withBaseDirectory(Path.of("").toAbsolutePath().toFile())
                .withDockerfile(Path.of("Dockerfile").toAbsolutePath().toFile())
                .withBuildArg("BASE_IMAGE", BASE_IMAGE)
                .withTags(Set.of(IMAGE))
                .withPull(false)
                .exec(new BuildImageResultCallback() {
                    @Override
                    public void onNext(BuildResponseItem item) {
                        if (item.getStream() != null) {
                            System.out.print("[docker build] " + item.getStream());
                        }
                        super.onNext(item);
                    }
                })
                .awaitImageId(10, TimeUnit.MINUTES);
        return IMAGE;
    }

    private static void makeBaseImage() throws Exception {
        Process process = new ProcessBuilder("bash", BASE_IMAGE_SCRIPT.toString(), BASE_IMAGE)
                .redirectErrorStream(true).start();
        // through System.out, which the test runner captures (inheritIO would bypass it)
        try (var output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            output.lines().forEach(line -> System.out.println("[base image] " + line));
        }
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            fail(BASE_IMAGE_SCRIPT + " did not exit");
        }
        assertThat(process.exitValue()).as(BASE_IMAGE_SCRIPT + " exit code").isZero();
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
