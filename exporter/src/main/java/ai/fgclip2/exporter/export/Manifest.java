package ai.fgclip2.exporter.export;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json}, written beside the exported graphs: everything the service needs to run them
 * without reading the checkpoint's config again.
 */
public record Manifest(
        String format,
        String modelType,
        String variant,
        String precision,
        Dimensions dimensions,
        Scores scores,
        TextLengths textLengths,
        Preprocessing preprocessing,
        String tokenizer,
        Weights weights,
        Map<String, GraphFile> graphs,
        Source source,
        Int8 int8) {

    public static final String FILE = "manifest.json";
    public static final String FORMAT = "fgclip2-onnx/1";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public record Dimensions(int hiddenSize, int projectionSize, int textLayers, int visionLayers, int heads, int intermediateSize, int vocabSize) {
    }

    /** logitScale is the checkpoint's log value; exp(logitScale) multiplies the cosine. */
    public record Scores(double logitScale, double logitScaleExp, double logitBias) {
    }

    public record TextLengths(int shortLength, int longLength, int keepLength, int eosId, int padId) {
    }

    /** v/255, then (v - mean)/std per channel; patches of patchSize x patchSize x channels, ordered (py, px, c). */
    public record Preprocessing(int patchSize, int channels, int positionGridSide, double rescale, List<Double> mean, List<Double> std,
                                String resample, List<Integer> patchBudgets) {
    }

    /**
     * Where initializer data lives: "checkpoint" (pointing into the source safetensors, directory = the
     * checkpoint's real path) or "self-contained" (graph.onnx.data beside each graph, directory = ".").
     */
    public record Weights(String mode, String directory) {
    }

    public record GraphFile(String file, List<Port> inputs, List<Port> outputs) {
    }

    public record Port(String name, String type, List<Object> shape) {
    }

    public record Source(String directory, String sha256, String exporter) {
    }

    /**
     * Present for precision "int8" only (null otherwise). The int8 weights and their per-column scales are
     * initializers inside each {@code <graph>.onnx} itself; the float32 weights stay where {@link Weights} says.
     *
     * @param floatLayers encoder layers kept in float32 ({@code --float-layers} spec, "" for none)
     * @param smoothing   whether large LayerNorm gain channels were migrated into the int8 weights
     * @param qualityGate the float32 reference outputs on canonical inputs, read by {@link QualityGate}
     */
    public record Int8(String floatLayers, boolean smoothing, QualityGateFile qualityGate) {
    }

    /** A safetensors file beside the manifest and the number of canonical inputs of each kind it holds. */
    public record QualityGateFile(String file, int shortTexts, int longTexts, int images) {
    }

    public void write(Path directory) {
        try {
            JSON.writeValue(directory.resolve(FILE).toFile(), this);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + directory.resolve(FILE), e);
        }
    }

    public static Manifest read(Path directory) {
        try {
            return JSON.readValue(directory.resolve(FILE).toFile(), Manifest.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + directory.resolve(FILE), e);
        }
    }

    /** The directory holding the weights' external data, resolved against the export directory. */
    public Path weightsDirectory(Path exportDirectory) {
        return exportDirectory.resolve(weights.directory()).normalize();
    }
}
