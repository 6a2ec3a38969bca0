package ai.fgclip2.bench;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.exporter.graph.FloatLayers;
import ai.fgclip2.exporter.synth.SynthSize;
import ai.fgclip2.exporter.synth.Synthesizer;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.ModelLocator;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.onnxruntime.OrtEnvironment;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = RescoreBenchCommand.class,
        description = "Benchmarks on the CPU: engine throughput and latency (images, texts, regions) against the machine's fp32 "
                + "matrix-product rate through ONNX Runtime, HTTP end-to-end on loopback, first vs repeated classification, memory. "
                + "Prints tables and writes JSON.")
public final class BenchCommand implements Callable<Integer> {
    private static final int CLASSIFY_LABELS = 1203;
    private static final String CLASSIFY_TEMPLATE = "a photo of a {}.";
    private static final String IMAGE_256 = "image 256 patches";

    @Option(names = "--size", defaultValue = "base", converter = SizeConverter.class,
            description = "Size of the synthesized checkpoint when no --model-dir is given: tiny, base, large, so400m (default: ${DEFAULT-VALUE}).")
    SynthSize size;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the synthesized checkpoint (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model-dir", description = "An exported model (manifest.json) or a Hugging Face checkpoint folder instead of a synthesized one.")
    Path modelDir;

    @Option(names = "--work-dir", description = "Where the synthesized checkpoint and exports are kept and reused (default: ${DEFAULT-VALUE}).",
            defaultValue = "${java.io.tmpdir}/fgclip2-bench")
    Path workDir;

    @Option(names = "--out", defaultValue = "bench-results.json", description = "JSON results file (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--url", description = "Measure HTTP against this already running server (loopback only) instead of one started in-process.")
    URI url;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 = one per core, as the service (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--int8", description = "Instead of the full run: fp32 against an int8 export of the same checkpoint, interleaved, per case.")
    boolean int8;

    @Option(names = "--float-layers", description = "With --int8: encoder layers the int8 export keeps in float32, as the exporter's "
            + "option (e.g. first,last), to measure what they cost.")
    String floatLayers;

    @Option(names = "--quick", description = "A short smoke run: fewer iterations, batch sizes and labels.")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        // the in-process server tokenizes: DJL must never reach the network
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        String loadStart = loadAverage();
        if (int8) {
            return compareInt8();
        }
        ModelFiles model = prepareModel("fp32");
        Manifest manifest = model.manifest();
        Flops flops = Flops.of(manifest);
        Report.Model modelSummary = new Report.Model(model.directory().toString(), manifest.variant(), manifest.precision(), modelDir == null,
                flops.image(256) / 1e9, flops.image(1024) / 1e9, flops.text(manifest.textLengths().shortLength()) / 1e9,
                flops.text(manifest.textLengths().longLength()) / 1e9);
        System.out.printf(Locale.ROOT, "Model %s (%s); analytic FLOPs per 256-patch image: %.1f GFLOP (platform notes, base: about 46)%n",
                manifest.variant(), model.directory(), modelSummary.gflopPerImage256());

        EngineSettings settings = EngineSettings.cpu(threads);
        // first, before anything else is resident: what the text graph alone costs
        MemoryProbe.TextGraphMemory textMemory = MemoryProbe.textGraph(model, settings);
        List<EngineBench.Case> cases = new ArrayList<>();
        List<Report.HttpLevel> http = new ArrayList<>();
        MatmulProbe.Rate matmulRate;
        long rssAfterLoad;
        long peakEnginePhase;
        long rssBeforeServer;
        Long peakServerPhase;
        HttpBench.Classification classification;
        try (MatmulProbe matmul = new MatmulProbe(settings)) {
            matmulRate = matmul.measure(Timing.Budget.engine(quick));
            System.out.printf(Locale.ROOT, "fp32 MatMul %dx%d through ONNX Runtime: %.1f GFLOP/s%n%n", MatmulProbe.SIDE, MatmulProbe.SIDE, matmulRate.gflops());
            Report.printEngineHeader();
            try (OnnxEngine engine = new OnnxEngine(model, settings, new SimpleMeterRegistry())) {
                rssAfterLoad = MemoryProbe.read().rss();
                cases.addAll(engineCases(new EngineBench(engine, flops, matmul, Timing.Budget.engine(quick)), manifest.textLengths()));
            }
            peakEnginePhase = MemoryProbe.read().peakRss();
            rssBeforeServer = MemoryProbe.read().rss();
            boolean peakReset = url == null && MemoryProbe.resetPeak();

            System.out.println();
            try (HttpBench server = url != null ? HttpBench.connect(url) : HttpBench.start(model.directory(), threads)) {
                for (int concurrency : List.of(1, 4, 8)) {
                    http.add(httpLevel(server, concurrency, flops, matmul, cases));
                }
                int labels = quick ? 64 : CLASSIFY_LABELS;
                System.out.printf(Locale.ROOT, "classifying with %d labels (the first call embeds them all)...%n", labels);
                try {
                    classification = server.classification(HttpBench.lvisLikeLabels(labels), CLASSIFY_TEMPLATE, quick ? 3 : 5);
                } catch (IllegalStateException e) { // an external server's text queue may be smaller than the vocabulary
                    System.out.println("classification skipped: " + e.getMessage());
                    classification = null;
                }
            }
            peakServerPhase = peakReset ? MemoryProbe.read().peakRss() : null;
        }
        Report.Memory memory = new Report.Memory(textMemory, rssAfterLoad, peakEnginePhase, rssBeforeServer, peakServerPhase);
        Report.Results results = new Report.Results(commandLine(), machine(loadStart), modelSummary, matmulRate, cases, http, classification, memory,
                targets(cases, http, classification));
        Report.print(results);
        Report.write(results, out);
        System.out.println("\nwrote " + out.toAbsolutePath());
        return 0;
    }

    /** A synthesized checkpoint of --size (written once into the work dir), or --model-dir; exported once and reused. */
    private ModelFiles prepareModel(String precision) {
        return ModelLocator.locate(checkpoint(), precision, workDir.resolve("exports"));
    }

    private Path checkpoint() {
        if (modelDir != null) {
            return modelDir;
        }
        Path checkpoint = workDir.resolve("synth-" + size.cliName() + "-seed" + seed);
        if (!Files.isRegularFile(checkpoint.resolve(Checkpoint.TOKENIZER))) { // written last
            System.out.printf("synthesizing a %s checkpoint into %s%n", size.cliName(), checkpoint);
            Synthesizer.write(size, seed, checkpoint);
        }
        return checkpoint;
    }

    /** The int8 export with --float-layers kept in float32, exported once into the work dir. */
    private ModelFiles int8WithFloatLayers() {
        Exporter.Options options = new Exporter.Options(Exporter.Precision.INT8, false, FloatLayers.parse(floatLayers), true);
        return ModelLocator.locate(checkpoint(), options, workDir.resolve("exports"));
    }

    /** fp32 and int8 engines of the same checkpoint side by side; both graphs run with the same session settings. */
    private int compareInt8() {
        ModelFiles fp32Model = prepareModel("fp32");
        ModelFiles int8Model = floatLayers == null ? prepareModel("int8") : int8WithFloatLayers();
        EngineSettings settings = EngineSettings.cpu(threads);
        System.out.printf(Locale.ROOT, "Model %s; fp32 %s, int8 %s%n", fp32Model.manifest().variant(), fp32Model.directory(), int8Model.directory());
        try (OnnxEngine fp32Engine = new OnnxEngine(fp32Model, settings, new SimpleMeterRegistry());
             OnnxEngine int8Engine = new OnnxEngine(int8Model, settings, new SimpleMeterRegistry())) {
            System.out.println("int8 agreement with fp32: " + int8Engine.quantizationAgreement().summary());
            PrecisionBench.printHeader();
            new PrecisionBench(fp32Engine, int8Engine, quick ? 3 : 9).run(fp32Model.manifest().textLengths().shortLength());
        } catch (ai.onnxruntime.OrtException e) {
            throw new IllegalStateException("cannot open the graphs: " + e.getMessage(), e);
        }
        return 0;
    }

    /** Images at 256 and 1024 patches (16x16 and 32x32 grids) over a few batch sizes, short and long text, regions. */
    private List<EngineBench.Case> engineCases(EngineBench bench, Manifest.TextLengths lengths) throws Exception {
        List<EngineBench.Case> cases = new ArrayList<>();
        for (int batch : quick ? List.of(1, 2) : List.of(1, 2, 4, 8)) {
            cases.add(shown(bench.images(16, batch)));
        }
        for (int batch : quick ? List.of(1) : List.of(1, 2, 4)) {
            cases.add(shown(bench.images(32, batch)));
        }
        cases.add(shown(bench.text(lengths.shortLength(), InferenceEngine.TextHead.SHORT, 1)));
        cases.add(shown(bench.text(lengths.shortLength(), InferenceEngine.TextHead.SHORT, 32)));
        cases.add(shown(bench.text(lengths.longLength(), InferenceEngine.TextHead.LONG, 1)));
        cases.add(shown(bench.text(lengths.longLength(), InferenceEngine.TextHead.LONG, 8)));
        cases.add(shown(bench.regions()));
        return cases;
    }

    private static EngineBench.Case shown(EngineBench.Case result) {
        Report.printEngineRow(result);
        return result;
    }

    /**
     * One HTTP load level against the engine's throughput for the same work: 256-patch images at the batch the
     * server can form at this concurrency. With the server in this process, rounds of load alternate with short
     * runs of its own engine, and the ratio is the median over rounds (the cores' other load drifts).
     */
    private Report.HttpLevel httpLevel(HttpBench server, int concurrency, Flops flops, MatmulProbe matmul, List<EngineBench.Case> cases) throws Exception {
        int batch = Math.min(concurrency, server.imageMaxBatch());
        HttpBench.LoadBudget budget = HttpBench.LoadBudget.of(quick);
        Double phaseFigure = cases.stream().filter(c -> c.name().equals(IMAGE_256) && c.batch() == batch).findFirst()
                .map(EngineBench.Case::itemsPerSecond).orElse(null);
        List<HttpBench.Round> rounds = new ArrayList<>();
        List<Double> engineRates = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < budget.rounds(); r++) {
            boolean first = r == 0;
            Double engineRate = phaseFigure;
            if (server.inProcessEngine().isPresent()) {
                engineRate = new EngineBench(server.inProcessEngine().get(), flops, matmul, Timing.Budget.reference(first)).images(16, batch).itemsPerSecond();
            }
            HttpBench.Round round = server.round(concurrency, budget.time().dividedBy(budget.rounds()), budget.maxRequests() / budget.rounds(), first);
            rounds.add(round);
            if (engineRate != null) {
                engineRates.add(engineRate);
                ratios.add(round.requestsPerSecond() / engineRate);
            }
            System.out.printf(Locale.ROOT, "HTTP concurrency %d, round %d/%d: %.2f req/s; engine %s img/s at batch %d%n", concurrency, r + 1,
                    budget.rounds(), round.requestsPerSecond(), engineRate == null ? "-" : String.format(Locale.ROOT, "%.2f", engineRate), batch);
        }
        String source = server.inProcessEngine().isPresent() ? "the server's engine, alternating with the load rounds"
                : phaseFigure != null ? "the engine phase of this run" : null;
        return new Report.HttpLevel(HttpBench.Load.of(concurrency, rounds, server.inProcess()), batch,
                engineRates.isEmpty() ? null : Timing.median(engineRates), source, ratios, ratios.isEmpty() ? null : Timing.median(ratios));
    }

