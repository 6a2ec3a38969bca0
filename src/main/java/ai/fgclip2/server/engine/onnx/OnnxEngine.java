package ai.fgclip2.server.engine.onnx;

import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.GraphSessions;
import ai.fgclip2.exporter.graph.ElementType;
import ai.fgclip2.exporter.graph.GraphBuilder;
import ai.fgclip2.exporter.export.QualityGate;
import ai.fgclip2.exporter.graph.RegionGraph;
import ai.fgclip2.exporter.graph.TextGraph;
import ai.fgclip2.exporter.graph.VisionGraph;
import ai.fgclip2.server.engine.EngineException;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.QuantizationAgreement;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine port on ONNX Runtime: the three exported graphs in sessions. Inputs are built in direct buffers
 * (ORT reads them without a host-side copy) that are freed when each run ends ({@link RunBuffers});
 * {@code OrtSession.run} is thread-safe, so one engine serves all batchers.
 */
public final class OnnxEngine implements InferenceEngine {
    private static final Logger log = LoggerFactory.getLogger(OnnxEngine.class);

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final ModelFiles model;
    private final String provider;
    private final String providerFallback;
    private final OrtSession text;
    private final OrtSession vision;
    private final OrtSession region;
    /** A one-node MatMul graph with symbolic shapes: region features x class embeddings on ONNX Runtime's kernels. */
    private final OrtSession product;
    private final int hidden;
    private final int patchValues;
    private final Timer textTimer;
    private final Timer visionTimer;
    private final Timer regionTimer;
    private final Timer productTimer;
    private final QuantizationAgreement quantizationAgreement;

    public OnnxEngine(ModelFiles model, EngineSettings settings, MeterRegistry registry) throws OrtException {
        this.model = model;
        this.textTimer = inferenceTimer(registry, Exporter.TEXT);
        this.visionTimer = inferenceTimer(registry, Exporter.VISION);
        this.regionTimer = inferenceTimer(registry, Exporter.REGION);
        this.productTimer = inferenceTimer(registry, PRODUCT);
        this.hidden = model.manifest().dimensions().hiddenSize();
        var pre = model.manifest().preprocessing();
        this.patchValues = pre.patchSize() * pre.patchSize() * pre.channels();
        Sessions sessions;
        String fallback = null;
        if (settings.provider() == EngineSettings.Provider.CPU) {
            sessions = openAll(settings, false);
        } else {
            try {
                // Session creation, not only addCUDA, must succeed: the GPU jar names CUDA even on hosts without a GPU.
                sessions = openAll(settings, true);
                log.info("ONNX Runtime provider: CUDA (device {})", settings.cudaDevice());
            } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
                if (settings.provider() == EngineSettings.Provider.CUDA) {
                    throw new OrtException("fgclip2.engine.provider=cuda but CUDA is not available (the default jar carries ONNX Runtime's "
                            + "CPU build; the CUDA build is ./mvnw -Pgpu package): " + e.getMessage());
                }
                fallback = "CUDA not available, running on CPU";
                // expected on CPU hosts: not a warning; the cause is for whoever debugs a GPU host
                log.info("ONNX Runtime provider: CPU ({})", fallback);
                log.debug("CUDA provider failure", e);
                sessions = openAll(settings, false);
            }
        }
        this.providerFallback = fallback;
        this.provider = sessions.provider();
        this.text = sessions.text();
        this.vision = sessions.vision();
        this.region = sessions.region();
        try (OrtSession.SessionOptions options = cpuSessionOptions(settings)) {
            this.product = environment.createSession(productGraph(), options);
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
        this.quantizationAgreement = "int8".equals(model.manifest().precision()) ? qualityGate() : null;
    }

    static final String PRODUCT = "product";

    private static byte[] productGraph() {
        GraphBuilder g = new GraphBuilder(PRODUCT, ElementType.FLOAT, tensor -> {
            throw new UnsupportedOperationException("the product graph has no weights");
        });
        String a = g.input("a", ElementType.FLOAT, "rows", "inner");
        String b = g.input("b", ElementType.FLOAT, "inner", "cols");
        String scale = g.input("scale", ElementType.FLOAT);
        String logits = g.op("Mul", List.of(g.op("MatMul", List.of(a, b)), scale));
        g.output(g.op("LogSoftmax", List.of(logits)), "log_probabilities", ElementType.FLOAT, "rows", "cols");
        return g.build("log softmax(scale x region features x class embeddings), per row").toByteArray();
    }

    /** The int8 graphs on the exporter's canonical inputs, against the float32 outputs it stored beside them. */
    private QuantizationAgreement qualityGate() throws OrtException {
        QualityGate.Report report = QualityGate.check(model.directory(), model.manifest(), text, vision, region);
        return new QuantizationAgreement(report.minCosine(), report.minCentredCosine(), report.maxRelativeL2Error(), report.summary());
    }

