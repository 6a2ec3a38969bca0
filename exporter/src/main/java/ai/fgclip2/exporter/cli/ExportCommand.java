package ai.fgclip2.exporter.cli;

import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.GraphSessions;
import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.exporter.export.QualityGate;
import ai.fgclip2.exporter.graph.FloatLayers;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Convert a FG-CLIP 2 checkpoint (config.json, model.safetensors, tokenizer.json) to ONNX graphs.")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Hugging Face checkpoint directory.")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "Output directory for the graphs and manifest.json.")
    Path out;

    @Option(names = "--precision", defaultValue = "fp32", converter = PrecisionConverter.class,
            description = "fp32, fp16 or int8 (default: ${DEFAULT-VALUE}). int8: the encoder Linear layers as dynamic uint8 activations "
                    + "times per-column int8 weights (held inside each .onnx), everything else float32; also stores float32 "
                    + "reference outputs for the quality gate.")
    Exporter.Precision precision;

    @Option(names = "--float-layers", defaultValue = "", converter = FloatLayersConverter.class, paramLabel = "LIST",
            description = "With int8: encoder layers kept in float32, comma-separated: first, last, layer indices from 0 "
                    + "(both towers), fc2 (every block's second MLP projection). Example: first,last.")
    FloatLayers floatLayers;

    @Option(names = "--no-smoothing",
            description = "With int8: do not migrate large LayerNorm gain channels into the int8 weights that read them (by default "
                    + "they are, so per-tensor activation quantization is not spent on a few outlier channels; exact in float).")
    boolean noSmoothing;

    @Option(names = "--self-contained", description = "Copy the float weights into <graph>.onnx.data instead of pointing into the checkpoint.")
    boolean selfContained;

    // a plain flag: picocli's negatable form with fallbackValue "true" left --no-verify verifying anyway
    @Option(names = "--no-verify", description = "Do not load every graph in ONNX Runtime after writing it (nor run the int8 quality gate).")
    boolean noVerify;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        Manifest manifest = Exporter.export(checkpoint, out, new Exporter.Options(precision, selfContained, floatLayers, !noSmoothing));
        System.out.printf("exported %s (%s, %s weights) to %s in %.1f s%n", manifest.variant(), manifest.precision(),
                manifest.weights().mode(), out, (System.nanoTime() - start) / 1e9);
        if (!noVerify) {
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            for (String graph : manifest.graphs().keySet()) {
                long loadStart = System.nanoTime();
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                     OrtSession ignored = GraphSessions.open(environment, out.toRealPath(), manifest, graph, options)) {
                    System.out.printf("verified %s.onnx loads in ONNX Runtime (%.1f s)%n", graph, (System.nanoTime() - loadStart) / 1e9);
                }
            }
            if (manifest.int8() != null) {
                System.out.println("int8 agreement with float32 on the canonical inputs: " + QualityGate.check(out.toRealPath()).summary());
            }
        }
        return 0;
    }

    static final class FloatLayersConverter implements picocli.CommandLine.ITypeConverter<FloatLayers> {
        @Override
        public FloatLayers convert(String value) {
            try {
                return FloatLayers.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class PrecisionConverter implements picocli.CommandLine.ITypeConverter<Exporter.Precision> {
        @Override
        public Exporter.Precision convert(String value) {
            return Exporter.Precision.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }
}
