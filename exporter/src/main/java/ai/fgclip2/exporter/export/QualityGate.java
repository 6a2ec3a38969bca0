package ai.fgclip2.exporter.export;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.DType;
import ai.fgclip2.exporter.checkpoint.ModelConfig;
import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import ai.fgclip2.exporter.checkpoint.SafetensorsWriter;
import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSpec;
import ai.fgclip2.exporter.graph.RegionGraph;
import ai.fgclip2.exporter.graph.TextGraph;
import ai.fgclip2.exporter.graph.VisionGraph;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * The int8 quality gate. Random weights flatter quantization and trained encoders have outlier channels that
 * dynamic activation quantization handles badly, so an int8 export carries its own evidence: at export, the
 * float32 graphs' outputs on a few deterministic canonical inputs (short/box and long token sequences,
 * synthetic images of several grids with a few boxes each) are stored with those inputs in
 * {@value #FILE}, which the manifest names ({@link Manifest.Int8#qualityGate()}). At start, a service calls
 *
 * <pre>{@code
 * QualityGate.Report report = QualityGate.check(exportDirectory, manifest, textSession, visionSession, regionSession);
 * log.info("int8 agreement: {}", report.summary());
 * if (!report.passes(minCosine, minCentredCosine)) { refuse to start }
 * }</pre>
 *
 * with the sessions it serves from; {@link #check(Path)} opens its own CPU sessions instead. Plain Java and
 * ONNX Runtime, no Spring.
 */
public final class QualityGate {
    public static final String FILE = "quality_gate.safetensors";
    /** The outputs compared, in report order. */
    public static final List<String> OUTPUTS = List.of(TextGraph.SHORT_EMBEDS, TextGraph.BOX_EMBEDS, TextGraph.LONG_EMBEDS,
            VisionGraph.IMAGE_EMBEDS, RegionGraph.REGION_EMBEDS);

    private static final long SEED = 20251013L;
    /** Content tokens per canonical text, before EOS: short and long walks, several lengths each. */
    private static final int[] SHORT_TEXT_TOKENS = {2, 5, 9, 14, 22, 35, 48, 62};
    private static final int[] LONG_TEXT_TOKENS = {70, 110, 150, 194};
    /** Image grids (rows, cols): the learned 16x16 grid, down- and up-sampled position embeddings, both aspects. */
    private static final int[][] GRIDS = {{16, 16}, {9, 14}, {20, 30}, {24, 10}, {12, 12}};

    private QualityGate() {
    }

    /**
     * Agreement of one output over the canonical inputs, candidate (int8) against the stored float32 reference.
     *
     * @param cases              vectors compared (texts, images or boxes)
     * @param minCosine          lowest cosine between candidate and reference
     * @param minCentredCosine   lowest cosine after subtracting, from each side, the mean of its L2-normalised
     *                           vectors over the canonical set: what is left once the component that every
     *                           input shares is removed, which a plain cosine over random weights hides
     * @param maxRelativeL2Error highest |candidate - reference| / |reference| on the raw vectors
     */
    public record Agreement(String output, int cases, double minCosine, double minCentredCosine, double maxRelativeL2Error) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s: cosine >= %.5f, centred >= %.5f, rel. L2 <= %.4f (%d cases)",
                    output, minCosine, minCentredCosine, maxRelativeL2Error, cases);
        }
    }

    /** One {@link Agreement} per output of {@link #OUTPUTS}, and the worst figures over all of them. */
    public record Report(List<Agreement> outputs) {
        public double minCosine() {
            return outputs.stream().mapToDouble(Agreement::minCosine).min().orElseThrow();
        }

        public double minCentredCosine() {
            return outputs.stream().mapToDouble(Agreement::minCentredCosine).min().orElseThrow();
        }

        public double maxRelativeL2Error() {
            return outputs.stream().mapToDouble(Agreement::maxRelativeL2Error).max().orElseThrow();
        }

        /** True when every output reaches both thresholds. */
        public boolean passes(double minCosine, double minCentredCosine) {
            return minCosine() >= minCosine && minCentredCosine() >= minCentredCosine;
        }

        public Agreement output(String name) {
            return outputs.stream().filter(a -> a.output().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no output " + name));
        }

        /** One line for a log: every output's figures. */
        public String summary() {
            return outputs.stream().map(Agreement::toString).collect(Collectors.joining("; "));
        }
    }

    /** Runs the export's canonical inputs through its own graphs, opened here on the CPU. */
    public static Report check(Path exportDirectory) throws OrtException {
        Manifest manifest = Manifest.read(exportDirectory);
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions textOptions = new OrtSession.SessionOptions();
             OrtSession.SessionOptions visionOptions = new OrtSession.SessionOptions();
             OrtSession.SessionOptions regionOptions = new OrtSession.SessionOptions();
             OrtSession text = GraphSessions.open(environment, exportDirectory, manifest, Exporter.TEXT, textOptions);
             OrtSession vision = GraphSessions.open(environment, exportDirectory, manifest, Exporter.VISION, visionOptions);
             OrtSession region = GraphSessions.open(environment, exportDirectory, manifest, Exporter.REGION, regionOptions)) {
            return check(exportDirectory, manifest, text, vision, region);
        }
    }

    /**
     * Runs the canonical inputs stored with an int8 export through the given sessions of that export and compares
     * the outputs with the float32 references stored beside them.
     *
     * @throws IllegalArgumentException when the manifest has no quality gate (not an int8 export)
     */
    public static Report check(Path exportDirectory, Manifest manifest, OrtSession text, OrtSession vision, OrtSession region) throws OrtException {
        if (manifest.int8() == null || manifest.int8().qualityGate() == null) {
            throw new IllegalArgumentException(exportDirectory + ": precision " + manifest.precision() + " export has no quality gate");
        }
        Manifest.QualityGateFile file = manifest.int8().qualityGate();
        SafetensorsFile stored = SafetensorsFile.open(exportDirectory.resolve(file.file()));
        Inputs inputs = Inputs.read(stored, file);
        Map<String, List<float[]>> candidate = run(inputs, text, vision, region);
        List<Agreement> agreements = new ArrayList<>();
        for (String output : OUTPUTS) {
            agreements.add(agreement(output, candidate.get(output), references(stored, file, output, candidate.get(output))));
        }
        return new Report(agreements);
    }

    /** Computes the references with the float32 graphs and writes {@value #FILE} into {@code output}. */
    static Manifest.QualityGateFile writeReferences(Checkpoint checkpoint, Path output, Map<String, byte[]> float32Graphs) {
        Inputs inputs = Inputs.canonical(checkpoint.config());
        Map<String, List<float[]>> references;
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions textOptions = new OrtSession.SessionOptions();
             OrtSession.SessionOptions visionOptions = new OrtSession.SessionOptions();
             OrtSession.SessionOptions regionOptions = new OrtSession.SessionOptions();
             OrtSession text = GraphSessions.open(environment, float32Graphs.get(Exporter.TEXT), checkpoint.directory(), textOptions);
             OrtSession vision = GraphSessions.open(environment, float32Graphs.get(Exporter.VISION), checkpoint.directory(), visionOptions);
             OrtSession region = GraphSessions.open(environment, float32Graphs.get(Exporter.REGION), checkpoint.directory(), regionOptions)) {
            references = run(inputs, text, vision, region);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot compute the float32 references of the quality gate", e);
        }
        Map<String, Stored> tensors = new LinkedHashMap<>();
        tensors.put("short.input_ids", Stored.longs(concat(inputs.shortIds()), inputs.shortIds().length, inputs.shortIds()[0].length));
        tensors.put("long.input_ids", Stored.longs(concat(inputs.longIds()), inputs.longIds().length, inputs.longIds()[0].length));
        for (int i = 0; i < inputs.images().size(); i++) {
            Image image = inputs.images().get(i);
            tensors.put("image" + i + ".pixel_values", Stored.floats(image.pixels(), (long) image.rows() * image.cols(), image.pixels().length / (image.rows() * image.cols())));
            tensors.put("image" + i + ".spatial_shape", Stored.longs(new long[] {image.rows(), image.cols()}, 2));
            tensors.put("image" + i + ".image_size", Stored.floats(image.size(), 2));
            tensors.put("image" + i + ".boxes", Stored.floats(image.boxes(), image.boxes().length / 4, 4));
        }
        for (String name : OUTPUTS) {
            List<float[]> vectors = references.get(name);
            tensors.put("reference." + name, Stored.floats(concat(vectors), vectors.size(), vectors.get(0).length));
        }
        SafetensorsWriter.write(output.resolve(FILE), tensors.entrySet().stream().map(e -> new TensorSpec(e.getKey(), e.getValue().dtype(), e.getValue().shape())).toList(),
                (spec, sink) -> sink.putBytes(tensors.get(spec.name()).bytes()));
        return new Manifest.QualityGateFile(FILE, inputs.shortIds().length, inputs.longIds().length, inputs.images().size());
    }

    private static List<float[]> references(SafetensorsFile stored, Manifest.QualityGateFile file, String output, List<float[]> candidate) {
        float[] flat = stored.floats("reference." + output);
        int width = flat.length / candidate.size();
        if (width * candidate.size() != flat.length || width != candidate.get(0).length) {
            throw new IllegalStateException(file.file() + ": reference." + output + " does not match the graphs' output width " + candidate.get(0).length);
        }
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < candidate.size(); i++) {
            rows.add(Arrays.copyOfRange(flat, i * width, (i + 1) * width));
        }
        return rows;
    }

    static Agreement agreement(String output, List<float[]> candidate, List<float[]> reference) {
        double[] candidateMean = meanOfUnits(candidate);
        double[] referenceMean = meanOfUnits(reference);
        double minCosine = 1;
        double minCentred = 1;
        double maxError = 0;
        for (int i = 0; i < candidate.size(); i++) {
            float[] c = candidate.get(i);
            float[] r = reference.get(i);
            minCosine = Math.min(minCosine, cosine(toDoubles(c, null), toDoubles(r, null)));
            minCentred = Math.min(minCentred, cosine(toDoubles(c, candidateMean), toDoubles(r, referenceMean)));
            double difference = 0;
            double norm = 0;
            for (int j = 0; j < r.length; j++) {
                difference += ((double) c[j] - r[j]) * ((double) c[j] - r[j]);
                norm += (double) r[j] * r[j];
            }
            maxError = Math.max(maxError, Math.sqrt(difference / norm));
        }
        return new Agreement(output, candidate.size(), minCosine, minCentred, maxError);
    }

    /** The mean of the L2-normalised vectors. */
    private static double[] meanOfUnits(List<float[]> vectors) {
        double[] mean = new double[vectors.get(0).length];
        for (float[] v : vectors) {
            double[] unit = toDoubles(v, null);
            double norm = Math.sqrt(dot(unit, unit));
            for (int j = 0; j < mean.length; j++) {
                mean[j] += unit[j] / norm / vectors.size();
            }
        }
        return mean;
    }

    /** The vector L2-normalised, minus {@code mean} when given. */
    private static double[] toDoubles(float[] v, double[] mean) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        norm = Math.sqrt(norm);
        double[] out = new double[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = v[j] / norm - (mean == null ? 0 : mean[j]);
        }
        return out;
    }

    private static double cosine(double[] a, double[] b) {
        return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** Every output of {@link #OUTPUTS} as one vector per case: per text, per image, per box. */
    static Map<String, List<float[]>> run(Inputs inputs, OrtSession text, OrtSession vision, OrtSession region) throws OrtException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        Map<String, List<float[]>> out = new LinkedHashMap<>();
        Map<String, float[][]> shortWalk = runText(environment, text, inputs.shortIds(), TextGraph.SHORT_EMBEDS, TextGraph.BOX_EMBEDS);
        out.put(TextGraph.SHORT_EMBEDS, List.of(shortWalk.get(TextGraph.SHORT_EMBEDS)));
        out.put(TextGraph.BOX_EMBEDS, List.of(shortWalk.get(TextGraph.BOX_EMBEDS)));
        out.put(TextGraph.LONG_EMBEDS, List.of(runText(environment, text, inputs.longIds(), TextGraph.LONG_EMBEDS).get(TextGraph.LONG_EMBEDS)));
        List<float[]> images = new ArrayList<>();
        List<float[]> regions = new ArrayList<>();
        for (Image image : inputs.images()) {
            int patches = image.rows() * image.cols();
            int patchValues = image.pixels().length / patches;
            int[] mask = new int[patches];
            Arrays.fill(mask, 1);
            float[] lastHiddenState;
            try (OnnxTensor pixels = OnnxTensor.createTensor(environment, FloatBuffer.wrap(image.pixels()), new long[] {1, patches, patchValues});
                 OnnxTensor maskTensor = OnnxTensor.createTensor(environment, IntBuffer.wrap(mask), new long[] {1, patches});
                 OnnxTensor shape = OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[] {image.rows(), image.cols()}), new long[] {1, 2});
                 OrtSession.Result result = vision.run(Map.of(VisionGraph.PIXEL_VALUES, pixels, VisionGraph.PIXEL_ATTENTION_MASK, maskTensor,
                         VisionGraph.SPATIAL_SHAPES, shape))) {
                images.add(floats(result, VisionGraph.IMAGE_EMBEDS));
                lastHiddenState = floats(result, VisionGraph.LAST_HIDDEN_STATE);
            }
            int hidden = lastHiddenState.length / patches;
            try (OnnxTensor hiddenState = OnnxTensor.createTensor(environment, FloatBuffer.wrap(lastHiddenState), new long[] {patches, hidden});
                 OnnxTensor shape = OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[] {image.rows(), image.cols()}), new long[] {2});
                 OnnxTensor size = OnnxTensor.createTensor(environment, FloatBuffer.wrap(image.size()), new long[] {2});
                 OnnxTensor boxes = OnnxTensor.createTensor(environment, FloatBuffer.wrap(image.boxes()), new long[] {image.boxes().length / 4, 4});
                 OrtSession.Result result = region.run(Map.of(RegionGraph.HIDDEN_STATE, hiddenState, RegionGraph.SPATIAL_SHAPE, shape,
                         RegionGraph.IMAGE_SIZE, size, RegionGraph.BOXES, boxes), java.util.Set.of(RegionGraph.REGION_EMBEDS))) {
                regions.addAll(List.of(rows(floats(result, RegionGraph.REGION_EMBEDS), image.boxes().length / 4)));
            }
        }
        out.put(VisionGraph.IMAGE_EMBEDS, images);
        out.put(RegionGraph.REGION_EMBEDS, regions);
        return out;
    }

    private static Map<String, float[][]> runText(OrtEnvironment environment, OrtSession text, long[][] ids, String... outputs) throws OrtException {
        Map<String, float[][]> out = new LinkedHashMap<>();
        try (OnnxTensor input = OnnxTensor.createTensor(environment, LongBuffer.wrap(concat(ids)), new long[] {ids.length, ids[0].length});
             OrtSession.Result result = text.run(Map.of(TextGraph.INPUT_IDS, input), java.util.Set.of(outputs))) {
            for (String output : outputs) {
                out.put(output, rows(floats(result, output), ids.length));
            }
        }
        return out;
    }

    private static float[] floats(OrtSession.Result result, String name) {
        FloatBuffer buffer = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static float[][] rows(float[] flat, int count) {
        int width = flat.length / count;
        float[][] out = new float[count][];
        for (int i = 0; i < count; i++) {
            out[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return out;
    }

    private static long[] concat(long[][] rows) {
        return Arrays.stream(rows).flatMapToLong(Arrays::stream).toArray();
    }

    private static float[] concat(List<float[]> rows) {
        float[] out = new float[rows.stream().mapToInt(r -> r.length).sum()];
        int at = 0;
        for (float[] row : rows) {
            System.arraycopy(row, 0, out, at, row.length);
            at += row.length;
        }
        return out;
    }

    /** One synthetic image: patchified pixels of a rows x cols grid, its size in pixels (height, width) and boxes. */
    record Image(int rows, int cols, float[] pixels, float[] size, float[] boxes) {
    }

    /** The canonical inputs: padded token sequences of the short and long walks, and images. */
    record Inputs(long[][] shortIds, long[][] longIds, List<Image> images) {

        static Inputs canonical(ModelConfig config) {
            return generate(SEED, config, SHORT_TEXT_TOKENS, LONG_TEXT_TOKENS, GRIDS);
        }

        /** Texts of the given content-token counts and images of the given (rows, cols) grids, from {@code seed}. */
        static Inputs generate(long seed, ModelConfig config, int[] shortTextTokens, int[] longTextTokens, int[][] grids) {
            SplittableRandom random = new SplittableRandom(seed);
            long[][] shortIds = new long[shortTextTokens.length][];
            for (int i = 0; i < shortIds.length; i++) {
                shortIds[i] = tokens(random, shortTextTokens[i], config.shortTextLength(), config.vocabSize());
            }
            long[][] longIds = new long[longTextTokens.length][];
            for (int i = 0; i < longIds.length; i++) {
                longIds[i] = tokens(random, longTextTokens[i], config.longTextLength(), config.vocabSize());
            }
            List<Image> images = new ArrayList<>();
            for (int[] grid : grids) {
                images.add(image(random, grid[0], grid[1], config.patchSize(), config.numChannels()));
            }
            return new Inputs(shortIds, longIds, images);
        }

        static Inputs read(SafetensorsFile stored, Manifest.QualityGateFile file) {
            long[][] shortIds = rows(stored.longs("short.input_ids"), file.shortTexts());
            long[][] longIds = rows(stored.longs("long.input_ids"), file.longTexts());
            List<Image> images = new ArrayList<>();
            for (int i = 0; i < file.images(); i++) {
                long[] grid = stored.longs("image" + i + ".spatial_shape");
                images.add(new Image((int) grid[0], (int) grid[1], stored.floats("image" + i + ".pixel_values"),
                        stored.floats("image" + i + ".image_size"), stored.floats("image" + i + ".boxes")));
            }
            return new Inputs(shortIds, longIds, images);
        }

        /** Random content tokens (ids 2 and up: 0 is pad, 1 is EOS), then EOS, then pads to {@code length}. */
        private static long[] tokens(SplittableRandom random, int count, int length, int vocabSize) {
            long[] ids = new long[length];
            int content = Math.min(count, length - 1);
            for (int p = 0; p < content; p++) {
                ids[p] = random.nextInt(2, vocabSize);
            }
            ids[content] = 1;
            return ids;
        }

        /**
         * A smooth colour pattern (two plane waves per channel) plus pixel noise, on the uint8 grid of a real
         * decoded image and normalised as the preprocessor does; three boxes of different sizes and places.
         */
        private static Image image(SplittableRandom random, int rows, int cols, int patchSize, int channels) {
            int height = rows * patchSize;
            int width = cols * patchSize;
            double[] frequency = {1 + 3 * random.nextDouble(), 1 + 3 * random.nextDouble(), 4 + 8 * random.nextDouble(), 4 + 8 * random.nextDouble()};
            float[] pixels = new float[height * width * channels];
            int patchValues = patchSize * patchSize * channels;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int patch = (y / patchSize) * cols + x / patchSize;
                    for (int c = 0; c < channels; c++) {
                        double u = (double) x / width;
                        double v = (double) y / height;
                        double value = 0.55 * Math.sin(2 * Math.PI * (frequency[0] * u + frequency[1] * v) + 2.1 * c)
                                + 0.25 * Math.cos(2 * Math.PI * (frequency[2] * u * v + frequency[3] * v) + c)
                                + 0.15 * random.nextGaussian();
                        long level = Math.max(0, Math.min(255, Math.round((value + 1) / 2 * 255)));
                        pixels[patch * patchValues + ((y % patchSize) * patchSize + x % patchSize) * channels + c] = (float) ((level / 255.0 - 0.5) / 0.5);
                    }
                }
            }
            float w = width;
            float h = height;
            float[] boxes = {0, 0, w / 2, h / 2, w / 4, h / 3, w, h, w / 3, 0, 2 * w / 3, h};
            return new Image(rows, cols, pixels, new float[] {h, w}, boxes);
        }

        private static long[][] rows(long[] flat, int count) {
            int width = flat.length / count;
            long[][] out = new long[count][];
            for (int i = 0; i < count; i++) {
                out[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
            }
            return out;
        }
    }

    /** A tensor to write: dtype, shape and little-endian bytes. */
    private record Stored(DType dtype, long[] shape, ByteBuffer bytes) {
        static Stored floats(float[] values, long... shape) {
            ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
            return new Stored(DType.F32, shape, bytes);
        }

        static Stored longs(long[] values, long... shape) {
            ByteBuffer bytes = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asLongBuffer().put(values);
            return new Stored(DType.I64, shape, bytes);
        }
    }
}
