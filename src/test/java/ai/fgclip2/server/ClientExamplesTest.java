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
 * The README's client examples ({@code examples/client.py}, {@code examples/Client.java}, the LLMDet recipe) run
 * as a user runs them, against the built-in demo model, and print what the API answers. The Python ones need
 * python3 with requests (Debian: python3-requests; .ci/run installs it): skipped without it, except under CI=true.
 */
@DirtiesContext
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.engine.warmup=false"})
class ClientExamplesTest {
    private static final Path IMAGE = E2eFixture.load().directory().resolve("images").resolve("kitchen_640x427.png");
    private static final Path EXAMPLES = Path.of(System.getProperty("user.dir"), "examples");
    private static final Path README = Path.of(System.getProperty("user.dir"), "README.md");

    @LocalServerPort
    int port;

    @TempDir
    Path workDir;

    @DynamicPropertySource
    static void demoModel(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("demo").toString());
        // this class's own: the recipe builds lvis here, and no other test starts with it
        registry.add("fgclip2.cache.vocabularies", () -> ServerTestSupport.SHARED_CACHE.resolve("client-examples-vocabularies").toString());
    }

    @Test
    void pythonClientPrintsWhatTheApiAnswers() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pythonWithRequests(), "python3 with requests is not installed");
        List<String> lines = run(Map.of(), PYTHON, EXAMPLES.resolve("client.py").toString(), IMAGE.toString(), url());

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

    /**
     * The README's LLMDet recipe, verbatim, with a stand-in for mmdetection's {@code DetInferencer} that logs what
     * it was prompted with and what it answered: the recipe registers and waits for {@code lvis}, prompts every class
     * in chunks of 40, and gets what a direct rescore of the detections, labels mapped back to the vocabulary, gets.
     */
    @Test
    void readmeLlmdetRecipeRescoresAgainstTheLvisVocabulary() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pythonWithRequests(), "python3 with requests is not installed");
        Path fake = Files.createDirectories(workDir.resolve("fake/mmdet"));
        Files.writeString(fake.resolve("__init__.py"), "");
        Files.writeString(fake.resolve("apis.py"), FAKE_DET_INFERENCER);
        Path recipe = workDir.resolve("recipe.py");
        Files.writeString(recipe, readmeSnippet("### Rescoring LLMDet", "from mmdet.apis import DetInferencer")
                + "\nimport json, sys\nprint(json.dumps(rescore(sys.argv[1])))\n");
        Path calls = workDir.resolve("calls.jsonl");
        List<String> lines = run(Map.of("FGCLIP2_URL", url(), "PYTHONPATH", workDir.resolve("fake").toString(), "FAKE_MMDET_CALLS", calls.toString(),
                "PYTHONDONTWRITEBYTECODE", "1"), PYTHON, recipe.toString(), IMAGE.toString());
        JsonNode printed = ServerTestSupport.JSON.readTree(lines.get(lines.size() - 1));

        JsonNode vocabulary = ServerTestSupport.get(port, "/v1/vocabularies/lvis").json();
        assertThat(vocabulary.get("state").asString()).isEqualTo("ready");
        List<String> classes = new ArrayList<>();
        vocabulary.get("labels").forEach(l -> classes.add(l.asString()));
        assertThat(classes).hasSize(1203);

        // the detector's answers, chunk-local labels mapped back through the prompts it was given
        List<Integer> labels = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        List<JsonNode> boxes = new ArrayList<>();
        List<String> prompted = new ArrayList<>();
        int start = 0;
        for (String line : Files.readAllLines(calls)) {
            JsonNode call = ServerTestSupport.JSON.readTree(line);
            String texts = call.get("texts").asString();
            assertThat(texts).endsWith(" .");
            List<String> chunk = List.of(texts.substring(0, texts.length() - 2).split(" \\. "));
            assertThat(chunk).as("the classes in order, 40 at a time").hasSizeLessThanOrEqualTo(40).isEqualTo(classes.subList(start, start + chunk.size()));
            JsonNode prediction = call.get("predictions").get(0);
            for (int i = 0; i < prediction.get("labels").size(); i++) {
                int local = prediction.get("labels").get(i).asInt();
                labels.add(start + local);
                prompted.add(chunk.get(local));
                scores.add(prediction.get("scores").get(i).asDouble());
                boxes.add(prediction.get("bboxes").get(i));
            }
            start += chunk.size();
        }
        assertThat(start).as("every class prompted").isEqualTo(classes.size());

        JsonNode direct = ServerTestSupport.post(port, "/v1/detections/rescore", Map.of("image", base64(), "vocabulary", "lvis",
                "detections", Map.of("labels", labels, "scores", scores, "bboxes", boxes), "topK", 300, "sort", true)).json();
        assertThat(direct.path("model").path("demo").asBoolean()).as("runs against the demo model").isTrue();
        assertThat(printed).isNotEmpty();
        for (JsonNode row : printed) {
            assertThat(row.get("label").asString()).as("the class the detector was prompted with").isEqualTo(prompted.get(row.get("index").asInt()));
        }
        assertThat(printed).isEqualTo(direct.get("detections"));
    }

    /**
     * mmdetection's DetInferencer for the recipe: for each prompt, three boxes inside the image with chunk-local
     * label indices, all fixed by the prompt's position; each call and its answer logged to FAKE_MMDET_CALLS.
     */
    private static final String FAKE_DET_INFERENCER = """
            import json, os, struct

            class DetInferencer:
                def __init__(self, model=None, weights=None, **kwargs):
                    self.calls = 0

                def __call__(self, inputs, texts=None, custom_entities=False, **kwargs):
                    assert custom_entities and texts.endswith(" .")
                    with open(inputs, "rb") as f:
                        width, height = struct.unpack(">II", f.read(24)[16:24])  # a PNG's IHDR
                    n, k = len(texts[:-2].split(" . ")), self.calls
                    self.calls += 1
                    boxes = []
                    for j in range(3):
                        x1, y1 = (37 * k + 101 * j) % (width // 2), (23 * k + 67 * j) % (height // 2)
                        boxes.append([float(x1), float(y1), float(x1 + width // 4 + k), float(y1 + height // 4 + j)])
                    prediction = {"labels": [k % n, (3 * k + 1) % n, (7 * k + 2) % n],
                                  "scores": [round(0.9 - 0.02 * k, 4), 0.5, round(0.2 + 0.01 * k, 4)], "bboxes": boxes}
                    with open(os.environ["FAKE_MMDET_CALLS"], "a") as log:
                        log.write(json.dumps({"texts": texts, "predictions": [prediction]}) + "\\n")
                    return {"predictions": [prediction]}
            """;

    /** The first Python block after the README heading that starts with {@code heading}, as written there. */
    private static String readmeSnippet(String heading, String mustContain) throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int section = readme.indexOf("\n" + heading);
        assertThat(section).as("README section %s", heading).isNotNegative();
        int start = readme.indexOf("```python\n", section) + "```python\n".length();
        String snippet = readme.substring(start, readme.indexOf("\n```", start) + 1);
        assertThat(snippet).contains(mustContain);
        return snippet;
    }

    @Test
    void javaClientPrintsTheClassificationAnswer() throws Exception {
        List<String> lines = run(Map.of(), Path.of(System.getProperty("java.home"), "bin", "java").toString(), EXAMPLES.resolve("Client.java").toString(),
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
    private List<String> run(Map<String, String> environment, String... command) throws IOException, InterruptedException {
        Path errors = workDir.resolve("stderr.txt");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectError(errors.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
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
