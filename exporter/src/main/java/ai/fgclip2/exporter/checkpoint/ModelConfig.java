package ai.fgclip2.exporter.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The parts of {@code config.json} that inference needs (docs/model.md, "Sizes and configuration"). */
public record ModelConfig(TowerConfig text, TowerConfig vision, int vocabSize, int projectionSize,
                          int shortTextLength, int keepLength, int longTextLength,
                          int patchSize, int numChannels, int positionGridSide) {

    public static final String MODEL_TYPE = "fgclip2";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Sizes of one transformer tower. */
    public record TowerConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, double layerNormEps, String hiddenAct) {
        public int headDim() {
            return hiddenSize / numHeads;
        }
    }

    public static ModelConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read config (" + e.getMessage() + ")", e);
        }
        return parse(root, file.toString());
    }

    static ModelConfig parse(JsonNode root, String where) {
        String modelType = root.path("model_type").asText("");
        if (!MODEL_TYPE.equals(modelType)) {
            throw new CheckpointException(where + ": unknown model_type '" + modelType + "' (expected '" + MODEL_TYPE + "')");
        }
        JsonNode textNode = required(root, "text_config", where);
        JsonNode visionNode = required(root, "vision_config", where);
        TowerConfig text = tower(textNode, where + " text_config");
        TowerConfig vision = tower(visionNode, where + " vision_config");
        if (text.hiddenSize() != vision.hiddenSize()) {
            throw new CheckpointException(where + ": text hidden_size " + text.hiddenSize() + " differs from vision hidden_size " + vision.hiddenSize());
        }
        int numPatches = vision.hiddenSize() > 0 ? visionNode.path("num_patches").asInt(256) : 256;
        int gridSide = (int) Math.round(Math.sqrt(numPatches));
        if (gridSide * gridSide != numPatches) {
            throw new CheckpointException(where + ": vision_config.num_patches " + numPatches + " is not a square");
        }
        return new ModelConfig(text, vision,
                positiveInt(textNode, "vocab_size", -1, where + " text_config"),
                positiveInt(textNode, "projection_size", text.hiddenSize(), where + " text_config"),
                positiveInt(textNode, "max_position_embeddings", 64, where + " text_config"),
                positiveInt(textNode, "keep_len", 20, where + " text_config"),
                positiveInt(textNode, "longtext_len", 196, where + " text_config"),
                positiveInt(visionNode, "patch_size", 16, where + " vision_config"),
                positiveInt(visionNode, "num_channels", 3, where + " vision_config"),
                gridSide);
    }

    private static TowerConfig tower(JsonNode node, String where) {
        int hidden = positiveInt(node, "hidden_size", -1, where);
        int heads = positiveInt(node, "num_attention_heads", -1, where);
        if (hidden % heads != 0) {
            throw new CheckpointException(where + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        }
        String act = node.path("hidden_act").asText("gelu_pytorch_tanh");
        if (!act.equals("gelu_pytorch_tanh")) {
            throw new CheckpointException(where + ": unsupported hidden_act '" + act + "' (expected gelu_pytorch_tanh)");
        }
        return new TowerConfig(hidden, positiveInt(node, "intermediate_size", -1, where),
                positiveInt(node, "num_hidden_layers", -1, where), heads,
                node.path("layer_norm_eps").asDouble(1e-6), act);
    }

    private static JsonNode required(JsonNode root, String field, String where) {
        JsonNode node = root.get(field);
        if (node == null || !node.isObject()) {
            throw new CheckpointException(where + ": missing object '" + field + "'");
        }
        return node;
    }

    private static int positiveInt(JsonNode node, String field, int fallback, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (fallback < 0) {
                throw new CheckpointException(where + ": missing '" + field + "'");
            }
            return fallback;
        }
        if (!value.canConvertToInt() || value.asInt() <= 0) {
            throw new CheckpointException(where + ": '" + field + "' must be a positive integer, got " + value);
        }
        return value.asInt();
    }

    /** The config.json that describes this model in the published layout. */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add("FG_CLIP2_Model");
        root.put("model_type", MODEL_TYPE);
        root.put("torch_dtype", "float32");
        ObjectNode textNode = towerJson(root.putObject("text_config"), "fgclip2_text_model", text);
        textNode.put("vocab_size", vocabSize);
        textNode.put("max_position_embeddings", shortTextLength);
        textNode.put("projection_size", projectionSize);
        textNode.put("keep_len", keepLength);
        textNode.put("longtext_len", longTextLength);
        ObjectNode visionNode = towerJson(root.putObject("vision_config"), "fgclip2_vision_model", vision);
        visionNode.put("num_channels", numChannels);
        visionNode.put("patch_size", patchSize);
        visionNode.put("num_patches", positionGridSide * positionGridSide);
        return root;
    }

    private static ObjectNode towerJson(ObjectNode node, String modelType, TowerConfig tower) {
        node.put("model_type", modelType);
        node.put("hidden_size", tower.hiddenSize());
        node.put("intermediate_size", tower.intermediateSize());
        node.put("num_hidden_layers", tower.numLayers());
        node.put("num_attention_heads", tower.numHeads());
        node.put("hidden_act", tower.hiddenAct());
        node.put("layer_norm_eps", tower.layerNormEps());
        return node;
    }

    public int hiddenSize() {
        return text.hiddenSize();
    }

    /** Values in one flattened patch: patch * patch * channels (768). */
    public int patchValues() {
        return patchSize * patchSize * numChannels;
    }
}