    private static List<Report.Target> targets(List<EngineBench.Case> cases, List<Report.HttpLevel> http, HttpBench.Classification classification) {
        // the best batch by the paired fraction: raw throughput moves with the other processes' load
        EngineBench.Case image = cases.stream().filter(c -> c.name().equals(IMAGE_256))
                .max(Comparator.comparingDouble(EngineBench.Case::fractionOfMatmul)).orElseThrow();
        EngineBench.Case shortText = cases.stream().filter(c -> c.name().startsWith("text short") && c.batch() == 32).findFirst().orElseThrow();
        Double httpRatio = http.stream().filter(h -> h.load().concurrency() == 8).findFirst().map(Report.HttpLevel::ratioToEngine).orElse(null);
        return List.of(
                Report.Target.atLeast("image 256 patches, best batch (" + image.batch() + "): fraction of matmul rate", 0.9,
                        image.fractionOfMatmul(), image.fractionOfMatmulCpu()),
                Report.Target.atLeast("short text, batch 32: fraction of matmul rate", 0.9, shortText.fractionOfMatmul(), shortText.fractionOfMatmulCpu()),
                Report.Target.atLeast("HTTP at concurrency 8 over engine, same work", 0.9, httpRatio, null),
                Report.Target.atLeast("repeated classification, " + (classification == null ? CLASSIFY_LABELS : classification.labels())
                        + " labels: speed-up over first", 10,
                        classification == null ? null : classification.speedup(), null));
    }

    private static Report.Machine machine(String loadStart) throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        return new Report.Machine(cpu, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vm.vendor") + ")",
                OrtEnvironment.getEnvironment().getVersion(), System.getProperty("os.name") + " " + System.getProperty("os.version"),
                loadStart, loadAverage());
    }

    /** The 1, 5 and 15 minute load averages: above zero means other processes shared the cores. */
    private static String loadAverage() throws IOException {
        String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
        return fields[0] + " " + fields[1] + " " + fields[2];
    }

    private String commandLine() {
        return "java -jar target/fgclip2-server.jar bench" + (modelDir == null ? " --size " + size.cliName() : " --model-dir " + modelDir)
                + (quick ? " --quick" : "") + (url == null ? "" : " --url " + url) + (threads == 0 ? "" : " --threads " + threads) + " --out " + out;
    }

    static final class SizeConverter implements ITypeConverter<SynthSize> {
        @Override
        public SynthSize convert(String value) {
            return SynthSize.fromCliName(value);
        }
    }
}
