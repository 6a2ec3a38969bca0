package ai.fgclip2.bench;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.DecodeBudget;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.RegionEncoder;
import ai.fgclip2.server.pipeline.batch.BatcherConfig;
import ai.fgclip2.server.pipeline.image.ImagePreprocessor;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.image.RgbImage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Engine-level figures: {@link InferenceEngine} called directly with synthetic inputs (random patches, random token
 * ids below the vocabulary size). Other processes share these cores and their load changes by the second, so
 * every timed run is paired with a run of the matrix-product probe just before it, and a case's fraction of
 * the machine's rate is the median over those pairs. The same ratio over process CPU time instead of wall time
 * is reported beside it: it hardly depends on how much of the cores other processes took.
 */
final class EngineBench {
    /** Region classification: this many boxes on one 256-patch image, and as many box-walk labels. */
    static final int REGION_BOXES = 20;
    static final int REGION_IMAGE_SIDE = 256;

    /**
     * @param gflopPerItem        analytic work per image or text
     * @param itemsPerSecond      batch / median latency
     * @param matmulGflops        the probe's median rate over the runs paired with this case's runs
     * @param fractionOfMatmul    median over pairs of (this run's GFLOP/s) / (the probe run's GFLOP/s), wall time
     * @param fractionOfMatmulCpu the same with GFLOP per CPU-second of the process; null when the run was too short to measure CPU time
     */
    record Case(String name, int batch, double gflopPerItem, Timing.Latency latency, double itemsPerSecond,
                double achievedGflops, double matmulGflops, double fractionOfMatmul, Double fractionOfMatmulCpu) {
    }

    private record Pair(Timing.Run matmul, Timing.Run work) {
    }

    /** A synthetic preprocessed image: the same random patches every call. */
    private record RandomImage(int gridRows, int gridCols, float[] patches) implements InferenceEngine.PatchSource {
        @Override
        public void writePatches(FloatBuffer target) {
            target.put(patches);
        }
    }

    private final InferenceEngine engine;
    private final Flops flops;
    private final MatmulProbe matmul;
    private final Timing.Budget budget;
    private final SplittableRandom random = new SplittableRandom(7);

    EngineBench(InferenceEngine engine, Flops flops, MatmulProbe matmul, Timing.Budget budget) {
        this.engine = engine;
        this.flops = flops;
        this.matmul = matmul;
        this.budget = budget;
    }

    Case images(int gridSide, int batch) throws Exception {
        List<RandomImage> images = Collections.nCopies(batch, randomImage(gridSide));
        return measure("image " + gridSide * gridSide + " patches", batch, flops.image((long) gridSide * gridSide),
                () -> engine.images(images, false));
    }

    Case text(int length, InferenceEngine.TextHead head, int batch) throws Exception {
        List<long[]> ids = randomIds(batch, length);
        return measure("text " + head.name().toLowerCase(Locale.ROOT) + " " + length + " tokens", batch, flops.text(length), () -> engine.text(ids, head));
    }

    /**
     * One image through the service's region encoder (vision with hidden state, then the region graph over the
     * boxes, unbatched here), and box-walk text for as many labels.
     */
    Case regions() throws Exception {
        int gridSide = REGION_IMAGE_SIDE / 16;
        long patches = (long) gridSide * gridSide;
        byte[] pixels = new byte[REGION_IMAGE_SIDE * REGION_IMAGE_SIDE * 3];
        random.nextBytes(pixels);
        ImagePreprocessor preprocessor = new ImagePreprocessor(Long.MAX_VALUE, (int) patches);
        PreprocessedImage image = preprocessor.preprocess(new RgbImage(REGION_IMAGE_SIDE, REGION_IMAGE_SIDE, pixels), (int) patches);
        float[][] boxes = new float[REGION_BOXES][];
        for (int b = 0; b < REGION_BOXES; b++) {
            int x1 = random.nextInt(REGION_IMAGE_SIDE - 16);
            int y1 = random.nextInt(REGION_IMAGE_SIDE - 16);
            boxes[b] = new float[] {x1, y1, random.nextInt(x1 + 16, REGION_IMAGE_SIDE + 1), random.nextInt(y1 + 16, REGION_IMAGE_SIDE + 1)};
        }
        int boxWalkLength = engine.model().manifest().textLengths().shortLength();
        List<long[]> labels = randomIds(REGION_BOXES, boxWalkLength);
        double work = flops.image(patches) + flops.denseHead(patches) + REGION_BOXES * flops.text(boxWalkLength);
        BatcherConfig unbatched = new BatcherConfig("bench-image", 1, Duration.ZERO, 1, 1);
        try (ImageEncoder images = new ImageEncoder(preprocessor, new DecodeBudget(DecodeBudget.halfOfHeap(), 0, Duration.ofMinutes(10)), engine, unbatched, new SimpleMeterRegistry())) {
            RegionEncoder regions = new RegionEncoder(images, engine);
            return measure("regions " + REGION_BOXES + " boxes + " + REGION_BOXES + " labels", 1, work, () -> {
                try (Admission admission = Admission.of(null, 0, images, 1, Duration.ofMinutes(10))) {
                    regions.encode(image, boxes, admission).join();
                }
                engine.text(labels, InferenceEngine.TextHead.BOX);
            });
        }
    }

    private Case measure(String name, int batch, double flopsPerItem, Timing.Step step) throws Exception {
        List<Pair> pairs = Timing.repeat(budget, () -> new Pair(warmProbe(), Timing.run(step)));
        Timing.Latency latency = Timing.Latency.of(pairs.stream().map(p -> p.work().wallMs()).toList());
        double matmulGflops = MatmulProbe.FLOPS / Timing.median(pairs.stream().map(p -> p.matmul().wallMs()).toList()) / 1e6;
        double work = batch * flopsPerItem;
        double fraction = Timing.median(pairs.stream().map(p -> work / p.work().wallMs() / (MatmulProbe.FLOPS / p.matmul().wallMs())).toList());
        // a run too short for the process CPU clock to tick has no CPU figure (not an infinite one)
        Double fractionCpu = pairs.stream().allMatch(p -> p.work().cpuMs() > 0 && p.matmul().cpuMs() > 0)
                ? Timing.median(pairs.stream().map(p -> work / p.work().cpuMs() / (MatmulProbe.FLOPS / p.matmul().cpuMs())).toList())
                : null;
        double itemsPerSecond = batch / (latency.medianMs() / 1e3);
        return new Case(name, batch, flopsPerItem / 1e9, latency, itemsPerSecond, itemsPerSecond * flopsPerItem / 1e9, matmulGflops,
                fraction, fractionCpu);
    }

    /** The second of two probe runs: the first finds the caches full of the model's weights and runs slower. */
    private Timing.Run warmProbe() throws Exception {
        matmul.runOnce();
        return Timing.run(matmul::runOnce);
    }

    private RandomImage randomImage(int gridSide) {
        float[] patches = new float[gridSide * gridSide * (int) flops.patchValues()];
        for (int i = 0; i < patches.length; i++) {
            patches[i] = (float) (random.nextDouble() * 2 - 1); // normalised pixels lie in [-1, 1]
        }
        return new RandomImage(gridSide, gridSide, patches);
    }

    private List<long[]> randomIds(int count, int length) {
        int vocab = engine.model().manifest().dimensions().vocabSize();
        List<long[]> rows = new ArrayList<>(count);
        for (int r = 0; r < count; r++) {
            rows.add(random.longs(length, 0, vocab).toArray());
        }
        return rows;
    }
}
