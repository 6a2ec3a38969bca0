package ai.fgclip2.exporter.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The tensors of a published FG-CLIP 2 checkpoint (docs/model.md, "Checkpoint tensors") for a given config: the one
 * list that validation, the graph builder and the synthesizer share.
 */
public final class CheckpointLayout {
    public static final String TEXT = "text_model.";
    public static final String VISION = "vision_model.";
    public static final String DENSE_HEAD = "dense_feature_head.";
    public static final String LONG_TEXT_HEAD = "longtext_head.";
    public static final String BOX_TEXT_HEAD = "boxtext_head.";
    public static final String LOGIT_SCALE = "logit_scale";
    public static final String LOGIT_BIAS = "logit_bias";

    /** What a tensor is, which is what decides how to initialise it. */
    public enum Role {
        /** {@code nn.Linear} weight {@code [out, in]}. */
        LINEAR_WEIGHT,
        /** Linear bias. */
        BIAS,
        NORM_WEIGHT,
        NORM_BIAS,
        /** Token and position embeddings, and the MAP probe. */
        EMBEDDING,
        /** Log of the sigmoid-score temperature. */
        LOGIT_SCALE,
        LOGIT_BIAS
    }

    /** A tensor the checkpoint must hold, with exactly this shape. */
    public record ExpectedTensor(String name, long[] shape, Role role) {
        public long elementCount() {
            long count = 1;
            for (long dim : shape) {
                count *= dim;
            }
            return count;
        }
    }

    private CheckpointLayout() {
    }

    /** Every tensor the model uses, in the order text tower, vision tower, dense head, extra heads. */
    public static List<ExpectedTensor> expectedTensors(ModelConfig config) {
        List<ExpectedTensor> out = new ArrayList<>();
        int d = config.hiddenSize();
        String textEmbeddings = TEXT + "embeddings.";
        out.add(new ExpectedTensor(textEmbeddings + "token_embedding.weight", shape(config.vocabSize(), d), Role.EMBEDDING));
        out.add(new ExpectedTensor(textEmbeddings + "position_embedding.weight", shape(config.shortTextLength(), d), Role.EMBEDDING));
        out.add(new ExpectedTensor(textEmbeddings + "position_embedding_ori.weight", shape(config.longTextLength(), d), Role.EMBEDDING));
        out.add(new ExpectedTensor(textEmbeddings + "position_embedding_res.weight", shape(config.longTextLength(), d), Role.EMBEDDING));
        encoder(out, TEXT, config.text());
        layerNorm(out, TEXT + "final_layer_norm.", d);
        linear(out, TEXT + "head.", d, config.projectionSize());

        String visionEmbeddings = VISION + "embeddings.";
        linear(out, visionEmbeddings + "patch_embedding.", config.patchValues(), d);
        int gridCells = config.positionGridSide() * config.positionGridSide();
        out.add(new ExpectedTensor(visionEmbeddings + "position_embedding.weight", shape(gridCells, d), Role.EMBEDDING));
        encoder(out, VISION, config.vision());
        layerNorm(out, VISION + "post_layernorm.", d);
        attentionHead(out, VISION + "head.", config.vision());
        attentionHead(out, DENSE_HEAD, config.vision());

        linear(out, LONG_TEXT_HEAD, d, d);
        linear(out, BOX_TEXT_HEAD, d, d);
        out.add(new ExpectedTensor(LOGIT_SCALE, shape(1), Role.LOGIT_SCALE));
        out.add(new ExpectedTensor(LOGIT_BIAS, shape(1), Role.LOGIT_BIAS));
        return Collections.unmodifiableList(out);
    }

    public static long parameterCount(ModelConfig config) {
        return expectedTensors(config).stream().mapToLong(ExpectedTensor::elementCount).sum();
    }

    private static void encoder(List<ExpectedTensor> out, String tower, ModelConfig.TowerConfig sizes) {
        int d = sizes.hiddenSize();
        for (int layer = 0; layer < sizes.numLayers(); layer++) {
            String prefix = tower + "encoder.layers." + layer + ".";
            layerNorm(out, prefix + "layer_norm1.", d);
            for (String projection : List.of("q_proj.", "k_proj.", "v_proj.", "out_proj.")) {
                linear(out, prefix + "self_attn." + projection, d, d);
            }
            layerNorm(out, prefix + "layer_norm2.", d);
            linear(out, prefix + "mlp.fc1.", d, sizes.intermediateSize());
            linear(out, prefix + "mlp.fc2.", sizes.intermediateSize(), d);
        }
    }

    /** The MAP head layout (also used by the dense head, whose probe is stored but unused). */
    private static void attentionHead(List<ExpectedTensor> out, String prefix, ModelConfig.TowerConfig sizes) {
        int d = sizes.hiddenSize();
        out.add(new ExpectedTensor(prefix + "probe", shape(1, 1, d), Role.EMBEDDING));
        // packed nn.MultiheadAttention: rows Wq, Wk, Wv
        out.add(new ExpectedTensor(prefix + "attention.in_proj_weight", shape(3 * d, d), Role.LINEAR_WEIGHT));
        out.add(new ExpectedTensor(prefix + "attention.in_proj_bias", shape(3 * d), Role.BIAS));
        linear(out, prefix + "attention.out_proj.", d, d);
        layerNorm(out, prefix + "layernorm.", d);
        linear(out, prefix + "mlp.fc1.", d, sizes.intermediateSize());
        linear(out, prefix + "mlp.fc2.", sizes.intermediateSize(), d);
    }

    private static void linear(List<ExpectedTensor> out, String prefix, int in, int outFeatures) {
        out.add(new ExpectedTensor(prefix + "weight", shape(outFeatures, in), Role.LINEAR_WEIGHT));
        out.add(new ExpectedTensor(prefix + "bias", shape(outFeatures), Role.BIAS));
    }

    private static void layerNorm(List<ExpectedTensor> out, String prefix, int size) {
        out.add(new ExpectedTensor(prefix + "weight", shape(size), Role.NORM_WEIGHT));
        out.add(new ExpectedTensor(prefix + "bias", shape(size), Role.NORM_BIAS));
    }

    private static long[] shape(long... dims) {
        return dims;
    }
}
