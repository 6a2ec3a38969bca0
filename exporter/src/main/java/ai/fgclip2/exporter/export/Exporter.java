package ai.fgclip2.exporter.export;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.CheckpointException;
import ai.fgclip2.exporter.checkpoint.ModelConfig;
import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import ai.fgclip2.exporter.graph.ElementType;
import ai.fgclip2.exporter.graph.FloatLayers;
import ai.fgclip2.exporter.graph.LinearPrecision;
import ai.fgclip2.exporter.graph.GraphBuilder;
import ai.fgclip2.exporter.graph.RegionGraph;
import ai.fgclip2.exporter.graph.TextGraph;
import ai.fgclip2.exporter.graph.VisionGraph;
import ai.fgclip2.exporter.graph.WeightStore;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Checkpoint directory -> text.onnx, vision.onnx, region.onnx, tokenizer.json and manifest.json (and, for int8,
 * quality_gate.safetensors). Float weights point into the checkpoint, or into {@code <graph>.onnx.data} when
 * self-contained; int8 weights and their scales are initializers inside each {@code .onnx} (about 85 MB per base
 * tower, well under protobuf's 2 GB), because ONNX Runtime resolves all external data against one folder and
 * refuses paths that leave it, so a data file beside the graph could not be combined with weights in the checkpoint.
 */
public final class Exporter {
    public static final String TEXT = "text";
    public static final String VISION = "vision";
    public static final String REGION = "region";
    public static final List<Integer> PATCH_BUDGETS = List.of(128, 256, 576, 784, 1024);

    public enum Precision {
        /** float32 throughout. */
        FP32(ElementType.FLOAT),
        /** float16 weights and activations; LayerNorm statistics, softmax and RoIAlign in float32. */
        FP16(ElementType.FLOAT16),
        /** float32 graphs whose encoder Linear layers are int8 (see {@link LinearPrecision}), with a quality gate. */
        INT8(ElementType.FLOAT);

        private final ElementType computeType;

        Precision(ElementType computeType) {
            this.computeType = computeType;
        }

        public String manifestName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * @param selfContained copy the float weights into {@code <graph>.onnx.data} instead of pointing into the checkpoint
     * @param floatLayers   with INT8: the encoder layers that stay float32 (must be empty otherwise)
     * @param smoothing     with INT8: migrate large LayerNorm gain channels into the int8 weights that read them
     *                      (exact in float; see {@link LinearPrecision#int8})
     */
    public record Options(Precision precision, boolean selfContained, FloatLayers floatLayers, boolean smoothing) {
        public Options {
            if (precision != Precision.INT8 && !floatLayers.isEmpty()) {
                throw new IllegalArgumentException("float layers (" + floatLayers.spec() + ") apply to int8 exports only, not " + precision.manifestName());
            }
        }

        public Options(Precision precision, boolean selfContained) {
            this(precision, selfContained, FloatLayers.NONE, true);
        }

        LinearPrecision linears() {
            return precision == Precision.INT8 ? LinearPrecision.int8(floatLayers, smoothing) : LinearPrecision.FLOAT;
        }
    }

    private Exporter() {
    }

    public static Manifest export(Path checkpointDirectory, Path outputDirectory, Options options) {
        Checkpoint checkpoint = Checkpoint.open(checkpointDirectory);
        return export(checkpoint, digest(checkpoint), outputDirectory, options);
    }

    /** The same for an opened checkpoint whose {@link #digest} the caller already has (hashing reads every byte). */
    public static Manifest export(Checkpoint checkpoint, String checkpointDigest, Path outputDirectory, Options options) {
        checkpoint.validate();
        if (!Files.isRegularFile(checkpoint.tokenizerFile())) {
            throw new CheckpointException(checkpoint.tokenizerFile() + ": missing tokenizer.json");
        }
        ModelConfig config = checkpoint.config();
        options.floatLayers().checkAgainst(Math.min(config.text().numLayers(), config.vision().numLayers()));
        try {
            Files.createDirectories(outputDirectory);
            Path output = outputDirectory.toRealPath();
            Map<String, Manifest.GraphFile> graphs = new LinkedHashMap<>();
            graphs.put(TEXT, writeGraph(checkpoint, output, TEXT, options, TextGraph::build));
            graphs.put(VISION, writeGraph(checkpoint, output, VISION, options, VisionGraph::build));
            graphs.put(REGION, writeGraph(checkpoint, output, REGION, options, RegionGraph::build));
            Files.copy(checkpoint.tokenizerFile(), output.resolve(Checkpoint.TOKENIZER), StandardCopyOption.REPLACE_EXISTING);

            Manifest.Int8 int8 = options.precision() == Precision.INT8
                    ? new Manifest.Int8(options.floatLayers().spec(), options.smoothing(), QualityGate.writeReferences(checkpoint, output, float32Graphs(checkpoint)))
                    : null;
            double logitScale = checkpoint.floats("logit_scale", 1)[0];
            double logitBias = checkpoint.floats("logit_bias", 1)[0];
            Manifest manifest = new Manifest(Manifest.FORMAT, ModelConfig.MODEL_TYPE, variant(config), options.precision().manifestName(),
                    new Manifest.Dimensions(config.hiddenSize(), config.projectionSize(), config.text().numLayers(), config.vision().numLayers(),
                            config.vision().numHeads(), config.vision().intermediateSize(), config.vocabSize()),
                    new Manifest.Scores(logitScale, Math.exp(logitScale), logitBias),
                    new Manifest.TextLengths(config.shortTextLength(), config.longTextLength(), config.keepLength(), 1, 0),
                    new Manifest.Preprocessing(config.patchSize(), config.numChannels(), config.positionGridSide(), 1.0 / 255,
                            List.of(0.5, 0.5, 0.5), List.of(0.5, 0.5, 0.5), "pillow-bilinear", PATCH_BUDGETS),
                    Checkpoint.TOKENIZER,
                    options.selfContained() ? new Manifest.Weights("self-contained", ".") : new Manifest.Weights("checkpoint", checkpoint.directory().toString()),
                    graphs,
                    new Manifest.Source(checkpoint.directory().toString(), checkpointDigest, "fgclip2-server exporter"),
                    int8);
            manifest.write(output);
            return manifest;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the export to " + outputDirectory, e);
        }
    }

    private static Manifest.GraphFile writeGraph(Checkpoint checkpoint, Path output, String name, Options options,
                                                 BiFunction<Checkpoint, GraphBuilder, GraphBuilder> definition) throws IOException {
        String file = name + ".onnx";
        ModelProto model;
        if (options.selfContained()) {
            Map<Path, SafetensorsFile> sources = new LinkedHashMap<>();
            checkpoint.files().forEach(f -> sources.put(f.path(), f));
            try (DataFileWeights store = new DataFileWeights(output.resolve(file + ".data"), sources)) {
                model = build(checkpoint, name, options, definition, store);
            }
        } else {
            model = build(checkpoint, name, options, definition, new CheckpointWeights(checkpoint.directory()));
        }
        try (OutputStream out = Files.newOutputStream(output.resolve(file))) {
            model.writeTo(out);
        }
        return new Manifest.GraphFile(file, ports(model.getGraph().getInputList()), ports(model.getGraph().getOutputList()));
    }

    private static ModelProto build(Checkpoint checkpoint, String name, Options options,
                                    BiFunction<Checkpoint, GraphBuilder, GraphBuilder> definition, WeightStore store) {
        GraphBuilder builder = new GraphBuilder("fgclip2_" + name, options.precision().computeType, store, options.linears());
        return definition.apply(checkpoint, builder).build("FG-CLIP 2 " + name + " graph, " + options.precision().manifestName());
    }

    /** The float32 graphs, in memory, with weights pointing into the checkpoint: the quality gate's reference. */
    private static Map<String, byte[]> float32Graphs(Checkpoint checkpoint) {
        Options float32 = new Options(Precision.FP32, false);
        WeightStore store = new CheckpointWeights(checkpoint.directory());
        return Map.of(TEXT, build(checkpoint, TEXT, float32, TextGraph::build, store).toByteArray(),
                VISION, build(checkpoint, VISION, float32, VisionGraph::build, store).toByteArray(),
                REGION, build(checkpoint, REGION, float32, RegionGraph::build, store).toByteArray());
    }

    private static List<Manifest.Port> ports(List<ValueInfoProto> values) {
        List<Manifest.Port> ports = new ArrayList<>();
        for (ValueInfoProto value : values) {
            TypeProto.Tensor tensor = value.getType().getTensorType();
            List<Object> shape = new ArrayList<>();
            for (TensorShapeProto.Dimension dim : tensor.getShape().getDimList()) {
                shape.add(dim.hasDimParam() ? dim.getDimParam() : (Object) dim.getDimValue());
            }
            String type = ai.onnx.proto.OnnxMl.TensorProto.DataType.forNumber(tensor.getElemType()).name().toLowerCase(java.util.Locale.ROOT);
            ports.add(new Manifest.Port(value.getName(), type, shape));
        }
        return ports;
    }

    static String variant(ModelConfig config) {
        int hidden = config.hiddenSize();
        int layers = config.vision().numLayers();
        if (hidden == 768 && layers == 12) {
            return "base";
        }
        if (hidden == 1024 && layers == 24) {
            return "large";
        }
        if (hidden == 1152 && layers == 27) {
            return "so400m";
        }
        return "custom-d" + hidden + "-l" + layers;
    }

    /** SHA-256 over config.json, tokenizer.json and every weight file, in that order. */
    public static String digest(Checkpoint checkpoint) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Path> files = new ArrayList<>(List.of(checkpoint.directory().resolve(Checkpoint.CONFIG), checkpoint.tokenizerFile()));
            checkpoint.files().forEach(f -> files.add(f.path()));
            byte[] buffer = new byte[1 << 20];
            for (Path file : files) {
                try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
                    while (in.read(buffer) >= 0) {
                        // reading feeds the digest
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash the checkpoint " + checkpoint.directory(), e);
        }
    }
}
