package ai.fgclip2.bench;

import ai.fgclip2.server.ServerApplication;
import ai.fgclip2.server.engine.InferenceEngine;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * End-to-end figures over HTTP on loopback: the service started in this process (or one already running,
 * given by a loopback URL), image-embedding load at a fixed concurrency for a bounded time and request count,
 * and first versus repeated zero-shot classification over a large label vocabulary.
 */
final class HttpBench implements AutoCloseable {
    /** A 256 x 256 image: its patch budget is 256, so its grid is 16 x 16 like the engine's 256-patch case. */
    static final int IMAGE_SIDE = 256;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration IMAGE_TIMEOUT = Duration.ofMinutes(2);
    /** The first classification embeds every label: minutes on a CPU. */
    private static final Duration CLASSIFY_TIMEOUT = Duration.ofMinutes(30);

    /** Per concurrency level: this much time and at most this many requests in all, split into rounds. */
    record LoadBudget(Duration time, int maxRequests, int rounds) {
        static LoadBudget of(boolean quick) {
            return quick ? new LoadBudget(Duration.ofSeconds(5), 100, 1) : new LoadBudget(Duration.ofSeconds(20), 2000, 4);
        }
    }

    /** One round of load; batches and batchedImages count the server's image engine calls (in-process server only). */
    record Round(int requests, int errors, double seconds, List<Double> millis, double batches, double batchedImages) {
        double requestsPerSecond() {
            return (requests - errors) / seconds;
        }
    }

    /** @param meanImageBatch images per engine call the server formed (in-process server only) */
    record Load(int concurrency, int requests, int errors, double seconds, double requestsPerSecond, Timing.Latency latency, Double meanImageBatch) {
        static Load of(int concurrency, List<Round> rounds, boolean batchesKnown) {
            int requests = rounds.stream().mapToInt(Round::requests).sum();
            int errors = rounds.stream().mapToInt(Round::errors).sum();
            double seconds = rounds.stream().mapToDouble(Round::seconds).sum();
            List<Double> millis = rounds.stream().flatMap(r -> r.millis().stream()).toList();
            Double meanBatch = batchesKnown ? rounds.stream().mapToDouble(Round::batchedImages).sum() / rounds.stream().mapToDouble(Round::batches).sum() : null;
            return new Load(concurrency, requests, errors, seconds, (requests - errors) / seconds, Timing.Latency.of(millis), meanBatch);
        }
    }

    /** @param speedup first call time over the median repeated call */
    record Classification(int labels, String template, double firstMs, Timing.Latency repeated, double speedup) {
    }

    private record ImageRequest(List<String> images) {
    }

    private record ClassifyRequest(String image, List<String> labels, List<String> templates, int topK) {
    }

    private final URI base;
    private final ConfigurableApplicationContext server;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private final String imageBase64 = Base64.getEncoder().encodeToString(png());

    private HttpBench(URI base, ConfigurableApplicationContext server) {
        this.base = base;
        this.server = server;
    }

    /**
     * Starts the service in this process on a free loopback port, serving the exported model in {@code modelDir}, with
     * its defaults (CPU provider).
     */
    static HttpBench start(Path modelDir, int intraOpThreads) {
        int port = freeLoopbackPort();
        ConfigurableApplicationContext context = SpringApplication.run(ServerApplication.class,
                "--server.address=127.0.0.1", "--server.port=" + port, "--fgclip2.model.dir=" + modelDir,
                "--fgclip2.engine.provider=cpu", "--fgclip2.engine.intra-op-threads=" + intraOpThreads,
                "--spring.main.banner-mode=off", "--logging.level.root=WARN");
        return new HttpBench(URI.create("http://127.0.0.1:" + port), context);
    }

