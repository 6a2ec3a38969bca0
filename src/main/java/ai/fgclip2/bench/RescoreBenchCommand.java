package ai.fgclip2.bench;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.synth.SynthSize;
import ai.fgclip2.exporter.synth.Synthesizer;
import ai.fgclip2.offline.RescoreCommand;
import ai.fgclip2.offline.VocabularyCommand;
import ai.fgclip2.server.assembly.ClipServices;
import ai.fgclip2.server.clip.ClassMatrix;
import ai.fgclip2.server.clip.DetectionRescorer;
import ai.fgclip2.server.clip.Embeddings;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.Limits;
import ai.fgclip2.server.clip.Vocabulary;
import ai.fgclip2.server.clip.VocabularyBuilder;
import ai.fgclip2.server.clip.VocabularyFile;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.ModelLocator;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.pipeline.DecodeBudget;
import ai.fgclip2.server.pipeline.text.TextWalk;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Detector rescoring at detector scale, in process: 300 and 3,000 detections on one 1024-patch image against a
 * registered 1203-class vocabulary, each as a ratio to that image's embedding alone (runs interleaved, medians);
 * the offline job's images/s against plain image embedding of the same images; the rate of building the LVIS
 * vocabulary with the 80 official templates on a subset of its classes, extrapolated to all 1203.
 */
@Command(name = "rescore", mixinStandardHelpOptions = true,
        description = "Rescoring benchmarks: 300 / 3,000 detections vs image embedding, the offline job vs plain embedding, LVIS vocabulary build rate.")
public final class RescoreBenchCommand implements Callable<Integer> {
    private static final int LVIS_CLASSES = 1203;
    private static final int IMAGE_SIDE = 512; // 32 x 32 = 1024 patches at the 1024 budget
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--size", defaultValue = "base", converter = BenchCommand.SizeConverter.class, description = "Synthesized checkpoint size (default: ${DEFAULT-VALUE}).")
    SynthSize size;

    @Option(names = "--work-dir", defaultValue = "${java.io.tmpdir}/fgclip2-bench", description = "Where the checkpoint and exports are kept (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 = one per core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--rounds", defaultValue = "7", description = "Interleaved rounds of embedding / 300 / 3,000 detections (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--job-images", defaultValue = "12", description = "Images in the offline-job comparison (default: ${DEFAULT-VALUE}).")
    int jobImages;

    @Option(names = "--lvis-subset", defaultValue = "8", description = "LVIS classes (x 80 templates) built to measure the vocabulary build rate (default: ${DEFAULT-VALUE}).")
    int lvisSubset;

