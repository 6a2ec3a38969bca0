package ai.fgclip2.exporter.cli;

import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.GraphSessions;
import ai.fgclip2.exporter.export.Manifest;
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

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or fp16 (default: ${DEFAULT-VALUE}).",
            converter = PrecisionConverter.class)
    Exporter.Precision precision;

    @Option(names = "--self-contained", description = "Copy weights into <graph>.onnx.data instead of pointing into the checkpoint.")
    boolean selfContained;

    @Option(names = "--no-verify", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Load every graph in ONNX Runtime after writing it (default: on).")
    boolean verify;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        Manifest manifest = Exporter.export(checkpoint, out, new Exporter.Options(precision, selfContained));
        System.out.printf("exported %s (%s, %s weights) to %s in %.1f s%n", manifest.variant(), manifest.precision(),
                manifest.weights().mode(), out, (System.nanoTime() - start) / 1e9);
        if (verify) {
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            for (String graph : manifest.graphs().keySet()) {
                long loadStart = System.nanoTime();
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                     OrtSession ignored = GraphSessions.open(environment, out.toRealPath(), manifest, graph, options)) {
                    System.out.printf("verified %s.onnx loads in ONNX Runtime (%.1f s)%n", graph, (System.nanoTime() - loadStart) / 1e9);
                }
            }
        }
        return 0;
    }

    static final class PrecisionConverter implements picocli.CommandLine.ITypeConverter<Exporter.Precision> {
        @Override
        public Exporter.Precision convert(String value) {
            return Exporter.Precision.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }
}
