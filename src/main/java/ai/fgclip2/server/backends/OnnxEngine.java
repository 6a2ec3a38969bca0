package ai.fgclip2.server.backends;

import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.GraphSessions;
import ai.fgclip2.exporter.graph.RegionGraph;
import ai.fgclip2.exporter.graph.TextGraph;
import ai.fgclip2.exporter.graph.VisionGraph;
import ai.fgclip2.server.config.Fgclip2Properties;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * The three exported graphs in ONNX Runtime sessions. Inputs are built in direct buffers (ORT reads them
 * without a host-side copy); {@code OrtSession.run} is thread-safe, so one engine serves all batchers.
 */
public final class OnnxEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OnnxEngine.class);

    /** Which text head to read: the walk decides it (fgclip2-inference.md section 4). */
    public enum TextHead {
        SHORT(TextGraph.SHORT_EMBEDS), BOX(TextGraph.BOX_EMBEDS), LONG(TextGraph.LONG_EMBEDS);

        private final String output;

        TextHead(String output) {
            this.output = output;
        }
    }

    /** One preprocessed image: its grid and a writer of its rows*cols patches (768 floats each) into a tensor. */
    public interface PatchSource {
        int gridRows();

        int gridCols();

        void writePatches(FloatBuffer target);

        default int patchCount() {
            return gridRows() * gridCols();
        }
    }

    /** @param hiddenState the image's rows*cols tokens x D after post_layernorm, or null when not requested */
    public record ImageFeatures(float[] embedding, float[] hiddenState) {
    }

    /** @param dense rows*cols x D dense map; regions one raw D-vector per box */
    public record RegionFeatures(float[] dense, float[][] regions) {
    }

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final ModelFiles model;
    private final String provider;
    private final String providerFallback;
    private final OrtSession text;
    private final OrtSession vision;
    private final OrtSession region;
    private final int hidden;
    private final int patchValues;
    private final Timer textTimer;
    private final Timer visionTimer;
    private final Timer regionTimer;

    public OnnxEngine(ModelFiles model, Fgclip2Properties.Engine settings, MeterRegistry registry) throws OrtException {
        this.model = model;
        this.textTimer = inferenceTimer(registry, Exporter.TEXT);
        this.visionTimer = inferenceTimer(registry, Exporter.VISION);
        this.regionTimer = inferenceTimer(registry, Exporter.REGION);
        this.hidden = model.manifest().dimensions().hiddenSize();
        var pre = model.manifest().preprocessing();
        this.patchValues = pre.patchSize() * pre.patchSize() * pre.channels();
        Sessions sessions;
        String fallback = null;
        if (settings.provider() == Fgclip2Properties.Provider.CPU) {
            sessions = openAll(settings, false);
        } else {
            try {
                // Session creation, not only addCUDA, must succeed: the GPU jar names CUDA even on hosts without a GPU.
                sessions = openAll(settings, true);
                log.info("ONNX Runtime provider: CUDA (device {})", settings.cudaDevice());
            } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
                if (settings.provider() == Fgclip2Properties.Provider.CUDA) {
                    throw new OrtException("fgclip2.engine.provider=cuda but CUDA is not available: " + e.getMessage());
                }
                fallback = "CUDA not available, running on CPU: " + e.getMessage();
                log.warn("ONNX Runtime provider: CPU ({})", fallback);
                sessions = openAll(settings, false);
            }
        }
        this.providerFallback = fallback;
        this.provider = sessions.provider();
        this.text = sessions.text();
        this.vision = sessions.vision();
        this.region = sessions.region();
    }

    private record Sessions(String provider, OrtSession text, OrtSession vision, OrtSession region) {
    }

    /** The three graphs on one provider; on failure none stays open. */
    private Sessions openAll(Fgclip2Properties.Engine settings, boolean cuda) throws OrtException {
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

    /** Why CUDA was not used although the provider was auto, or null. */
    public String providerFallback() {
        return providerFallback;
    }

    /** "cuda" or "cpu": what the sessions actually run on. */
    public String provider() {
        return provider;
    }

    public ModelFiles model() {
        return model;
    }

    /** The CPU session settings: full graph optimisation, sequential execution, the configured thread count. */
    public static OrtSession.SessionOptions cpuSessionOptions(Fgclip2Properties.Engine settings) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setInterOpNumThreads(1);
        if (settings.intraOpThreads() > 0) {
            options.setIntraOpNumThreads(settings.intraOpThreads());
        }
        return options;
    }

    private OrtSession open(String graph, Fgclip2Properties.Engine settings, boolean cuda) throws OrtException {
        try (OrtSession.SessionOptions options = cpuSessionOptions(settings)) {
            if (cuda) {
                options.addCUDA(settings.cudaDevice());
            }
            return GraphSessions.open(environment, model.directory(), model.manifest(), graph, options);
        }
    }

    /** Raw embeddings of equally long token rows (64 or 196 ids each). */
    public float[][] text(List<long[]> ids, TextHead head) throws OrtException {
        int length = ids.get(0).length;
        LongBuffer input = directLongs(ids.size() * length);
        for (long[] row : ids) {
            input.put(row);
        }
        input.flip();
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, input, new long[] {ids.size(), length});
             OrtSession.Result result = timed(textTimer, () -> text.run(Map.of(TextGraph.INPUT_IDS, tensor), Set.of(head.output)))) {
            return rows(((OnnxTensor) result.get(0)).getFloatBuffer(), ids.size());
        }
    }

    /** One padded batch of images with mixed grids; hidden states only when asked for (they are large). */
    public List<ImageFeatures> images(List<? extends PatchSource> images, boolean withHiddenState) throws OrtException {
        int batch = images.size();
        int maxPatches = images.stream().mapToInt(PatchSource::patchCount).max().orElseThrow();
        FloatBuffer pixels = directFloats(batch * maxPatches * patchValues);
        IntBuffer mask = ByteBuffer.allocateDirect(4 * batch * maxPatches).order(ByteOrder.nativeOrder()).asIntBuffer();
        LongBuffer shapes = directLongs(2 * batch);
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
        Set<String> outputs = withHiddenState ? Set.of(VisionGraph.IMAGE_EMBEDS, VisionGraph.LAST_HIDDEN_STATE) : Set.of(VisionGraph.IMAGE_EMBEDS);
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
    }

    /** Dense map and RoIAlign features of one image; boxes are x1,y1,x2,y2 in original pixels. */
    public RegionFeatures regions(float[] hiddenState, int gridRows, int gridCols, int height, int width, float[][] boxes) throws OrtException {
        FloatBuffer boxBuffer = directFloats(4 * boxes.length);
        for (float[] box : boxes) {
            boxBuffer.put(box);
        }
        boxBuffer.flip();
        FloatBuffer hiddenBuffer = directFloats(hiddenState.length).put(hiddenState).flip();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put(RegionGraph.HIDDEN_STATE, OnnxTensor.createTensor(environment, hiddenBuffer, new long[] {(long) gridRows * gridCols, hidden}));
            inputs.put(RegionGraph.SPATIAL_SHAPE, OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[] {gridRows, gridCols}), new long[] {2}));
            inputs.put(RegionGraph.IMAGE_SIZE, OnnxTensor.createTensor(environment, FloatBuffer.wrap(new float[] {height, width}), new long[] {2}));
            inputs.put(RegionGraph.BOXES, OnnxTensor.createTensor(environment, boxBuffer, new long[] {boxes.length, 4}));
            try (OrtSession.Result result = timed(regionTimer, () -> region.run(inputs))) {
                FloatBuffer dense = ((OnnxTensor) result.get(RegionGraph.DENSE).get()).getFloatBuffer();
                float[] denseMap = new float[dense.remaining()];
                dense.get(denseMap);
                return new RegionFeatures(denseMap, rows(((OnnxTensor) result.get(RegionGraph.REGION_EMBEDS).get()).getFloatBuffer(), boxes.length));
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
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

    public int hiddenSize() {
        return hidden;
    }

    private static float[][] rows(FloatBuffer buffer, int count) {
        int width = buffer.remaining() / Math.max(count, 1);
        float[][] out = new float[count][width];
        for (float[] row : out) {
            buffer.get(row);
        }
        return out;
    }

    private static FloatBuffer directFloats(int count) {
        return ByteBuffer.allocateDirect(4 * count).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static LongBuffer directLongs(int count) {
        return ByteBuffer.allocateDirect(8 * count).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    @Override
    public void close() throws OrtException {
        text.close();
        vision.close();
        region.close();
    }
}
