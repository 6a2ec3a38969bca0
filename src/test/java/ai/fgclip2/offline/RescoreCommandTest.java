package ai.fgclip2.offline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ai.fgclip2.server.E2eFixture;
import ai.fgclip2.server.ServerTestSupport;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The offline commands end to end on the e2e fixture model: a vocabulary file built by {@code vocabulary}, then
 * {@code rescore} on an LVIS-format results file, run as an operator runs it (a separate JVM) and SIGKILLed half-way.
 * The re-run skips the images the killed run journaled, redoes the rest (the one whose journal line the kill cut
 * too), and ends with the same file an uninterrupted run writes: every image's results once, the same fused scores.
 * The unreadable image is counted and skipped each time.
 */
class RescoreCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final E2eFixture FIXTURE = E2eFixture.load();
    private static final Pattern SUMMARY = Pattern.compile("summary: (\\d+) images \\((\\d+) skipped as done, (\\d+) rescored, (\\d+) failed\\)");
    private static final int IMAGES = 48;
    private static final int DETECTIONS_PER_IMAGE = 5;
    /** The killed run is stopped once it has journaled this many images. */
    private static final int JOURNALED_BEFORE_KILL = 3;

    @TempDir
    Path work;

    /** One run's figures from its summary line. */
    private record Summary(int images, int skipped, int rescored, int failed) {
    }

    @Test
    @SuppressWarnings("unchecked")
    void aKilledRescoreJobResumesWithoutRedoingFinishedImagesAndEndsAsAnUninterruptedRun() throws Exception {
        Path checkpoint = FIXTURE.checkpointCopy(ServerTestSupport.SHARED_CACHE.resolve("e2e-checkpoint-offline"));
        Path cache = ServerTestSupport.SHARED_CACHE.resolve("exports");
        List<String> labels = new ArrayList<>();
        FIXTURE.cases().path("rescore").get(0).path("vocabulary").forEach(l -> labels.add(l.asText()));
        Files.write(work.resolve("labels.txt"), labels);
        // one ONNX Runtime thread: the same arithmetic in every run, and a pace slow enough to kill the job half-way
        String[] model = {"--model-dir", checkpoint.toString(), "--cache-dir", cache.toString(), "--provider", "cpu", "--threads", "1"};

        Path vocabularyFile = work.resolve("offline-test.vocab");
        Files.writeString(work.resolve("templates.txt"), "a photo of a {}.\n");
        assertThat(inProcess(new VocabularyCommand(), concat(model, "--labels-file", work.resolve("labels.txt").toString(), "--name", "offline-test",
                "--templates-file", work.resolve("templates.txt").toString(), "--out", vocabularyFile.toString())).exit()).isZero();
        assertThat(vocabularyFile).exists();

        Path images = Files.createDirectories(work.resolve("images/val2017"));
        List<Map<String, Object>> imageList = new ArrayList<>();
        List<Map<String, Object>> results = new ArrayList<>();
        for (int id = 1; id <= IMAGES; id++) {
            writePng(images.resolve(String.format("%012d.png", id)), id);
            // LVIS v1 names images by coco_url only
            imageList.add(Map.of("id", id, "coco_url", String.format("http://images.cocodataset.org/val2017/%012d.png", id)));
            for (int d = 0; d < DETECTIONS_PER_IMAGE; d++) {
                results.add(Map.of("image_id", id, "category_id", 100 + (id + d) % labels.size(), "bbox", List.of(4.0 * d, 3.0 + d, 60.0 + id, 40.0 + d),
                        "score", 0.1 + 0.15 * d));
            }
        }
        int broken = IMAGES + 1;
        Files.write(images.resolve("broken.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        imageList.add(Map.of("id", broken, "coco_url", "http://images.cocodataset.org/val2017/broken.jpg"));
        results.add(Map.of("image_id", broken, "category_id", 100, "bbox", List.of(1.0, 1.0, 10.0, 10.0), "score", 0.5));
        List<Map<String, Object>> categories = new ArrayList<>();
        for (int c = 0; c < labels.size(); c++) {
            categories.add(Map.of("id", 100 + c, "name", labels.get(c).replace(' ', '_')));
        }
        Path annotations = work.resolve("lvis_v1_val.json");
        JSON.writeValue(annotations.toFile(), Map.of("images", imageList, "categories", categories, "annotations", List.of()));
        Path detections = work.resolve("llmdet_results.json");
        JSON.writeValue(detections.toFile(), results);

        // the uninterrupted run, in its own folder
        Path cleanOut = Files.createDirectories(work.resolve("clean")).resolve("fused_results.json");
        Run clean = inProcess(new RescoreCommand(), job(model, detections, annotations, cleanOut));
        assertThat(clean.exit()).as("the unreadable image failed").isEqualTo(3);
        assertThat(clean.summary()).isEqualTo(new Summary(IMAGES + 1, 0, IMAGES, 1));
        List<Map<String, Object>> expected = JSON.readValue(cleanOut.toFile(), List.class);
        assertThat(expected).hasSize(IMAGES * DETECTIONS_PER_IMAGE);
        for (Map<String, Object> entry : expected) {
            assertThat(entry.keySet()).containsExactlyInAnyOrder("image_id", "category_id", "bbox", "score");
            assertThat(((Number) entry.get("image_id")).intValue()).isBetween(1, IMAGES);
            assertThat(((Number) entry.get("category_id")).intValue()).isBetween(100, 100 + labels.size() - 1);
            assertThat(((Number) entry.get("score")).doubleValue()).isBetween(0.0, 1.0);
            assertThat((List<Object>) entry.get("bbox")).hasSize(4);
        }

        // the same job in a separate JVM, SIGKILLed once it has journaled a few images
        Path out = Files.createDirectories(work.resolve("resumed")).resolve("fused_results.json");
        Path journal = Path.of(out + ".jsonl");
        Path log = work.resolve("killed-run.log");
        Process killed = childJvm(job(model, detections, annotations, out), log);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (finishedLines(journal).size() < JOURNALED_BEFORE_KILL) {
            if (killed.waitFor(10, TimeUnit.MILLISECONDS) || System.nanoTime() > deadline) {
                killed.destroyForcibly();
                fail("the job ended or stalled before journaling %d images:%n%s", JOURNALED_BEFORE_KILL, Files.readString(log));
            }
        }
        killed.destroyForcibly(); // SIGKILL: no shutdown hook, no writer close
        assertThat(killed.waitFor(60, TimeUnit.SECONDS)).isTrue();
        List<String> finished = finishedLines(journal);
        assertThat(finished.size()).as("killed half-way").isBetween(JOURNALED_BEFORE_KILL, IMAGES - 1);
        assertThat(out).as("the fused file is written at the end only").doesNotExist();

        // a kill can also land inside a line (a line longer than the writer's buffer takes several writes): cut the last one as it would be
        List<String> done = finished.subList(0, finished.size() - 1);
        String cut = finished.get(finished.size() - 1);
        Files.writeString(journal, String.join("\n", done) + "\n" + cut.substring(0, cut.length() / 2), StandardCharsets.UTF_8);

        Run resumed = inProcess(new RescoreCommand(), job(model, detections, annotations, out));
        assertThat(resumed.exit()).as("the unreadable image failed again").isEqualTo(3);
        assertThat(resumed.summary()).as("the journaled images are skipped, the cut one redone")
                .isEqualTo(new Summary(IMAGES + 1, done.size(), IMAGES - done.size(), 1));
        List<String> journaled = Files.readAllLines(journal, StandardCharsets.UTF_8);
        assertThat(journaled.subList(0, done.size())).as("the finished images' lines are kept as they were").isEqualTo(done);
        assertThat(journaled.stream().map(RescoreCommandTest::imageId)).as("each image journaled once").doesNotHaveDuplicates().hasSize(IMAGES);

        List<Map<String, Object>> fused = JSON.readValue(out.toFile(), List.class);
        assertThat(byImage(fused)).as("the same detections and fused scores as the uninterrupted run").isEqualTo(byImage(expected));
        assertThat(fused).hasSameSizeAs(expected);
    }

    private static String[] job(String[] model, Path detections, Path annotations, Path out) {
        return concat(model, "--detections", detections.toString(), "--annotations", annotations.toString(), "--images",
                detections.resolveSibling("images").toString(), "--out", out.toString(), "--vocabulary-file",
                detections.resolveSibling("offline-test.vocab").toString(), "--parallel", "1");
    }

    /** The journal's complete lines (a line still being written when looked at, or cut by a kill, is not one). */
    private static List<String> finishedLines(Path journal) throws IOException {
        if (!Files.exists(journal)) {
            return List.of();
        }
        String text = Files.readString(journal, StandardCharsets.UTF_8);
        return text.substring(0, text.lastIndexOf('\n') + 1).lines().toList();
    }

    private static Object imageId(String journalLine) {
        try {
            return JSON.readValue(journalLine, Map.class).get("image_id");
        } catch (IOException e) {
            throw new AssertionError("not a journal line: " + journalLine, e);
        }
    }

    /** Each image's results in the order the job wrote them (by fused score); the images in id order. */
    private static Map<Integer, List<Map<String, Object>>> byImage(List<Map<String, Object>> results) {
        return results.stream().collect(Collectors.groupingBy(r -> ((Number) r.get("image_id")).intValue(), TreeMap::new, Collectors.toList()));
    }

    private record Run(int exit, Summary summary) {
    }

    /** A command in this JVM, its summary line read from what it prints. */
    private static Run inProcess(Object command, String[] args) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int exit;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            exit = new CommandLine(command).execute(args);
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        System.out.print(output);
        Matcher summary = SUMMARY.matcher(output);
        return new Run(exit, summary.find() ? new Summary(Integer.parseInt(summary.group(1)), Integer.parseInt(summary.group(2)),
                Integer.parseInt(summary.group(3)), Integer.parseInt(summary.group(4))) : null);
    }

    /** {@code rescore} as an operator runs it: its own JVM on this classpath, its output in {@code log}. */
    private static Process childJvm(String[] args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "ai.fgclip2.Main", "rescore"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().put("OPT_OUT_TRACKING", "true");
        return builder.start();
    }

    private static String[] concat(String[] first, String... rest) {
        String[] all = new String[first.length + rest.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return all;
    }

    private static void writePng(Path file, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        BufferedImage image = new BufferedImage(160, 120, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ImageIO.write(image, "png", file.toFile());
    }
}
