package ai.fgclip2.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.ServerTestSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.Rectangle;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

/**
 * The playground at {@code /} in a real browser (Debian's headless Chromium, driven by Selenium): upload the
 * fixture image, draw a box, ask for a heatmap and a rescoring, and check that what the page shows is what the
 * API answers for the same input, that the heatmap covers the image at its size, and that the console stays
 * clean. With FGCLIP2_SCREENSHOTS=DIR each test leaves a screenshot of the page there. Skipped with a message where Chromium is not installed, except under CI=true, where that fails.
 */
@EnabledIf(value = "chromiumInstalled", disabledReason = PlaygroundBrowserTest.NO_CHROMIUM)
class PlaygroundBrowserTest extends E2eServerTest {
    static final String NO_CHROMIUM = "no /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver): "
            + "the browser tests (PlaygroundBrowserTest) are skipped";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String IMAGE = "kitchen_640x427.png";
    private static final List<String> LABELS = List.of("a cat", "a dog", "a kitchen", "a car", "a person");
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static ChromeDriver browser;
    private static Path profile;

    @BeforeAll
    static void startBrowser() throws IOException {
        profile = Files.createTempDirectory("fgclip2-chromium-profile");
        browser = headlessChromium(profile);
    }

    /** Debian's Chromium, headless, with a fresh profile and no background traffic; its console log is kept. */
    static ChromeDriver headlessChromium(Path profile) {
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1800",
                "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
        return new ChromeDriver(service, options);
    }

    @AfterAll
    static void stopBrowser() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        try (var files = Files.walk(profile)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @BeforeEach
    void openPlaygroundWithTheFixtureImage() {
        browser.get("http://127.0.0.1:" + port + "/");
        browser.findElement(By.id("file")).sendKeys(FIXTURE.directory().resolve("images").resolve(IMAGE).toAbsolutePath().toString());
        waitUntil(() -> browser.findElements(By.cssSelector("#label-results li")).size() == LABELS.size());
    }

    @AfterEach
    void consoleHasNoErrors(TestInfo test) throws IOException {
        String screenshots = System.getenv("FGCLIP2_SCREENSHOTS");
        if (screenshots != null) {
            Files.write(Path.of(screenshots, test.getTestMethod().orElseThrow().getName() + ".png"), browser.getScreenshotAs(OutputType.BYTES));
        }
        // a marker written now proves that the console log really is read
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("console.error('fgclip2-console-marker')");
        List<String> errors = new ArrayList<>();
        boolean sawMarker = false;
        for (LogEntry entry : browser.manage().logs().get(LogType.BROWSER)) {
            boolean marker = entry.getMessage().contains("fgclip2-console-marker");
            sawMarker |= marker;
            if (entry.getLevel().intValue() >= Level.WARNING.intValue() && !marker) {
                errors.add(entry.getLevel() + " " + entry.getMessage());
            }
        }
        assertThat(errors).as("browser console").isEmpty();
        assertThat(sawMarker).as("the console log is read").isTrue();
        for (WebElement error : browser.findElements(By.id("error"))) {
            assertThat(error.isDisplayed()).as("error shown on the page: %s", error.getText()).isFalse();
        }
    }

    @Test
    void modelLineAndPanelsFollowTheService() {
        JsonNode model = get("/v1/models").json().get("data").get(0);
        assertThat(browser.findElement(By.id("model-line")).getText()).contains(model.get("id").asString()).contains(model.get("provider").asString());
        assertThat(browser.findElement(By.id("demo-banner")).isDisplayed()).isEqualTo(model.get("demo").asBoolean());
        boolean collectionsExist = get("/v1/collections").json().path("data").size() > 0;
        assertThat(browser.findElement(By.id("stage")).isDisplayed()).as("the image area shows the uploaded image").isTrue();
        browser.navigate().refresh();
        assertThat(browser.findElement(By.id("stage")).isDisplayed()).as("no image area (a broken image) before an upload").isFalse();
        assertThat(browser.findElement(By.id("search-panel")).isDisplayed()).as("search panel shown exactly when a collection exists")
                .isEqualTo(collectionsExist);
    }

    @Test
    void zeroShotBarsShowWhatTheApiAnswers() {
        JsonNode api = post("/v1/classify", Map.of("image", image(), "labels", LABELS, "topK", LABELS.size())).json().get("results");
        List<WebElement> shown = browser.findElements(By.cssSelector("#label-results li"));
        assertThat(shown).hasSize(api.size());
        for (int i = 0; i < api.size(); i++) {
            assertShows(shown.get(i), api.get(i).get("label").asString(), api.get(i).get("probability").asDouble());
        }
    }

    @Test
    void aDrawnBoxGetsTheLabelsTheApiGivesThatBox() {
        WebElement canvas = browser.findElement(By.id("overlay"));
        Rectangle shown = canvas.getRect();
        // drag from a quarter of the way in to five eighths (offsets are from the element's centre)
        new Actions(browser).moveToElement(canvas, -shown.width / 4, -shown.height / 4).clickAndHold()
                .moveByOffset(shown.width / 8, shown.height / 8).moveByOffset(shown.width / 4, shown.height / 4).release().perform();
        waitUntil(() -> !browser.findElements(By.cssSelector("#box-results > li")).isEmpty());

        WebElement item = browser.findElement(By.cssSelector("#box-results > li"));
        JsonNode box = ServerTestSupport.JSON.readTree(item.getAttribute("data-box"));
        double scale = 640.0 / shown.width;
        assertThat(box.get(0).asDouble()).isCloseTo(shown.width / 4.0 * scale, org.assertj.core.data.Offset.offset(3.0));
        assertThat(box.get(2).asDouble()).isCloseTo(shown.width * 5 / 8.0 * scale, org.assertj.core.data.Offset.offset(3.0));
        assertThat(box.get(1).asDouble()).isCloseTo(shown.height / 4.0 * 427.0 / shown.height, org.assertj.core.data.Offset.offset(3.0));

        JsonNode api = post("/v1/regions/classify", Map.of("image", image(), "boxes", List.of(box), "labels", LABELS, "topK", 3))
                .json().get("results").get(0).get("labels");
        List<WebElement> labels = item.findElements(By.cssSelector("li"));
        assertThat(labels).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertShows(labels.get(i), api.get(i).get("label").asString(), api.get(i).get("probability").asDouble());
        }
    }

