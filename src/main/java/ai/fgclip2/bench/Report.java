package ai.fgclip2.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The results as records (written as JSON) and as readable tables on standard output. */
final class Report {

    record Machine(String cpuModel, int cores, String java, String onnxRuntime, String kernel, String loadAverageStart, String loadAverageEnd) {
    }

    record Model(String directory, String variant, String precision, boolean synthetic, double gflopPerImage256, double gflopPerImage1024,
                 double gflopPerShortText, double gflopPerLongText) {
    }

    /**
     * @param engineImagesPerSecond the engine's figure for the same work: 256-patch images at engineBatch, the batch
     *                              the server can form at this concurrency (median over rounds)
     * @param ratioToEngine         median over rounds of HTTP requests/s over the engine's images/s
     */
    record HttpLevel(HttpBench.Load load, int engineBatch, Double engineImagesPerSecond, String engineSource, List<Double> roundRatios,
                     Double ratioToEngine) {
    }

    /**
     * @param peakRssEnginePhase   VmHWM after the engine benchmarks (the bench's engine is then closed)
     * @param rssBeforeServer      RSS when the HTTP phase starts
     * @param peakRssServerPhase   VmHWM of the HTTP phase alone (service in process, load, classification); null when
     *                             the peak could not be reset, or the server is not in this process
     */
    record Memory(MemoryProbe.TextGraphMemory textGraph, long rssAfterEngineLoad, long peakRssEnginePhase, long rssBeforeServer,
                  Long peakRssServerPhase) {
    }

    /** @param measuredCpu for the fractions of the matmul rate: the same ratio over process CPU time (see EngineBench) */
    record Target(String name, double goal, Double measured, Boolean met, Double measuredCpu) {
        static Target atLeast(String name, double goal, Double measured, Double measuredCpu) {
            return new Target(name, goal, measured, measured == null ? null : measured >= goal, measuredCpu);
        }
    }

    record Results(String command, Machine machine, Model model, MatmulProbe.Rate matmul, List<EngineBench.Case> engine,
                   List<HttpLevel> http, HttpBench.Classification classification, Memory memory, List<Target> targets) {
    }

    private static final String ENGINE_ROW = "%-30s %5s %9s %9s %9s %9s %9s %8s %8s%n";

    private Report() {
    }

    static void printEngineHeader() {
        System.out.printf(Locale.ROOT, ENGINE_ROW, "engine (synthetic inputs)", "batch", "p50 ms", "p99 ms", "items/s", "GFLOP/s", "matmul", "fraction", "(cpu)");
    }

    static void printEngineRow(EngineBench.Case c) {
        System.out.printf(Locale.ROOT, ENGINE_ROW, c.name(), c.batch(), f1(c.latency().medianMs()), f1(c.latency().p99Ms()),
                f2(c.itemsPerSecond()), f1(c.achievedGflops()), f1(c.matmulGflops()), f2(c.fractionOfMatmul()),
                c.fractionOfMatmulCpu() == null ? "-" : f2(c.fractionOfMatmulCpu()));
    }

