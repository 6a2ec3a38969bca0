package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The README's client examples ({@code examples/client.py}, {@code examples/Client.java}) run as a user runs
 * them, against the built-in demo model, and print what the API answers. The Python one needs python3 with
 * requests (Debian: python3-requests; .ci/run installs it): skipped without it, except under CI=true.
 */
@DirtiesContext
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.engine.warmup=false"})
class ClientExamplesTest {
    private static final Path IMAGE = E2eFixture.load().directory().resolve("images").resolve("kitchen_640x427.png");
    private static final Path EXAMPLES = Path.of(System.getProperty("user.dir"), "examples");

    @LocalServerPort
    int port;

    @TempDir
    Path workDir;

    @DynamicPropertySource
    static void demoModel(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("demo").toString());
    }

    @Test
    void pythonClientPrintsWhatTheApiAnswers() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pythonWithRequests(), "python3 with requests is not installed");
        List<String> lines = run(PYTHON, EXAMPLES.resolve("client.py").toString(), IMAGE.toString(), url());

        List<Scored> classified = printed(lines, "classify");
        List<String> labels = classified.stream().map(Scored::label).toList();
        assertThat(labels).isNotEmpty();
        JsonNode api = ServerTestSupport.post(port, "/v1/classify", Map.of("image", base64(), "labels", labels, "topK", labels.size())).json();
        assertThat(api.path("model").path("demo").asBoolean()).as("runs against the demo model").isTrue();
        List<Scored> expected = new ArrayList<>();
        api.get("results").forEach(r -> expected.add(new Scored(r.get("label").asString(), r.get("probability").asDouble())));
        assertThat(classified).isEqualTo(expected);

        JsonNode box = ServerTestSupport.post(port, "/v1/regions/classify", Map.of("image", base64(), "boxes", List.of(List.of(0, 0, 200, 200)),
                "labels", labels, "topK", 1)).json().get("results").get(0).get("labels").get(0);
        assertThat(printed(lines, "box")).containsExactly(new Scored(box.get("label").asString(), box.get("probability").asDouble()));
        assertThat(lines.stream().filter(l -> l.startsWith("heatmap\t"))).hasSize(1);
        assertThat(javax.imageio.ImageIO.read(workDir.resolve("heatmap.png").toFile()).getWidth()).isEqualTo(640);
    }

    record Scored(String label, double probability) {
    }

    /** The "kind TAB label TAB probability" lines the Python example prints. */
    private static List<Scored> printed(List<String> lines, String kind) {
        return lines.stream().map(l -> l.split("\t")).filter(f -> f[0].equals(kind)).map(f -> new Scored(f[1], Double.parseDouble(f[2]))).toList();
    }

    @Test
    void javaClientPrintsTheClassificationAnswer() throws Exception {
        List<String> lines = run(Path.of(System.getProperty("java.home"), "bin", "java").toString(), EXAMPLES.resolve("Client.java").toString(),
                IMAGE.toString(), url());
        JsonNode printed = ServerTestSupport.JSON.readTree(String.join("\n", lines));
        List<String> labels = new ArrayList<>();
        printed.get("results").forEach(r -> labels.add(r.get("label").asString()));
        JsonNode api = ServerTestSupport.post(port, "/v1/classify", Map.of("image", base64(), "labels", List.of("a cat", "a dog", "a kitchen", "a person"),
                "topK", 4)).json();
        assertThat(printed).isEqualTo(api);
        assertThat(labels).hasSize(4);
    }

    private String url() {
        return "http://127.0.0.1:" + port;
    }

    private static String base64() throws IOException {
        return Base64.getEncoder().encodeToString(Files.readAllBytes(IMAGE));
    }

    /** Standard output of the command (run in a scratch folder); fails on a non-zero exit with its error output. */
    private List<String> run(String... command) throws IOException, InterruptedException {
        Path errors = workDir.resolve("stderr.txt");
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectError(errors.toFile()).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s failed:%n%s", command[1], Files.readString(errors)).isZero();
        return out.lines().toList();
    }

    /** Debian's interpreter, where .ci/run installs python3-requests, rather than whatever python3 the PATH finds first. */
    private static final String PYTHON = Files.isExecutable(java.nio.file.Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    private static boolean pythonWithRequests() {
        try {
            boolean present = new ProcessBuilder(PYTHON, "-c", "import requests").start().waitFor() == 0;
            if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true but python3 with requests is missing (apt-get install python3-requests)");
            }
            return present;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