    @Override
    public QuantizationAgreement quantizationAgreement() {
        return quantizationAgreement;
    }

    private record Sessions(String provider, OrtSession text, OrtSession vision, OrtSession region) {
    }

    /** The three graphs on one provider; on failure none stays open. */
    private Sessions openAll(EngineSettings settings, boolean cuda) throws OrtException {
        java.util.List<OrtSession> opened = new ArrayList<>();
        try {
            for (String graph : java.util.List.of(Exporter.TEXT, Exporter.VISION, Exporter.REGION)) {
                opened.add(open(graph, settings, cuda));
            }
            return new Sessions(cuda ? "cuda" : "cpu", opened.get(0), opened.get(1), opened.get(2));
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            for (OrtSession session : opened) {
                session.close();
            }
            throw e;
        }
    }

    private static Timer inferenceTimer(MeterRegistry registry, String graph) {
        return Timer.builder("fgclip2.inference").description("ONNX Runtime run time per batch").tag("graph", graph).register(registry);
    }

    @Override
    public String providerFallback() {
        return providerFallback;
    }

    @Override
    public String provider() {
        return provider;
    }

    @Override
    public ModelFiles model() {
        return model;
    }

    /** The CPU session settings: full graph optimisation, sequential execution, the configured thread count. */
    public static OrtSession.SessionOptions cpuSessionOptions(EngineSettings settings) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setInterOpNumThreads(1);
        if (settings.intraOpThreads() > 0) {
            options.setIntraOpNumThreads(settings.intraOpThreads());
        }
        return options;
    }

    private OrtSession open(String graph, EngineSettings settings, boolean cuda) throws OrtException {
        try (OrtSession.SessionOptions options = cpuSessionOptions(settings)) {
            if (cuda) {
                options.addCUDA(settings.cudaDevice());
            }
            return GraphSessions.open(environment, model.directory(), model.manifest(), graph, options);
        }
    }

    @Override
    public float[][] text(List<long[]> ids, TextHead head) {
        int length = ids.get(0).length;
        try (RunBuffers buffers = new RunBuffers()) {
            LongBuffer input = buffers.longs((long) ids.size() * length);
            ids.forEach(input::put);
            input.flip();
            try (OnnxTensor tensor = OnnxTensor.createTensor(environment, input, new long[] {ids.size(), length});
                 OrtSession.Result result = timed(textTimer, () -> text.run(Map.of(TextGraph.INPUT_IDS, tensor), Set.of(output(head))))) {
                return rows(((OnnxTensor) result.get(0)).getFloatBuffer(), ids.size());
            }
        } catch (OrtException e) {
            throw new EngineException("the text graph failed: " + e.getMessage(), e);
        }
    }

    private static String output(TextHead head) {
        return switch (head) {
            case SHORT -> TextGraph.SHORT_EMBEDS;
            case BOX -> TextGraph.BOX_EMBEDS;
            case LONG -> TextGraph.LONG_EMBEDS;
        };
    }

    @Override
    public List<ImageFeatures> images(List<? extends PatchSource> images, boolean withHiddenState) {
        int batch = images.size();
        int maxPatches = images.stream().mapToInt(PatchSource::patchCount).max().orElseThrow();
        Set<String> outputs = withHiddenState ? Set.of(VisionGraph.IMAGE_EMBEDS, VisionGraph.LAST_HIDDEN_STATE) : Set.of(VisionGraph.IMAGE_EMBEDS);
        try (RunBuffers buffers = new RunBuffers()) {
            FloatBuffer pixels = buffers.floats((long) batch * maxPatches * patchValues);
            IntBuffer mask = buffers.ints((long) batch * maxPatches);
            LongBuffer shapes = buffers.longs(2L * batch);
            for (int b = 0; b < batch; b++) {
                PatchSource image = images.get(b);
                pixels.position(b * maxPatches * patchValues);
                image.writePatches(pixels.slice());
                for (int p = 0; p < maxPatches; p++) {
                    mask.put(b * maxPatches + p, p < image.patchCount() ? 1 : 0);
                }
                shapes.put(2 * b, image.gridRows()).put(2 * b + 1, image.gridCols());
            }
            pixels.rewind();
            try (OnnxTensor pixelTensor = OnnxTensor.createTensor(environment, pixels, new long[] {batch, maxPatches, patchValues});
                 OnnxTensor maskTensor = OnnxTensor.createTensor(environment, mask, new long[] {batch, maxPatches});
                 OnnxTensor shapeTensor = OnnxTensor.createTensor(environment, shapes, new long[] {batch, 2});
                 OrtSession.Result result = timed(visionTimer, () -> vision.run(Map.of(VisionGraph.PIXEL_VALUES, pixelTensor,
                         VisionGraph.PIXEL_ATTENTION_MASK, maskTensor, VisionGraph.SPATIAL_SHAPES, shapeTensor), outputs))) {
                float[][] embeddings = rows(((OnnxTensor) result.get(VisionGraph.IMAGE_EMBEDS).get()).getFloatBuffer(), batch);
                FloatBuffer hiddenStates = withHiddenState ? ((OnnxTensor) result.get(VisionGraph.LAST_HIDDEN_STATE).get()).getFloatBuffer() : null;
                List<ImageFeatures> features = new ArrayList<>(batch);
                for (int b = 0; b < batch; b++) {
                    float[] hiddenState = null;
                    if (hiddenStates != null) {
                        hiddenState = new float[images.get(b).patchCount() * hidden];
                        hiddenStates.position(b * maxPatches * hidden);
                        hiddenStates.get(hiddenState);
                    }
                    features.add(new ImageFeatures(embeddings[b], hiddenState));
                }
                return features;
            }
        } catch (OrtException e) {
            throw new EngineException("the vision graph failed: " + e.getMessage(), e);
        }
    }

    @Override
    public RegionFeatures regions(RegionQuery query) {
        float[][] boxes = query.boxes();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try (RunBuffers buffers = new RunBuffers()) {
            FloatBuffer boxBuffer = buffers.floats(4L * boxes.length);
            for (float[] box : boxes) {
                boxBuffer.put(box);
            }
            FloatBuffer hiddenBuffer = buffers.floats(query.hiddenState().length).put(query.hiddenState());
            LongBuffer grid = buffers.longs(2).put(query.gridRows()).put(query.gridCols());
            FloatBuffer size = buffers.floats(2).put(query.imageHeight()).put(query.imageWidth());
            try {
                inputs.put(RegionGraph.HIDDEN_STATE, OnnxTensor.createTensor(environment, hiddenBuffer.flip(),
                        new long[] {(long) query.gridRows() * query.gridCols(), hidden}));
                inputs.put(RegionGraph.SPATIAL_SHAPE, OnnxTensor.createTensor(environment, grid.flip(), new long[] {2}));
                inputs.put(RegionGraph.IMAGE_SIZE, OnnxTensor.createTensor(environment, size.flip(), new long[] {2}));
                inputs.put(RegionGraph.BOXES, OnnxTensor.createTensor(environment, boxBuffer.flip(), new long[] {boxes.length, 4}));
                try (OrtSession.Result result = timed(regionTimer, () -> region.run(inputs))) {
                    FloatBuffer dense = ((OnnxTensor) result.get(RegionGraph.DENSE).get()).getFloatBuffer();
                    float[] denseMap = new float[dense.remaining()];
                    dense.get(denseMap);
                    return new RegionFeatures(denseMap, rows(((OnnxTensor) result.get(RegionGraph.REGION_EMBEDS).get()).getFloatBuffer(), boxes.length));
                }
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        } catch (OrtException e) {
            throw new EngineException("the region graph failed: " + e.getMessage(), e);
        }
    }

    @Override
    public float[] logSoftmaxProduct(float[] a, float[] b, int rows, int inner, int cols, float scale) {
        try (RunBuffers buffers = new RunBuffers();
             OnnxTensor left = OnnxTensor.createTensor(environment, buffers.floats(a.length).put(a).flip(), new long[] {rows, inner});
             OnnxTensor right = OnnxTensor.createTensor(environment, buffers.floats(b.length).put(b).flip(), new long[] {inner, cols});
             OnnxTensor scaleTensor = OnnxTensor.createTensor(environment, scale);
             OrtSession.Result result = timed(productTimer, () -> product.run(Map.of("a", left, "b", right, "scale", scaleTensor)))) {
            float[] out = new float[rows * cols];
            ((OnnxTensor) result.get(0)).getFloatBuffer().get(out);
            return out;
        } catch (OrtException e) {
            throw new EngineException("the product graph failed: " + e.getMessage(), e);
        }
    }

    private interface Run {
        OrtSession.Result run() throws OrtException;
    }

    private static OrtSession.Result timed(Timer timer, Run run) throws OrtException {
        long start = System.nanoTime();
        try {
            return run.run();
        } finally {
            timer.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    private static float[][] rows(FloatBuffer buffer, int count) {
        int width = buffer.remaining() / Math.max(count, 1);
        float[][] out = new float[count][width];
        for (float[] row : out) {
            buffer.get(row);
        }
        return out;
    }

    @Override
    public void close() {
        try {
            text.close();
            vision.close();
            region.close();
            if (product != null) {
                product.close();
            }
        } catch (OrtException e) {
            throw new EngineException("closing the sessions failed: " + e.getMessage(), e);
        }
    }
}
