package ai.fgclip2.exporter.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint directory in the published Hugging Face layout: {@code config.json}, the weights in
 * {@code model.safetensors} or shards listed by {@code model.safetensors.index.json}, and {@code tokenizer.json}.
 */
public final class Checkpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";

    private final Path directory;
    private final ModelConfig config;
    private final Map<String, SafetensorsFile> tensorFiles;
    /** model.safetensors or the shard index: the file that a missing tensor is reported against. */
    private final Path weightsFile;

    private Checkpoint(Path directory, ModelConfig config, Map<String, SafetensorsFile> tensorFiles, Path weightsFile) {
        this.directory = directory;
        this.config = config;
        this.tensorFiles = tensorFiles;
        this.weightsFile = weightsFile;
    }

    /** Opens a checkpoint; the directory is resolved to its real path since ONNX Runtime refuses symlinks leaving it. */
    public static Checkpoint open(Path directory) {
        Path real;
        try {
            real = directory.toRealPath();
        } catch (IOException e) {
            throw new CheckpointException(directory + ": checkpoint directory does not exist");
        }
        Path configFile = real.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(configFile + ": missing config.json");
        }
        ModelConfig config = ModelConfig.read(configFile);
        Map<String, SafetensorsFile> files = new LinkedHashMap<>();
        Path single = real.resolve(WEIGHTS);
        Path index = real.resolve(WEIGHTS_INDEX);
        Path weightsFile;
        if (Files.isRegularFile(single)) {
            weightsFile = single;
            SafetensorsFile file = SafetensorsFile.open(realFile(single));
            file.tensors().keySet().forEach(name -> files.put(name, file));
        } else if (Files.isRegularFile(index)) {
            weightsFile = index;
            readShards(real, index, files);
        } else {
            throw new CheckpointException(real + ": missing model.safetensors (or model.safetensors.index.json for shards)");
        }
        return new Checkpoint(real, config, files, weightsFile);
    }

    private static void readShards(Path directory, Path index, Map<String, SafetensorsFile> files) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(Files.readString(index)).path("weight_map");
        } catch (IOException e) {
            throw new CheckpointException(index + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException(index + ": no weight_map");
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        weightMap.fields().forEachRemaining(entry -> {
            String shardName = entry.getValue().asText();
            SafetensorsFile shard = shards.computeIfAbsent(shardName, name -> {
                Path shardPath = directory.resolve(name);
                if (!Files.isRegularFile(shardPath)) {
                    throw new CheckpointException(shardPath + ": shard named by " + index.getFileName() + " is missing");
                }
                return SafetensorsFile.open(realFile(shardPath));
            });
            if (!shard.tensors().containsKey(entry.getKey())) {
                throw new CheckpointException(shard.path() + ": missing tensor '" + entry.getKey() + "' (listed in " + index.getFileName() + ")");
            }
            files.put(entry.getKey(), shard);
        });
    }

    private static Path realFile(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot resolve (" + e.getMessage() + ")", e);
        }
    }

    public Path directory() {
        return directory;
    }

    public ModelConfig config() {
        return config;
    }

    public Path tokenizerFile() {
        return directory.resolve(TOKENIZER);
    }

    /**
     * Checks every tensor the config calls for (name, shape, floating-point dtype; see {@link CheckpointLayout}),
     * so that a broken checkpoint fails here with the file and tensor named, not deep in graph building.
     */
    public void validate() {
        for (CheckpointLayout.ExpectedTensor expected : CheckpointLayout.expectedTensors(config)) {
            tensor(expected.name(), expected.shape());
        }
    }

    /** A tensor that must exist with exactly this shape and a floating-point dtype. */
    public TensorInfo tensor(String name, long... expectedShape) {
        SafetensorsFile file = tensorFiles.get(name);
        if (file == null) {
            throw new CheckpointException(weightsFile + ": missing tensor '" + name + "'");
        }
        TensorInfo info = file.info(name);
        if (!info.dtype().isFloatingPoint()) {
            throw new CheckpointException(info.file() + ": tensor '" + name + "' has dtype " + info.dtype() + ", expected F32, F16 or BF16");
        }
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException(info.file() + ": tensor '" + name + "' has shape " + info.shapeString() + ", expected " + Arrays.toString(expectedShape));
        }
        return info;
    }

    public float[] floats(String name, long... expectedShape) {
        TensorInfo info = tensor(name, expectedShape);
        return tensorFiles.get(name).floats(info.name());
    }

    public Iterable<SafetensorsFile> files() {
        return new java.util.LinkedHashSet<>(tensorFiles.values());
    }
}
