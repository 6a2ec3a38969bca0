package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.ModelConfig.TowerConfig;
import java.util.List;

/**
 * The building blocks of FG-CLIP 2 (docs/model.md, "Text", "Image", "Dense and region features"), one method per checkpoint module, named
 * as in the checkpoint. Activations are [batch, tokens, hidden] in the graph's compute type. Attention, the
 * residual + LayerNorm pair and GELU use ONNX Runtime's fused com.microsoft kernels, which ORT does not
 * produce by itself from the plain subgraphs. In an int8 graph ({@link GraphBuilder#linears()}) the encoder
 * blocks' Linear layers become DynamicQuantizeMatMul and QAttention over int8 weights computed here.
 */
final class Modules {
    private final GraphBuilder g;
    private final Checkpoint checkpoint;

    Modules(GraphBuilder g, Checkpoint checkpoint) {
        this.g = g;
        this.checkpoint = checkpoint;
    }

    GraphBuilder graph() {
        return g;
    }

    String weight(String name, long... shape) {
        return g.weight(checkpoint.tensor(name, shape));
    }

    ai.fgclip2.exporter.checkpoint.TensorInfo checkpointTensor(String name, long... shape) {
        return checkpoint.tensor(name, shape);
    }

    /** nn.Linear: y = x Wᵀ + b, weight [out, in]. */
    String linear(String x, String prefix, int out, int in) {
        return g.op("Add", List.of(matmulTransposed(x, prefix + ".weight", out, in), weight(prefix + ".bias", out)));
    }

    /** x Wᵀ without the bias, for the fused ops that take the bias themselves. */
    String matmulTransposed(String x, String weightName, int out, int in) {
        String transposed = g.op("Transpose", List.of(weight(weightName, out, in)), Attr.ints("perm", 1, 0));
        return g.op("MatMul", List.of(x, transposed));
    }

    String layerNorm(String x, String prefix, int hidden, double eps) {
        return layerNorm(x, norm(prefix, hidden), eps);
    }

    private String layerNorm(String x, Norm norm, double eps) {
        return g.op("LayerNormalization", List.of(x, norm.gain(), norm.bias()), Attr.i("axis", -1), Attr.f("epsilon", (float) eps));
    }

    /**
     * A LayerNorm's gain and bias. With {@code migration} (not null) both are divided by it per channel, so the
     * normalised value is the LayerNorm's divided by {@code migration}; the Linear layers reading it multiply their
     * input columns by it, which leaves the float result as it was.
     */
    record Norm(String gain, String bias, float[] migration) {
    }

    private Norm norm(String prefix, int hidden) {
        return new Norm(weight(prefix + ".weight", hidden), weight(prefix + ".bias", hidden), null);
    }