    /** A server that is already running; only loopback addresses are allowed. */
    static HttpBench connect(URI url) throws Exception {
        if (url.getHost() == null || !InetAddress.getByName(url.getHost()).isLoopbackAddress()) {
            throw new IllegalArgumentException("--url must be a loopback address (127.0.0.1): " + url);
        }
        HttpBench bench = new HttpBench(url, null);
        HttpResponse<String> ready = bench.client.send(HttpRequest.newBuilder(url.resolve("/actuator/health/readiness")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() != 200) {
            throw new IllegalStateException(url + " is not ready: HTTP " + ready.statusCode() + " " + ready.body());
        }
        return bench;
    }

    /** The server's own engine when it runs in this process, for engine figures measured side by side. */
    Optional<InferenceEngine> inProcessEngine() {
        return Optional.ofNullable(server).map(s -> s.getBean(InferenceEngine.class));
    }

    /** Most images per engine call: the in-process server's setting, else the service default. */
    int imageMaxBatch() {
        return server == null ? 8 : server.getEnvironment().getProperty("fgclip2.batching.image-max-batch", Integer.class, 8);
    }

    /** True when the server runs in this process, so its batch sizes can be read. */
    boolean inProcess() {
        return server != null;
    }

    /**
     * {@code concurrency} clients each send one image-embedding request at a time, until {@code time} has passed or
     * {@code maxRequests} were sent; with {@code warmUp}, each first sends one request that is not counted.
     */
    Round round(int concurrency, Duration time, int maxRequests, boolean warmUp) throws Exception {
        HttpRequest request = post("/v1/embeddings/image", new ImageRequest(List.of(imageBase64)), IMAGE_TIMEOUT);
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        try {
            if (warmUp) {
                List<Callable<Integer>> warmup = new ArrayList<>();
                for (int c = 0; c < concurrency; c++) {
                    warmup.add(() -> client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode());
                }
                for (var status : clients.invokeAll(warmup)) {
                    if (status.get() != 200) {
                        throw new IllegalStateException("warm-up request failed: HTTP " + status.get());
                    }
                }
            }
            double[] batchesBefore = imageBatches();
            Queue<Double> millis = new ConcurrentLinkedQueue<>();
            AtomicInteger issued = new AtomicInteger();
            AtomicInteger errors = new AtomicInteger();
            long start = System.nanoTime();
            long deadline = start + time.toNanos();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                tasks.add(() -> {
                    while (System.nanoTime() < deadline && issued.getAndIncrement() < maxRequests) {
                        long sent = System.nanoTime();
                        try {
                            if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
                                errors.incrementAndGet();
                            }
                        } catch (IOException e) {
                            errors.incrementAndGet();
                        }
                        millis.add((System.nanoTime() - sent) / 1e6);
                    }
                    return null;
                });
            }
            for (var task : clients.invokeAll(tasks)) {
                task.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double[] batchesAfter = imageBatches();
            return new Round(millis.size(), errors.get(), seconds, List.copyOf(millis), batchesAfter[0] - batchesBefore[0], batchesAfter[1] - batchesBefore[1]);
        } finally {
            clients.shutdownNow();
        }
    }

    /** {@code /v1/classify} with one template over all labels: the first call embeds them, repeats hit the label cache. */
    Classification classification(List<String> labels, String template, int repeats) throws Exception {
        HttpRequest request = post("/v1/classify", new ClassifyRequest(imageBase64, labels, List.of(template), 5), CLASSIFY_TIMEOUT);
        Timing.Step call = () -> {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("/v1/classify failed: HTTP " + response.statusCode() + " " + response.body());
            }
        };
        long start = System.nanoTime();
        call.run();
        double firstMs = (System.nanoTime() - start) / 1e6;
        Timing.Latency repeated = Timing.measure(Timing.Budget.exactly(repeats), call);
        return new Classification(labels.size(), template, firstMs, repeated, firstMs / repeated.medianMs());
    }

    /** Made-up names in the style of LVIS categories ("striped umbrella", "wooden ladle"), all distinct. */
    static List<String> lvisLikeLabels(int count) {
        String[] kinds = {"umbrella", "ladle", "kayak", "teapot", "saddle", "lantern", "pretzel", "scarf", "trombone", "bucket",
            "flamingo", "stapler", "canoe", "mitten", "harmonica", "wok", "tricycle", "pinecone", "beanbag", "thermos",
            "hamster", "pitchfork", "sombrero", "doughnut", "snowplow", "gravy boat", "ferret", "mailbox", "crowbar", "pelican",
            "lollipop", "easel", "walrus", "blender", "parasol"};
        String[] looks = {"striped", "wooden", "rusty", "folding", "inflatable", "vintage", "miniature", "plastic", "woolen",
            "electric", "ceramic", "toy", "broken", "glass", "leather", "paper", "frozen", "antique", "spotted", "metal",
            "wicker", "knitted", "bronze", "neon", "marble", "striped blue", "velvet", "copper", "rubber", "painted",
            "golden", "chrome", "bamboo", "silk", "clay"};
        if (count > kinds.length * looks.length) {
            throw new IllegalArgumentException("at most " + kinds.length * looks.length + " labels");
        }
        List<String> labels = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            labels.add(looks[i / kinds.length] + " " + kinds[i % kinds.length]);
        }
        return labels;
    }

    /** [count, total] of the image queue's batch-size summary; zeros when the server is not in this process. */
    private double[] imageBatches() {
        if (server == null) {
            return new double[] {0, 0};
        }
        DistributionSummary sizes = server.getBean(MeterRegistry.class).find("fgclip2.batch.size").tag("queue", "image").summary();
        return sizes == null ? new double[] {0, 0} : new double[] {sizes.count(), sizes.totalAmount()};
    }

    private HttpRequest post(String path, Object body, Duration timeout) throws IOException {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
    }

    /** A PNG with smooth gradients and mild noise, so decoding costs about what a real image of this size costs. */
    private static byte[] png() {
        BufferedImage image = new BufferedImage(IMAGE_SIDE, IMAGE_SIDE, BufferedImage.TYPE_INT_RGB);
        SplittableRandom random = new SplittableRandom(3);
        for (int y = 0; y < IMAGE_SIDE; y++) {
            for (int x = 0; x < IMAGE_SIDE; x++) {
                int r = Math.min(255, x + random.nextInt(16));
                int g = Math.min(255, y + random.nextInt(16));
                int b = Math.min(255, (x * y >> 8) + random.nextInt(16));
                image.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freeLoopbackPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
