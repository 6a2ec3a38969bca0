package ai.fgclip2.bench;

import ai.fgclip2.server.engine.InferenceEngine;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * fp32 against int8 on the same synthetic inputs, interleaved run by run (fp32, int8, fp32, ...) so that the
 * load of other processes on these shared cores falls on both alike; the ratio of the medians is the speed-up.
 */
final class PrecisionBench {

    /** @param speedup fp32 median over int8 median */
    record Comparison(String name, int batch, double fp32MedianMs, double int8MedianMs, double speedup) {
    }

    private record RandomImage(int gridRows, int gridCols, float[] patches) implements InferenceEngine.PatchSource {
        @Override
        public void writePatches(FloatBuffer target) {
            target.put(patches);
        }
    }

    private interface Run {
        void run(InferenceEngine engine);
    }

    private final InferenceEngine fp32;
    private final InferenceEngine int8;
    private final int rounds;
    private final SplittableRandom random = new SplittableRandom(11);

    PrecisionBench(InferenceEngine fp32, InferenceEngine int8, int rounds) {
        this.fp32 = fp32;
        this.int8 = int8;
        this.rounds = rounds;
    }

    /** What the CPU offers int8 matrix products: VNNI (AVX-512 or AVX) or plain AVX2. */
    static String int8Capability() {
        try {
            String flags = Files.readString(Path.of("/proc/cpuinfo"));
            if (flags.contains("avx512_vnni")) {
                return "AVX-512 VNNI";
            }
            if (flags.contains("avx_vnni")) {
                return "AVX-VNNI";
            }
            return flags.contains("avx2") ? "no VNNI (AVX2 only): int8 products run about 2x fp32 at best" : "no VNNI, no AVX2";
        } catch (IOException e) {
            return "unknown (no /proc/cpuinfo)";
        }
    }

    List<Comparison> run(int shortLength) {
        List<Comparison> out = new ArrayList<>();
        out.add(images(16, 1));
        out.add(images(16, 8));
        out.add(images(32, 1));
        out.add(texts(shortLength, 1));
        out.add(texts(shortLength, 32));
        return out;
    }

    private Comparison images(int gridSide, int batch) {
        float[] patches = new float[gridSide * gridSide * 768];
        for (int i = 0; i < patches.length; i++) {
            patches[i] = (float) (random.nextDouble() * 2 - 1);
        }
        List<RandomImage> images = Collections.nCopies(batch, new RandomImage(gridSide, gridSide, patches));
        return compare("image " + gridSide * gridSide + " patches", batch, engine -> engine.images(images, false));
    }

    private Comparison texts(int length, int batch) {
        int vocab = fp32.model().manifest().dimensions().vocabSize();
        List<long[]> ids = new ArrayList<>();
        for (int r = 0; r < batch; r++) {
            ids.add(random.longs(length, 0, vocab).toArray());
        }
        return compare("text short " + length + " tokens", batch, engine -> engine.text(ids, InferenceEngine.TextHead.SHORT));
    }

    private Comparison compare(String name, int batch, Run step) {
        step.run(fp32); // first runs size the arenas
        step.run(int8);
        List<Double> fp32Ms = new ArrayList<>();
        List<Double> int8Ms = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            fp32Ms.add(millis(step, fp32));
            int8Ms.add(millis(step, int8));
        }
        double fp32Median = Timing.median(fp32Ms);
        double int8Median = Timing.median(int8Ms);
        Comparison comparison = new Comparison(name, batch, fp32Median, int8Median, fp32Median / int8Median);
        System.out.printf(Locale.ROOT, "%-26s %5d %10.1f %10.1f %8.2fx%n", name, batch, fp32Median, int8Median, comparison.speedup());
        return comparison;
    }

    private static double millis(Run step, InferenceEngine engine) {
        long start = System.nanoTime();
        step.run(engine);
        return (System.nanoTime() - start) / 1e6;
    }

    static void printHeader() {
        System.out.printf(Locale.ROOT, "int8 capability of this CPU: %s%n", int8Capability());
        System.out.printf(Locale.ROOT, "%-26s %5s %10s %10s %9s%n", "case (interleaved runs)", "batch", "fp32 p50", "int8 p50", "speed-up");
    }
}