    @Test
    void theHeatmapCoversTheImageAtItsSize() {
        browser.findElement(By.id("phrase")).clear();
        browser.findElement(By.id("phrase")).sendKeys("the oven");
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("scale"))).selectByValue("cosine");
        browser.findElement(By.id("locate")).click();
        WebElement heatmap = browser.findElement(By.id("heatmap"));
        waitUntil(() -> heatmap.isDisplayed() && Boolean.TRUE.equals(browser.executeScript("return arguments[0].complete && arguments[0].naturalWidth > 0", heatmap)));

        assertThat(browser.executeScript("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", heatmap)).isEqualTo(List.of(640L, 427L));
        assertThat(heatmap.getRect()).isEqualTo(browser.findElement(By.id("photo")).getRect());

        var api = post("/v1/dense/similarity", Map.of("image", image(), "texts", List.of("the oven"), "format", "png", "range", List.of(-1, 1))).raw();
        String expected = String.format(Locale.ROOT, "blue %.3f to red %.3f (cosine; this map spans %.3f .. %.3f)",
                header(api, "Fgclip2-Scale-Min"), header(api, "Fgclip2-Scale-Max"), header(api, "Fgclip2-Similarity-Min"), header(api, "Fgclip2-Similarity-Max"));
        assertThat(browser.findElement(By.id("legend-text")).getText()).isEqualTo(expected);

        browser.executeScript("const s = document.getElementById('opacity'); s.value = 25; s.dispatchEvent(new Event('input'));");
        assertThat(heatmap.getCssValue("opacity")).isEqualTo("0.25");
    }

    @Test
    void rescoredDetectionsShowTheApisScoresAndTheThresholdHidesBoxes() {
        List<Map<String, Object>> detections = List.of(
                Map.of("box", List.of(40, 40, 320, 300), "score", 0.8, "label", "a cat"),
                Map.of("box", List.of(300, 120, 620, 400), "score", 0.35, "label", "a dog"));
        browser.executeScript("document.getElementById('detections').value = arguments[0];", ServerTestSupport.JSON.writeValueAsString(detections));
        browser.findElement(By.id("rescore")).click();
        waitUntil(() -> browser.findElements(By.cssSelector("#detection-results tbody tr")).size() == 2);

        JsonNode api = post("/v1/detections/rescore", Map.of("image", image(), "detections", detections, "vocabulary", LABELS)).json().get("detections");
        List<WebElement> rows = browser.findElements(By.cssSelector("#detection-results tbody tr"));
        for (int i = 0; i < 2; i++) {
            List<String> cells = rows.get(i).findElements(By.tagName("td")).stream().map(WebElement::getText).toList();
            JsonNode d = api.get(i);
            assertThat(cells).containsExactly(Integer.toString(d.get("index").asInt() + 1), d.get("label").asString(), four(d.get("detectorScore").asDouble()),
                    four(d.get("alignProbability").asDouble()), four(d.get("score").asDouble()));
        }

        double between = (api.get(0).get("score").asDouble() + api.get(1).get("score").asDouble()) / 2;
        browser.executeScript("const s = document.getElementById('threshold'); s.value = arguments[0]; s.dispatchEvent(new Event('input'));", between);
        List<String> classes = browser.findElements(By.cssSelector("#detection-results tbody tr")).stream().map(r -> r.getAttribute("class")).toList();
        double slider = Double.parseDouble(browser.findElement(By.id("threshold")).getAttribute("value"));
        for (int i = 0; i < 2; i++) {
            assertThat(classes.get(i)).isEqualTo(api.get(i).get("score").asDouble() >= slider ? "shown" : "below");
        }
        assertThat(classes).containsExactlyInAnyOrder("shown", "below");
    }

    @Test
    void theDocsPageRendersTheServedContract() throws IOException {
        ServerTestSupport.Response contract = get("/openapi.yaml");
        assertThat(contract.contentType()).startsWith("application/yaml");
        String served = contract.body();
        assertThat(served).isEqualTo(Files.readString(Path.of(System.getProperty("user.dir"), "openapi.yaml")));
        String title = served.lines().filter(l -> l.startsWith("  title: ")).findFirst().orElseThrow().substring("  title: ".length());

        browser.get("http://127.0.0.1:" + port + "/docs");
        waitUntil(() -> !browser.findElements(By.cssSelector(".swagger-ui .info .title")).isEmpty());
        assertThat(browser.findElement(By.cssSelector(".swagger-ui .info .title")).getText()).startsWith(title);
        waitUntil(() -> browser.findElements(By.cssSelector(".opblock")).size() > 5);
        assertThat(browser.findElements(By.cssSelector(".opblock-summary-path")).stream().map(e -> e.getAttribute("data-path")).toList())
                .contains("/v1/classify", "/v1/regions/classify", "/v1/dense/similarity", "/v1/detections/rescore");
    }

    private static void assertShows(WebElement item, String label, double probability) {
        assertThat(item.findElement(By.className("name")).getText()).isEqualTo(label);
        assertThat(item.findElement(By.className("value")).getText()).isEqualTo(four(probability));
        assertThat(Double.parseDouble(item.getAttribute("data-probability"))).isEqualTo(probability);
    }

    private static String four(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }

    private static double header(java.net.http.HttpResponse<?> response, String name) {
        return Double.parseDouble(response.headers().firstValue(name).orElseThrow());
    }

    private static String image() {
        try {
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(FIXTURE.directory().resolve("images").resolve(IMAGE)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) {
        new WebDriverWait(browser, WAIT).until(driver -> condition.getAsBoolean());
    }

    /** The class condition: skip without Chromium, except under CI=true, where a missing browser is an error. */
    static boolean chromiumInstalled() {
        if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
            return true;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true but " + NO_CHROMIUM.replace(" are skipped", " cannot run"));
        }
        System.err.println("WARNING: " + NO_CHROMIUM);
        return false;
    }
}
