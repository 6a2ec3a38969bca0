package ai.fgclip2.server.bulk;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eFixture;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.index.HnswSettings;
import ai.fgclip2.server.index.StoredItem;
import ai.fgclip2.server.index.lucene.LuceneGalleryIndex;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The bulk indexing job on the e2e fixture model: SIGKILLed in the middle of a folder, it leaves an index that
 * opens and holds every item it acknowledged, and a second run completes the rest without redoing them; bad files
 * and bad manifest lines are counted and reported, never fatal.
 */
class BulkIndexJobTest {
    private static final Pattern COMMITTED = Pattern.compile("committed \\d+ items \\((\\d+) in total\\)");
    private static final Pattern DONE = Pattern.compile("done: indexed (\\d+), skipped (\\d+), bad (\\d+)");
    private static final HnswSettings HNSW = new HnswSettings(16, 100);
    private static Path checkpoint;

    @TempDir
    Path work;

    @BeforeAll
    static void model(@TempDir Path shared) {
        checkpoint = E2eFixture.load().checkpointCopy(shared.resolve("checkpoint"));
    }

    @Test
    void aKilledJobLeavesEveryAcknowledgedItemAndTheRerunCompletesTheRest() throws Exception {
        int images = 200;
        Path folder = Files.createDirectories(work.resolve("photos/sub"));
        for (int i = 0; i < images; i++) {
            writePng(folder.resolve(String.format("img-%03d.png", i)), i);
        }
        Files.write(folder.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.write(folder.resolve("empty.jpg"), new byte[0]);
        Files.writeString(work.resolve("photos/notes.txt"), "not an image: ignored");

        Process first = job(work.resolve("photos"), "--batch", "1", "--commit-every", "2");
        int acknowledged = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                Matcher committed = COMMITTED.matcher(line);
                if (committed.matches() && Integer.parseInt(committed.group(1)) >= 10) {
                    acknowledged = Integer.parseInt(committed.group(1));
                    first.destroyForcibly(); // SIGKILL: no shutdown hook, no writer close
                    break;
                }
            }
        }
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(acknowledged).as("the job acknowledged commits before it was killed").isGreaterThanOrEqualTo(10);

        try (GalleryIndex index = new LuceneGalleryIndex(work.resolve("index"), HNSW)) {
            long held = index.count("photos");
            assertThat(held).isGreaterThanOrEqualTo(acknowledged).isLessThan(images);
        }