    @Override
    public Integer call() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        Path checkpoint = workDir.resolve("synth-" + size.cliName() + "-seed0");
        if (!Files.isRegularFile(checkpoint.resolve(Checkpoint.TOKENIZER))) {
            System.out.printf("synthesizing a %s checkpoint into %s%n", size.cliName(), checkpoint);
            Synthesizer.write(size, 0, checkpoint);
        }
        Path exports = workDir.resolve("exports");
        ModelFiles model = ModelLocator.locate(checkpoint, "fp32", exports);
        Path vocabularies = Files.createDirectories(workDir.resolve("rescore-vocabularies"));
        SplittableRandom random = new SplittableRandom(5);
        Limits limits = new Limits(64, 4096, 2048, 65536, 256, 4096, 32, Duration.ofMinutes(10), 160_000_000L, 65536, 10_000);
        ClipServices.Settings settings = new ClipServices.Settings(new ClipServices.Batching(32, 8, Duration.ofMillis(2), 1 << 20), limits, 40_000_000L, DecodeBudget.halfOfHeap(), 20_000,
                vocabularies);
        System.out.printf(Locale.ROOT, "model %s (%s), %d cores, load %s%n", model.manifest().variant(), model.directory(), Runtime.getRuntime().availableProcessors(),
                Files.readString(Path.of("/proc/loadavg")).trim());
        Path images = Files.createDirectories(workDir.resolve("rescore-images"));
        List<Path> jobFiles = new ArrayList<>();
        for (int i = 0; i < jobImages; i++) {
            Path file = images.resolve("image" + i + ".png");
            Files.write(file, png(640, 480, random));
            jobFiles.add(file);
        }
        double embedPerSecond;
        try (OnnxEngine engine = new OnnxEngine(model, EngineSettings.cpu(threads), new SimpleMeterRegistry());
             ClipServices services = new ClipServices(engine, settings, new SimpleMeterRegistry())) {
            // the registered 1203-class vocabulary: random unit class embeddings (the cost is the product, not the values)
            Vocabulary.ModelKey key = ClipServices.modelKey(engine);
            Vocabulary.Definition lvis = VocabularyBuilder.builtin("lvis", "lvis-bench", TextWalk.BOX);
            int dimensions = engine.model().manifest().dimensions().projectionSize();
            List<float[]> units = new ArrayList<>();
            for (int c = 0; c < LVIS_CLASSES; c++) {
                float[] v = new float[dimensions];
                double norm = 0;
                for (int k = 0; k < dimensions; k++) {
                    v[k] = (float) random.nextGaussian();
                    norm += v[k] * v[k];
                }
                for (int k = 0; k < dimensions; k++) {
                    v[k] /= (float) Math.sqrt(norm);
                }
                units.add(v);
            }
            Path file = vocabularies.resolve("lvis-bench.tmp" + VocabularyFile.EXTENSION);
            VocabularyFile.write(new Vocabulary(lvis, key, ClassMatrix.of(units)), file);
            services.vocabularies().install(file);
            Files.delete(file);

            byte[] image = png(IMAGE_SIDE, IMAGE_SIDE, random);
            Embeddings embeddings = services.embeddings();
            DetectionRescorer rescorer = services.detectionRescorer();
            Map<String, Object> detections300 = mmdet(300, random);
            Map<String, Object> detections3000 = mmdet(3000, random);
            DetectionRescorer.Options options = DetectionRescorer.Options.defaults();
            Timing.Step embed = () -> embeddings.images("images", List.of(new ImageInput(image, "/images/0")), 1024, true);
            Timing.Step rescore300 = () -> rescorer.rescore(new DetectionRescorer.Command(new ImageInput(image, "/image"), detections300,
                    DetectionRescorer.VocabularyRef.named("lvis-bench"), null, options, 1024));
            Timing.Step rescore3000 = () -> rescorer.rescore(new DetectionRescorer.Command(new ImageInput(image, "/image"), detections3000,
                    DetectionRescorer.VocabularyRef.named("lvis-bench"), null, options, 1024));
            embed.run();
            rescore300.run();
            rescore3000.run();
            List<Double> embedMs = new ArrayList<>();
            List<Double> r300 = new ArrayList<>();
            List<Double> r3000 = new ArrayList<>();
            List<Double> ratio300 = new ArrayList<>();
            List<Double> ratio3000 = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                double e = Timing.millis(embed);
                double a = Timing.millis(rescore300);
                double b = Timing.millis(rescore3000);
                embedMs.add(e);
                r300.add(a);
                r3000.add(b);
                ratio300.add(a / e);
                ratio3000.add(b / e);
                System.out.printf(Locale.ROOT, "round %d: embed %.0f ms, rescore 300 %.0f ms (%.2fx), rescore 3000 %.0f ms (%.2fx)%n", round + 1, e, a, a / e, b, b / e);
            }
            System.out.printf(Locale.ROOT, "%nimage embedding (1024 patches):          median %.0f ms%n", Timing.median(embedMs));
            System.out.printf(Locale.ROOT, "rescore 300 detections x 1203 classes:   median %.0f ms, ratio to embedding %.2fx (median of per-round ratios)%n",
                    Timing.median(r300), Timing.median(ratio300));
            System.out.printf(Locale.ROOT, "rescore 3000 detections x 1203 classes:  median %.0f ms, ratio to embedding %.2fx (goal <= 1.25x)%n",
                    Timing.median(r3000), Timing.median(ratio3000));

