package ai.fgclip2.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load scenarios against the service in a child process (so its memory is measured alone), on loopback:
 * {@code soak} (32 clients of image embeddings and 100-label classification; resident memory sampled every 10 s)
 * {@code overload} (small requests beside maximal ones; per class p50/p99 and share of 429s) and {@code large-images}
 * (half the clients send one image at the pixel limit each, the other half small ones: decoding room against the heap).
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Load scenarios against a server started as a child process: soak (resident memory over time), overload (small beside maximal "
                + "requests) or large-images (images at the pixel limit beside small ones).")
public final class LoadCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SAMPLE_EVERY = Duration.ofSeconds(10);

    enum Scenario { SOAK, OVERLOAD, LARGE_IMAGES }

    @Option(names = "--scenario", required = true, description = "soak, overload or large-images.", converter = ScenarioConverter.class)
    Scenario scenario;

    @Option(names = "--minutes", defaultValue = "10", description = "How long the load runs (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--concurrency", defaultValue = "32", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--model-dir", description = "Model for the server (default: the built-in demo model).")
    Path modelDir;

    @Option(names = "--jvm-option", description = "JVM options of the server, e.g. --jvm-option=-Xmx2458m for the heap of a 6 GiB pod (repeatable).")
    List<String> jvmOptions = new ArrayList<>();

    @Option(names = "--server-option", description = "Extra server options, e.g. --server-option=--fgclip2.batching.queue-capacity=64 (repeatable).")
    List<String> serverOptions = new ArrayList<>();

    /** One kind of request and what its clients saw. */
    record ClassStats(String name, int requests, int ok, int overloaded, int failed, Timing.Latency okLatency) {
    }

    private record RequestKind(String name, String path, String body, Duration timeout) {
    }

    static final class ScenarioConverter implements picocli.CommandLine.ITypeConverter<Scenario> {
        @Override
        public Scenario convert(String value) {
            return Scenario.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    @Override
    public Integer call() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Path log = Files.createTempFile("fgclip2-load-server", ".log");
        Process server = startServer(port, log);
        try {
            URI base = URI.create("http://127.0.0.1:" + port);
            awaitReady(base, server, log);
            List<RequestKind> kinds = switch (scenario) {
                case SOAK -> soakKinds();
                case OVERLOAD -> overloadKinds();
                case LARGE_IMAGES -> largeImageKinds();
            };
            System.out.printf(Locale.ROOT, "%s: %d clients for %.1f min against pid %d (server log %s)%n", scenario.name().toLowerCase(Locale.ROOT),
                    concurrency, minutes, server.pid(), log);
            run(base, server.pid(), kinds);
        } finally {
            server.destroy();
            server.waitFor();
        }
        return 0;
    }

    private Process startServer(int port, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        // the packaged jar starts through its own launcher; a development class path through Main
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(classPath.endsWith(".jar") && !classPath.contains(File.pathSeparator)
                ? List.of("-jar", classPath) : List.of("-cp", classPath, "ai.fgclip2.Main"));
        command.addAll(List.of("serve", "--server.address=127.0.0.1", "--server.port=" + port, "--spring.main.banner-mode=off", "--logging.level.root=WARN"));
        if (modelDir != null) {
            command.add("--fgclip2.model.dir=" + modelDir);
        }
        command.addAll(serverOptions);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().put("OPT_OUT_TRACKING", "true");
        return builder.start();
    }

    private static void awaitReady(URI base, Process server, Path log) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                throw new IllegalStateException("the server exited; see " + log);
            }
            try {
                if (client.send(HttpRequest.newBuilder(base.resolve("/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the server was not ready within 5 minutes; see " + log);
    }

    /** The soak mix: image embeddings and 100-label classification, half the clients each. */
    private List<RequestKind> soakKinds() throws IOException {
        String image = Base64.getEncoder().encodeToString(png(640, 480, 1));
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            labels.add("object number " + i);
        }
        return List.of(
                new RequestKind("image embedding", "/v1/embeddings/image", JSON.writeValueAsString(Map.of("images", List.of(image))), Duration.ofMinutes(2)),
                new RequestKind("classify 100 labels", "/v1/classify", JSON.writeValueAsString(Map.of("image", image, "labels", labels,
                        "templates", List.of("a photo of a {}."))), Duration.ofMinutes(2)));
    }

    /**
     * One image at the default pixel limit (7000 x 5714, 40 MP; gradients, so its PNG stays far below the body limit) per
     * request beside small images: without a bound on the pixels decoded at once, a few of these together exhaust a pod's heap.
     */
    private List<RequestKind> largeImageKinds() throws IOException {
        BufferedImage large = new BufferedImage(7000, 5714, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < large.getHeight(); y++) {
            for (int x = 0; x < large.getWidth(); x++) {
                large.setRGB(x, y, (x / 7) << 16 | (y / 6) << 8 | (x + y) / 13 & 0xff);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(large, "png", out);
        String small = Base64.getEncoder().encodeToString(png(320, 240, 3));
        return List.of(
                new RequestKind("40 MP image", "/v1/embeddings/image", JSON.writeValueAsString(Map.of("images",
                        List.of(Base64.getEncoder().encodeToString(out.toByteArray())))), Duration.ofMinutes(10)),
                new RequestKind("small image", "/v1/embeddings/image", JSON.writeValueAsString(Map.of("images", List.of(small))), Duration.ofMinutes(2)));
    }

    /** Small requests beside the largest legal ones (2048 labels x 32 templates; 64 images). */
    private List<RequestKind> overloadKinds() throws IOException {
        String small = Base64.getEncoder().encodeToString(png(64, 64, 2));
        List<String> images = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            // random pixels do not compress: 64 of these (0.3 MB each) stay under the 64 MiB body limit
            images.add(Base64.getEncoder().encodeToString(png(320, 240, 10 + i)));
        }
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 2048; i++) {
            labels.add("label " + i);
        }
        List<String> templates = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            templates.add("template " + i + " of a {}.");
        }
        return List.of(
                new RequestKind("small text", "/v1/embeddings/text", JSON.writeValueAsString(Map.of("texts", List.of("a small request"))), Duration.ofMinutes(2)),
                new RequestKind("small image", "/v1/embeddings/image", JSON.writeValueAsString(Map.of("images", List.of(small))), Duration.ofMinutes(2)),
                new RequestKind("max classification", "/v1/classify", JSON.writeValueAsString(Map.of("image", small, "labels", labels, "templates", templates,
                        "topK", 1)), Duration.ofMinutes(10)),
                new RequestKind("max images", "/v1/embeddings/image", JSON.writeValueAsString(Map.of("images", images)), Duration.ofMinutes(10)));
    }

    /**
     * Client c sends kind {@code c % kinds} (for overload: one client for each maximal kind, the rest small ones) until
     * the time is up; a 429 waits for its Retry-After, as a client should.
     */
    private void run(URI base, long pid, List<RequestKind> kinds) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        Map<String, Queue<Double>> okMillis = new LinkedHashMap<>();
        Map<String, AtomicInteger[]> counts = new LinkedHashMap<>();
        kinds.forEach(kind -> {
            okMillis.put(kind.name(), new ConcurrentLinkedQueue<>());
            counts.put(kind.name(), new AtomicInteger[] {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger()});
        });
        Map<String, Integer> otherStatuses = new java.util.concurrent.ConcurrentHashMap<>();
        long start = System.nanoTime();
        long end = start + (long) (minutes * 60e9);
        List<long[]> samples = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(concurrency + 1);
        try {
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                RequestKind kind = kinds.get(kindOf(c, kinds.size()));
                tasks.add(() -> {
                    AtomicInteger[] count = counts.get(kind.name());
                    HttpRequest request = HttpRequest.newBuilder(base.resolve(kind.path())).timeout(kind.timeout())
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(kind.body())).build();
                    while (System.nanoTime() < end) {
                        long sent = System.nanoTime();
                        count[0].incrementAndGet();
                        try {
                            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
                            if (response.statusCode() == 200) {
                                count[1].incrementAndGet();
                                okMillis.get(kind.name()).add((System.nanoTime() - sent) / 1e6);
                            } else if (response.statusCode() == 429) {
                                count[2].incrementAndGet();
                                long seconds = response.headers().firstValueAsLong("Retry-After").orElse(1);
                                Thread.sleep(Math.min(seconds, 5) * 1000);
                            } else {
                                count[3].incrementAndGet();
                                otherStatuses.merge(kind.name() + " HTTP " + response.statusCode(), 1, Integer::sum);
                            }
                        } catch (IOException e) {
                            count[3].incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            tasks.add(() -> {
                while (System.nanoTime() < end) {
                    MemoryProbe.ProcessMemory memory = MemoryProbe.read(pid);
                    long at = System.nanoTime();
                    synchronized (samples) {
                        samples.add(new long[] {(at - start) / 1_000_000_000L, memory.rss(), memory.rssAnon()});
                    }
                    System.out.printf(Locale.ROOT, "  t=%4ds  RSS %6.0f MB  (anon %6.0f MB)%n", (at - start) / 1_000_000_000L, memory.rss() / 1e6, memory.rssAnon() / 1e6);
                    Thread.sleep(SAMPLE_EVERY.toMillis());
                }
                return null;
            });
            for (var task : clients.invokeAll(tasks)) {
                task.get();
            }
        } finally {
            clients.shutdownNow();
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-22s %9s %7s %6s %7s %10s %10s%n", "request", "requests", "ok", "429", "other", "p50 ms", "p99 ms");
        for (RequestKind kind : kinds) {
            AtomicInteger[] count = counts.get(kind.name());
            List<Double> millis = List.copyOf(okMillis.get(kind.name()));
            String p50 = millis.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f", Timing.Latency.of(millis).medianMs());
            String p99 = millis.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f", Timing.Latency.of(millis).p99Ms());
            System.out.printf(Locale.ROOT, "%-22s %9d %7d %5.1f%% %7d %10s %10s%n", kind.name(), count[0].get(), count[1].get(),
                    count[0].get() == 0 ? 0.0 : 100.0 * count[2].get() / count[0].get(), count[3].get(), p50, p99);
        }
        otherStatuses.forEach((what, count) -> System.out.printf(Locale.ROOT, "  other answers: %s x%d%n", what, count));
        if (scenario == Scenario.SOAK && samples.size() > 2) {
            // after warm-up: from the first sample at or after one minute
            long[] reference = samples.stream().filter(s -> s[0] >= 60).findFirst().orElse(samples.get(1));
            long peak = samples.stream().filter(s -> s[0] >= reference[0]).mapToLong(s -> s[1]).max().orElseThrow();
            long last = samples.get(samples.size() - 1)[1];
            System.out.printf(Locale.ROOT, "%nRSS after warm-up (t=%ds) %.0f MB, peak after it %.0f MB (%+.1f%%), last %.0f MB (%+.1f%%)%n", reference[0],
                    reference[1] / 1e6, peak / 1e6, 100.0 * (peak - reference[1]) / reference[1], last / 1e6, 100.0 * (last - reference[1]) / reference[1]);
        }
    }

    /**
     * Soak and large images: alternate kinds. Overload: the last two kinds (maximal) get one client each, the rest share
     * the small kinds.
     */
    private int kindOf(int client, int kindCount) {
        if (scenario != Scenario.OVERLOAD) {
            return client % kindCount;
        }
        if (client < 2) {
            return kindCount - 1 - client;
        }
        return client % (kindCount - 2);
    }

    private static byte[] png(int width, int height, int seed) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        SplittableRandom random = new SplittableRandom(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }
}