    static void print(Results r) {
        System.out.println();
        System.out.printf(Locale.ROOT, "Machine: %s, %d cores, Java %s, ONNX Runtime %s; load average %s -> %s%n", r.machine().cpuModel(),
                r.machine().cores(), r.machine().java(), r.machine().onnxRuntime(), r.machine().loadAverageStart(), r.machine().loadAverageEnd());
        System.out.printf(Locale.ROOT, "Model: %s %s (%s)%s; analytic GFLOP: image 256 patches %.1f, 1024 patches %.1f, text 64 %.1f, text 196 %.1f%n",
                r.model().variant(), r.model().precision(), r.model().directory(), r.model().synthetic() ? ", synthetic weights" : "",
                r.model().gflopPerImage256(), r.model().gflopPerImage1024(), r.model().gflopPerShortText(), r.model().gflopPerLongText());
        System.out.printf(Locale.ROOT, "fp32 MatMul %dx%d through ONNX Runtime: %.1f GFLOP/s (p50 %.1f ms, %d runs)%n%n", MatmulProbe.SIDE,
                MatmulProbe.SIDE, r.matmul().gflops(), r.matmul().latency().medianMs(), r.matmul().latency().samples());
        printEngineHeader();
        r.engine().forEach(Report::printEngineRow);
        if (!r.http().isEmpty()) {
            String row = "%-11s %8s %6s %8s %9s %9s %6s %12s %7s%n";
            System.out.printf(Locale.ROOT, "%nHTTP POST /v1/embeddings/image, one %dx%d PNG per request (256 patches)%n", HttpBench.IMAGE_SIDE, HttpBench.IMAGE_SIDE);
            System.out.printf(Locale.ROOT, row, "concurrency", "requests", "errors", "req/s", "p50 ms", "p99 ms", "batch", "engine img/s", "ratio");
            for (HttpLevel level : r.http()) {
                HttpBench.Load load = level.load();
                System.out.printf(Locale.ROOT, row, load.concurrency(), load.requests(), load.errors(), f2(load.requestsPerSecond()),
                        f1(load.latency().medianMs()), f1(load.latency().p99Ms()), load.meanImageBatch() == null ? "-" : f1(load.meanImageBatch()),
                        level.engineImagesPerSecond() == null ? "-" : f2(level.engineImagesPerSecond()) + " (b" + level.engineBatch() + ")",
                        level.ratioToEngine() == null ? "-" : f2(level.ratioToEngine()));
            }
        }
        HttpBench.Classification c = r.classification();
        if (c != null) {
            System.out.printf(Locale.ROOT, "%n/v1/classify, %d labels, template \"%s\": first %s s, repeated p50 %s ms (p99 %s ms, %d runs): %sx faster%n",
                    c.labels(), c.template(), f1(c.firstMs() / 1e3), number("%.0f", c.repeated().medianMs()), number("%.0f", c.repeated().p99Ms()),
                    c.repeated().samples(), number("%.0f", c.speedup()));
        }
        Memory m = r.memory();
        MemoryProbe.TextGraphMemory t = m.textGraph();
        System.out.printf(Locale.ROOT, "%nMemory: text graph initializers %d MB (token table %d MB); opening the text graph alone added %d MB RSS "
                        + "(anonymous %d MB, file-backed %d MB)%n", mb(t.textInitializerBytes()), mb(t.tokenTableBytes()), mb(t.rssDelta()),
                mb(t.rssAnonDelta()), mb(t.rssFileDelta()));
        System.out.printf(Locale.ROOT, "RSS after loading the engine %d MB; peak RSS of the engine phase %d MB; of the HTTP phase %s "
                + "(from %d MB at its start)%n", mb(m.rssAfterEngineLoad()), mb(m.peakRssEnginePhase()),
                m.peakRssServerPhase() == null ? "-" : mb(m.peakRssServerPhase()) + " MB", mb(m.rssBeforeServer()));
        System.out.printf(Locale.ROOT, "%n%-58s %9s %7s %-10s %7s%n", "performance goal", "measured", "goal", "result", "(cpu)");
        for (Target target : r.targets()) {
            System.out.printf(Locale.ROOT, "%-58s %9s %7s %-10s %7s%n", target.name(), target.measured() == null ? "-" : f3(target.measured()),
                    f2(target.goal()), target.met() == null ? "-" : target.met() ? "reached" : "below goal",
                    target.measuredCpu() == null ? "" : f3(target.measuredCpu()));
        }
    }

    static void write(Results results, Path file) {
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), results);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static String f1(double value) {
        return number("%.1f", value);
    }

    private static String f2(double value) {
        return number("%.2f", value);
    }

    private static String f3(double value) {
        return number("%.3f", value);
    }

    /** A figure that could not be measured (a zero-length run divides by zero) is shown as "-", never Infinity or NaN. */
    static String number(String format, double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, format, value) : "-";
    }

    private static long mb(long bytes) {
        return Math.round(bytes / 1e6);
    }
}