        Process second = job(work.resolve("photos"), "--batch", "4", "--commit-every", "16", "--optimize");
        String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(second.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(output).isZero();
        Matcher done = DONE.matcher(output);
        assertThat(done.find()).as(output).isTrue();
        int indexed = Integer.parseInt(done.group(1));
        int skipped = Integer.parseInt(done.group(2));
        assertThat(skipped).isGreaterThanOrEqualTo(acknowledged);
        assertThat(indexed + skipped).isEqualTo(images);
        assertThat(Integer.parseInt(done.group(3))).as("broken.png and empty.jpg").isEqualTo(2);
        assertThat(output).contains("optimized: one segment");
        try (var directory = org.apache.lucene.store.FSDirectory.open(work.resolve("index").resolve("photos"));
             var reader = org.apache.lucene.index.DirectoryReader.open(directory)) {
            assertThat(reader.leaves()).as("--optimize merged the collection into one segment").hasSize(1);
        }

        try (GalleryIndex index = new LuceneGalleryIndex(work.resolve("index"), HNSW)) {
            assertThat(index.count("photos")).isEqualTo(images);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                ids.add(String.format("sub/img-%03d.png", i));
            }
            assertThat(index.present("photos", ids)).hasSize(images);
        }
    }

    @Test
    void aManifestBringsMetadataAndBoxesAndItsBadLinesAreCountedNotFatal() throws Exception {
        writePng(work.resolve("a.png"), 1);
        writePng(work.resolve("b.png"), 2);
        Files.write(work.resolve("big.png"), new byte[40_000]); // beyond the job's file limit below: never read
        Path manifest = work.resolve("manifest.jsonl");
        Files.writeString(manifest, String.join("\n",
                "{\"path\": \"a.png\", \"id\": \"a\", \"metadata\": {\"tags\": [\"x\", \"y\"], \"year\": 2020}, \"boxes\": [[0, 0, 30, 30], [10, 10, 60, 40]]}",
                "{\"path\": \"b.png\", \"metadata\": {\"tags\": \"z\"}}",
                "this is not json",
                "{\"id\": \"no-path\"}",
                "{\"path\": \"a.png\", \"id\": \"outside\", \"boxes\": [[500, 500, 600, 600]]}",
                "{\"path\": \"a.png\", \"id\": \"typed\", \"metadata\": {\"year\": \"old\"}}",
                "{\"path\": \"missing.png\", \"id\": \"missing\"}",
                "{\"path\": \"b.png\", \"id\": \"a\"}",
                "{\"path\": \"big.png\", \"id\": \"big\"}",
                "{\"path\": \"a.png\", \"id\": \"../a\"}",
                "{\"path\": \"a.png\", \"id\": \"" + "猫".repeat(171) + "\"}",
                ""));
        Run run = inProcess("--manifest", manifest.toString(), "--collection", "m", "--field", "tags=keyword", "--field", "year=number",
                "--fgclip2.limits.max-request-bytes=20000");
        String output = run.out();
        int exit = run.exit();
        assertThat(exit).as(output).isZero();
        assertThat(output).contains("done: indexed 2, skipped 0, bad 9");
        try (GalleryIndex index = new LuceneGalleryIndex(work.resolve("index"), HNSW)) {
            StoredItem a = index.get("m", "a").orElseThrow();
            assertThat(a.boxes()).hasSize(2);
            assertThat(a.metadata().keywords().get("tags")).containsExactly("x", "y");
            assertThat(a.metadata().numbers().get("year")).isEqualTo(2020.0);
            assertThat(index.get("m", "b.png").orElseThrow().metadata().keywords().get("tags")).containsExactly("z");
            assertThat(index.count("m")).isEqualTo(2);
        }
    }

    @Test
    void aCollectionHeldByAnotherWriterIsReportedNotThrown() throws Exception {
        writePng(work.resolve("c.png"), 3);
        try (GalleryIndex server = new LuceneGalleryIndex(work.resolve("index"), HNSW)) {
            server.create(new ai.fgclip2.server.index.CollectionSpec("held", "m", "r", "fp32", 8, Map.of(), false)); // holds its writer
            Run run = inProcess("--folder", work.toString(), "--collection", "held");
            String output = run.err();
            int exit = run.exit();
            assertThat(exit).as(output).isEqualTo(1);
            assertThat(output).contains("Cannot index into 'held'").contains("open in another process").doesNotContain("\tat ");
        }
        assertThat(new CommandLine(new BulkIndexCommand()).execute("--folder", work.toString(), "--collection", "x", "--decoders", "0")).isEqualTo(2);
    }

    private record Run(int exit, String out, String err) {
    }

    /** The job in this JVM on the fixture model and this test's index, its stdout and stderr captured. */
    private Run inProcess(String... options) {
        List<String> args = new ArrayList<>(List.of(options));
        args.addAll(List.of("--fgclip2.model.dir=" + checkpoint, "--fgclip2.cache.dir=" + work.resolve("cache"),
                "--fgclip2.index.dir=" + work.resolve("index")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new BulkIndexCommand()).execute(args.toArray(String[]::new));
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    /** The job as a separate JVM, as an operator runs it, on the fixture model; stdout is the job's acknowledgements. */
    private Process job(Path folder, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "ai.fgclip2.Main", "index", "--folder", folder.toString(), "--collection", "photos",
                "--fgclip2.model.dir=" + checkpoint, "--fgclip2.cache.dir=" + work.resolve("cache"), "--fgclip2.index.dir=" + work.resolve("index")));
        command.addAll(List.of(options));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(work.resolve("job-" + System.nanoTime() + ".log").toFile());
        builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().put("OPT_OUT_TRACKING", "true");
        return builder.start();
    }

    private static void writePng(Path file, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        ImageIO.write(image, "png", file.toFile());
    }
}