            // plain embedding of the job's images, two in flight as the job runs them
            List<Double> rates = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                long start = System.nanoTime();
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
                List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
                for (Path f : jobFiles) {
                    byte[] bytes = Files.readAllBytes(f);
                    futures.add(pool.submit(() -> embeddings.images("images", List.of(new ImageInput(bytes, f.toString())), null, true)));
                }
                for (var future : futures) {
                    future.get();
                }
                pool.shutdown();
                rates.add(jobFiles.size() / ((System.nanoTime() - start) / 1e9));
            }
            embedPerSecond = rates.get(rates.size() - 1);
            System.out.printf(Locale.ROOT, "%nplain image embedding of %d 640x480 images (2 in flight): %.2f images/s%n", jobFiles.size(), embedPerSecond);
        }

        // the offline job over the same images, 300 detections each (mmdetection JSON Lines), against the same vocabulary
        Path detectionsFile = workDir.resolve("rescore-job.jsonl");
        List<String> lines = new ArrayList<>();
        for (Path f : jobFiles) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("image", f.getFileName().toString());
            line.putAll(mmdet(300, random));
            lines.add(JSON.writeValueAsString(line));
        }
        Files.write(detectionsFile, lines);
        Path out = workDir.resolve("rescore-job-out.jsonl");
        Files.deleteIfExists(out);
        long start = System.nanoTime();
        int exit = new CommandLine(new RescoreCommand()).execute("--model-dir", model.directory().toString(), "--cache-dir", exports.toString(),
                "--provider", "cpu", "--threads", Integer.toString(threads), "--detections", detectionsFile.toString(), "--images", images.toString(),
                "--out", out.toString(), "--vocabulary-file", vocabularies.resolve(VocabularyFile.fileName("lvis-bench", modelKey(model))).toString());
        double jobSeconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "offline job, %d images x 300 detections: exit %d, %.1f s wall including model load; see its summary line for images/s "
                + "(plain embedding: %.2f images/s)%n", jobFiles.size(), exit, jobSeconds, embedPerSecond);

        // LVIS with the 80 official templates on a subset, extrapolated
        Path subset = workDir.resolve("lvis-subset.vocab");
        long buildStart = System.nanoTime();
        new CommandLine(new VocabularyCommand()).execute("--model-dir", model.directory().toString(), "--cache-dir", exports.toString(), "--provider", "cpu",
                "--threads", Integer.toString(threads), "--builtin", "lvis", "--limit", Integer.toString(lvisSubset), "--out", subset.toString());
        double buildSeconds = (System.nanoTime() - buildStart) / 1e9;
        int prompts = lvisSubset * 80;
        System.out.printf(Locale.ROOT, "LVIS subset: %d classes x 80 templates = %d prompts in %.1f s wall incl. model load (%.2f prompts/s); "
                + "all 1203 classes (96,240 prompts) extrapolated from the command's own rate line above%n", lvisSubset, prompts, buildSeconds, prompts / buildSeconds);
        return 0;
    }

    private static Vocabulary.ModelKey modelKey(ModelFiles model) {
        return new Vocabulary.ModelKey(model.id(), model.revision(), model.manifest().precision());
    }

    /** An mmdetection-shaped result: distinct random boxes in a 512 x 512 image (or 640 x 480), random class indices. */
    private static Map<String, Object> mmdet(int count, SplittableRandom random) {
        List<Integer> labels = new ArrayList<>(count);
        List<Double> scores = new ArrayList<>(count);
        List<List<Double>> boxes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            double x = random.nextInt(400);
            double y = random.nextInt(400);
            boxes.add(List.of(x, y, x + 8 + random.nextInt(100), y + 8 + random.nextInt(70)));
            labels.add(random.nextInt(LVIS_CLASSES));
            scores.add(random.nextDouble());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("labels", labels);
        out.put("scores", scores);
        out.put("bboxes", boxes);
        return out;
    }

    private static byte[] png(int width, int height, SplittableRandom random) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int seed = random.nextInt(255);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, ((x * 3 + seed) & 0xff) << 16 | ((y * 5 + seed) & 0xff) << 8 | ((x ^ y) & 0xff));
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        }
    }
}