    /**
     * The LayerNorm before int8 Linear layers (the weights {@code readers}, [rows, hidden] each), with large-gain
     * channels migrated into the weights when the graph asks for it (SmoothQuant's migration with strength 1/2,
     * taking |gain| + |bias| as the channel's activation scale since the normalised values are O(1)): per-tensor
     * activation quantization then no longer spends its range on a few outlier channels.
     */
    private Norm normBeforeInt8(String prefix, int hidden, List<String> readers, int rowsPerReader) {
        if (!g.linears().migrateNormOutliers()) {
            return norm(prefix, hidden);
        }
        float[] gain = checkpoint.floats(prefix + ".weight", hidden);
        float[] bias = checkpoint.floats(prefix + ".bias", hidden);
        float[] weightScale = new float[hidden];
        for (String reader : readers) {
            float[] w = checkpoint.floats(reader, rowsPerReader, hidden);
            for (int i = 0; i < w.length; i++) {
                weightScale[i % hidden] = Math.max(weightScale[i % hidden], Math.abs(w[i]));
            }
        }
        float[] migration = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            float activationScale = Math.abs(gain[j]) + Math.abs(bias[j]);
            migration[j] = activationScale > 0 && weightScale[j] > 0 ? (float) Math.sqrt(activationScale / weightScale[j]) : 1f;
            gain[j] /= migration[j];
            bias[j] /= migration[j];
        }
        return new Norm(g.constantFloat32(gain, hidden), g.constantFloat32(bias, hidden), migration);
    }

    /** A checkpoint Linear weight [out, in] as int8, its input columns first multiplied by the input's migration. */
    private Int8Weight quantized(String weightName, int out, int in, float[] migration) {
        float[] w = checkpoint.floats(weightName, out, in);
        if (migration != null) {
            for (int i = 0; i < w.length; i++) {
                w[i] *= migration[i % in];
            }
        }
        return Int8Weight.quantize(w, out, in);
    }

    /**
     * The residual stream after a residual add + LayerNorm: the normalised value (divided per channel by
     * {@code migration} when not null, see {@link Norm}) and the sum.
     */
    record Residual(String normed, String sum, float[] migration) {
    }

    /** {@code LN(input + skip + bias)}, keeping {@code input + skip + bias} (output 3) as the new residual stream. */
    Residual skipLayerNorm(String input, String skip, String bias, Norm norm, double eps) {
        String[] outputs = g.ops("SkipLayerNormalization", GraphBuilder.MS_DOMAIN,
                List.of(input, skip, norm.gain(), norm.bias(), bias), 4, Attr.f("epsilon", (float) eps));
        return new Residual(outputs[0], outputs[3], norm.migration());
    }

    /**
     * One pre-LN encoder block: {@code h = x + out_proj(MHA(LN1(x)))}, {@code x = h + fc2(gelu_tanh(fc1(LN2(h))))}.
     * It takes {@code LN1(x)} already computed and hands its own output's add to {@code nextNorm} (the next
     * block's layer_norm1, or the tower's final LayerNorm), so every residual add is fused with the LayerNorm
     * after it. The key mask is an int32 [batch, tokens] (1 = valid) or "" for none; {@code precision} says
     * which of its Linear layers are int8.
     */
    Residual encoderLayer(Residual input, String prefix, Norm nextNorm, TowerConfig tower, String keyMask, LinearPrecision.Block precision) {
        int hidden = tower.hiddenSize();
        int intermediate = tower.intermediateSize();
        double eps = tower.layerNormEps();
        String attention = precision.attention()
                ? quantizedSelfAttention(input, prefix + "self_attn", tower, keyMask)
                : selfAttention(input.normed(), prefix + "self_attn", tower, keyMask);
        String projected = precision.attention()
                ? int8MatMul(attention, prefix + "self_attn.out_proj.weight", hidden, hidden, null)
                : matmulTransposed(attention, prefix + "self_attn.out_proj.weight", hidden, hidden);
        Norm layerNorm2 = precision.fc1()
                ? normBeforeInt8(prefix + "layer_norm2", hidden, List.of(prefix + "mlp.fc1.weight"), intermediate)
                : norm(prefix + "layer_norm2", hidden);
        Residual h = skipLayerNorm(projected, input.sum(), weight(prefix + "self_attn.out_proj.bias", hidden), layerNorm2, eps);
        String fc1 = precision.fc1()
                ? int8MatMul(h.normed(), prefix + "mlp.fc1.weight", intermediate, hidden, h.migration())
                : matmulTransposed(h.normed(), prefix + "mlp.fc1.weight", intermediate, hidden);
        String activated = g.msOp("FastGelu", List.of(fc1, weight(prefix + "mlp.fc1.bias", intermediate)));
        String fc2 = precision.fc2()
                ? int8MatMul(activated, prefix + "mlp.fc2.weight", hidden, intermediate, null)
                : matmulTransposed(activated, prefix + "mlp.fc2.weight", hidden, intermediate);
        return skipLayerNorm(fc2, h.sum(), weight(prefix + "mlp.fc2.bias", hidden), nextNorm, eps);
    }

    /**
     * x Wᵀ without the bias as DynamicQuantizeMatMul: x quantized per tensor to uint8 at run time, W int8 with one
     * scale per output column, computed here from the checkpoint's float weight.
     */
    private String int8MatMul(String x, String weightName, int out, int in, float[] inputMigration) {
        GraphBuilder.Int8Names w = g.int8Weight(weightName + "_int8", quantized(weightName, out, in, inputMigration));
        return g.msOp("DynamicQuantizeMatMul", List.of(x, w.values(), w.scales()));
    }

    /** q, k, v projections with bias over the same tokens, multi-head softmax attention, no causal mask. */
    private String selfAttention(String x, String prefix, TowerConfig tower, String keyMask) {
        int hidden = tower.hiddenSize();
        String packedWeight = g.op("Concat", List.of(
                weight(prefix + ".q_proj.weight", hidden, hidden),
                weight(prefix + ".k_proj.weight", hidden, hidden),
                weight(prefix + ".v_proj.weight", hidden, hidden)), Attr.i("axis", 0));
        return packedAttention(x, packedWeight, packedBias(prefix, hidden), tower.numHeads(), keyMask);
    }

    /**
     * The same with com.microsoft QAttention: x quantized per tensor to uint8 at run time (DynamicQuantizeLinear),
     * q/k/v as one int8 [D, 3D] weight with per-column scales; the attention core itself runs in float32.
     */
    private String quantizedSelfAttention(Residual input, String prefix, TowerConfig tower, String keyMask) {
        int hidden = tower.hiddenSize();
        GraphBuilder.Int8Names qkv = g.int8Weight(prefix + ".qkv_proj.weight_int8", Int8Weight.concatColumns(
                quantized(prefix + ".q_proj.weight", hidden, hidden, input.migration()),
                quantized(prefix + ".k_proj.weight", hidden, hidden, input.migration()),
                quantized(prefix + ".v_proj.weight", hidden, hidden, input.migration())));
        String[] quantized = g.ops("DynamicQuantizeLinear", "", List.of(input.normed()), 3);
        // input, weight, bias, input_scale, weight_scale, mask_index, input_zero_point; the weight zero point is 0
        return g.msOp("QAttention", List.of(quantized[0], qkv.values(), packedBias(prefix, hidden), quantized[1], qkv.scales(), keyMask, quantized[2]),
                Attr.i("num_heads", tower.numHeads()));
    }

    private String packedBias(String prefix, int hidden) {
        return g.op("Concat", List.of(
                weight(prefix + ".q_proj.bias", hidden),
                weight(prefix + ".k_proj.bias", hidden),
                weight(prefix + ".v_proj.bias", hidden)), Attr.i("axis", 0));
    }

    /** com.microsoft Attention over a packed [3D, D] q/k/v weight (rows: Wq, Wk, Wv) and [3D] bias. */
    String packedAttention(String x, String packedWeight, String packedBias, int numHeads, String keyMask) {
        String weightDxThreeD = g.op("Transpose", List.of(packedWeight), Attr.ints("perm", 1, 0));
        List<String> inputs = keyMask.isEmpty() ? List.of(x, weightDxThreeD, packedBias) : List.of(x, weightDxThreeD, packedBias, keyMask);
        return g.msOp("Attention", inputs, Attr.i("num_heads", numHeads));
    }

    /** The heads' fc2(gelu_tanh(fc1(x))) with fc2's bias; FastGelu is exactly the tanh approximation and takes fc1's bias. */
    String mlp(String x, String prefix, TowerConfig tower) {
        String fc1 = matmulTransposed(x, prefix + ".fc1.weight", tower.intermediateSize(), tower.hiddenSize());
        String activated = g.msOp("FastGelu", List.of(fc1, weight(prefix + ".fc1.bias", tower.intermediateSize())));
        return linear(activated, prefix + ".fc2", tower.hiddenSize(), tower.intermediateSize());
    }

    /**
     * The tower's encoder followed by its final LayerNorm ({@code finalNorm}: final_layer_norm or post_layernorm),
     * which absorbs the last residual add. Returns the normalised tokens.
     */
    String encoder(String x, String prefix, TowerConfig tower, String keyMask, String finalNorm) {
        String layers = prefix + "encoder.layers.";
        Norm firstNorm = attentionNorm(layers + "0.", tower, 0);
        Residual stream = new Residual(layerNorm(x, firstNorm, tower.layerNormEps()), x, firstNorm.migration());
        for (int layer = 0; layer < tower.numLayers(); layer++) {
            Norm nextNorm = layer + 1 < tower.numLayers() ? attentionNorm(layers + (layer + 1) + ".", tower, layer + 1) : norm(finalNorm, tower.hiddenSize());
            stream = encoderLayer(stream, layers + layer + ".", nextNorm, tower, keyMask, g.linears().block(layer, tower.numLayers()));
        }
        return stream.normed();
    }

    /** Block {@code layer}'s layer_norm1, which feeds its q/k/v projections. */
    private Norm attentionNorm(String blockPrefix, TowerConfig tower, int layer) {
        int hidden = tower.hiddenSize();
        String prefix = blockPrefix + "layer_norm1";
        if (!g.linears().block(layer, tower.numLayers()).attention()) {
            return norm(prefix, hidden);
        }
        String attention = blockPrefix + "self_attn.";
        return normBeforeInt8(prefix, hidden, List.of(attention + "q_proj.weight", attention + "k_proj.weight", attention + "v_proj.weight"), hidden);
    }

    /**
     * Multi-head attention pooling (SigLIP MAP head): one learned probe query attends over the tokens,
     * then {@code y = a + fc2(gelu(fc1(layernorm(a))))}. Returns [batch, 1, hidden].
     */
    String mapHead(String tokens, String prefix, TowerConfig tower, String keyMask) {
        int hidden = tower.hiddenSize();
        String inProjWeight = weight(prefix + ".attention.in_proj_weight", 3L * hidden, hidden);
        String inProjBias = weight(prefix + ".attention.in_proj_bias", 3L * hidden);
        String probe = weight(prefix + ".probe", 1, 1, hidden);
        String query = g.op("Add", List.of(g.op("MatMul", List.of(probe, transposedRows(inProjWeight, 0, hidden))), g.sliceRows(inProjBias, 0, hidden)));
        String key = g.op("Add", List.of(g.op("MatMul", List.of(tokens, transposedRows(inProjWeight, hidden, 2 * hidden))), g.sliceRows(inProjBias, hidden, 2 * hidden)));
        String value = g.op("Add", List.of(g.op("MatMul", List.of(tokens, transposedRows(inProjWeight, 2 * hidden, 3 * hidden))), g.sliceRows(inProjBias, 2 * hidden, 3 * hidden)));
        // The probe is shared by the batch: broadcast the one query row to [batch, 1, hidden].
        String batchedQuery = g.op("Expand", List.of(query, g.op("Concat", List.of(
                g.op("Slice", List.of(g.op("Shape", List.of(tokens)), g.vector(0), g.vector(1))),
                g.vector(1, hidden)), Attr.i("axis", 0))));
        List<String> inputs = keyMask.isEmpty()
                ? List.of(batchedQuery, key, value)
                : List.of(batchedQuery, key, value, "", keyMask);
        String attended = g.msOp("MultiHeadAttention", inputs, Attr.i("num_heads", tower.numHeads()));
        return headOutput(attended, prefix, tower);
    }

    /**
     * The dense head: the MAP head's layout, but every token is a query (full self-attention, probe unused).
     * Returns [batch, tokens, hidden].
     */
    String denseHead(String tokens, String prefix, TowerConfig tower) {
        int hidden = tower.hiddenSize();
        String attended = packedAttention(tokens,
                weight(prefix + ".attention.in_proj_weight", 3L * hidden, hidden),
                weight(prefix + ".attention.in_proj_bias", 3L * hidden), tower.numHeads(), "");
        return headOutput(attended, prefix, tower);
    }

    /** out_proj, then the residual MLP on layernorm(a): shared by the MAP and dense heads. */
    private String headOutput(String attended, String prefix, TowerConfig tower) {
        int hidden = tower.hiddenSize();
        String projected = linear(attended, prefix + ".attention.out_proj", hidden, hidden);
        String normed = layerNorm(projected, prefix + ".layernorm", hidden, tower.layerNormEps());
        return g.op("Add", List.of(projected, mlp(normed, prefix + ".mlp", tower)));
    }

    private String transposedRows(String weight, int from, int to) {
        return g.op("Transpose", List.of(g.sliceRows(weight, from, to)), Attr.ints("perm", 1, 0));
    }
}
