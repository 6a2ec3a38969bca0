package ai.fgclip2.server.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real single-node Elasticsearch for the tests, from the distribution the build unpacked into
 * {@code target/elasticsearch} (org.elasticsearch.distribution.integ-test-zip): started on 127.0.0.1 with security
 * off and a small heap, waited for, and stopped with its whole process tree. Elasticsearch refuses to run as root,
 * so as root it runs as the user {@value #USER} (created when missing), with its data, logs and a copy of its
 * configuration in a temporary directory that user owns.
 */
public final class ElasticsearchNode implements AutoCloseable {
    static final String USER = "fgclip2-es";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private final Process process;
    private final Path work;
    private final URI url;

    private ElasticsearchNode(Process process, Path work, URI url) {
        this.process = process;
        this.work = work;
        this.url = url;
    }

    public URI url() {
        return url;
    }

    public static ElasticsearchNode start() throws IOException, InterruptedException {
        Path home = distribution();
        Path work = Files.createTempDirectory("fgclip2-es");
        Path config = work.resolve("config");
        copy(home.resolve("config"), config);
        Files.createDirectories(work.resolve("data"));
        Files.createDirectories(work.resolve("logs"));
        Files.createDirectories(work.resolve("tmp"));
        int httpPort = freePort();
        int transportPort = freePort();
        List<String> command = new ArrayList<>();
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            ensureUser();
            run("chown", "-R", USER, work.toString());
            command.addAll(List.of("runuser", "-u", USER, "--"));
        }
        command.addAll(List.of(home.resolve("bin/elasticsearch").toString(),
                "-E", "discovery.type=single-node", "-E", "xpack.security.enabled=false",
                "-E", "network.host=127.0.0.1", "-E", "http.port=" + httpPort, "-E", "transport.port=" + transportPort,
                "-E", "path.data=" + work.resolve("data"), "-E", "path.logs=" + work.resolve("logs"),
                "-E", "cluster.routing.allocation.disk.threshold_enabled=false", "-E", "cluster.name=fgclip2-test"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(work.resolve("console.log").toFile());
        Map<String, String> environment = builder.environment();
        environment.put("ES_JAVA_HOME", System.getProperty("java.home"));
        environment.put("ES_JAVA_OPTS", "-Xms512m -Xmx512m");
        environment.put("ES_PATH_CONF", config.toString());
        environment.put("ES_TMPDIR", work.resolve("tmp").toString());
        ElasticsearchNode node = new ElasticsearchNode(builder.start(), work, URI.create("http://127.0.0.1:" + httpPort + "/"));
        try {
            node.awaitReady();
        } catch (IOException | RuntimeException | InterruptedException e) {
            node.close();
            throw e;
        }
        return node;
    }

    /** The unpacked distribution (the build's maven-dependency-plugin execution "elasticsearch-test-node"). */
    private static Path distribution() throws IOException {
        Path unpacked = Path.of(System.getProperty("user.dir"), "target", "elasticsearch");
        if (!Files.isDirectory(unpacked)) {
            throw new IllegalStateException(unpacked + " is missing: run the build's process-test-resources phase (./mvnw test-compile) first");
        }
        try (Stream<Path> homes = Files.list(unpacked)) {
            return homes.filter(p -> p.getFileName().toString().startsWith("elasticsearch-")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no elasticsearch-* under " + unpacked));
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Elasticsearch exited with " + process.exitValue() + ":\n" + consoleTail());
            }
            try {
                HttpResponse<String> health = client.send(HttpRequest.newBuilder(url.resolve("_cluster/health?wait_for_status=yellow&timeout=5s"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("Elasticsearch did not become ready within " + START_TIMEOUT + ":\n" + consoleTail());
    }

    private String consoleTail() throws IOException {
        List<String> lines = Files.readAllLines(work.resolve("console.log"));
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private static void ensureUser() throws IOException, InterruptedException {
        if (new ProcessBuilder("id", USER).start().waitFor() != 0) {
            run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER);
        }
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }

    /** Stops the node and everything it started (runuser, the launcher, the server JVM), then removes its files. */
    @Override
    public void close() {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle handle : tree) {
            try {
                handle.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                handle.destroyForcibly();
            }
        }
        try (Stream<Path> files = Files.walk(work)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
