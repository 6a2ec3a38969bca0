package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.ModelConfig.TowerConfig;
import java.util.List;

/**
 * The building blocks of FG-CLIP 2 (fgclip2-inference.md sections 4-6), one method per checkpoint module, named
 * as in the checkpoint. Activations are [batch, tokens, hidden] in the graph's compute type. Attention, the
 * residual + LayerNorm pair and GELU use ONNX Runtime's fused com.microsoft kernels, which ORT does not
 * produce by itself from the plain subgraphs.
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
        return g.op("LayerNormalization", List.of(x, weight(prefix + ".weight", hidden), weight(prefix + ".bias", hidden)),
                Attr.i("axis", -1), Attr.f("epsilon", (float) eps));
    }

    /** A residual add followed by a LayerNorm, as one SkipLayerNormalization: the normalised value and the sum. */
    record Residual(String normed, String sum) {
    }

    /** {@code LN(input + skip + bias)}, keeping {@code input + skip + bias} (output 3) as the new residual stream. */
    Residual skipLayerNorm(String input, String skip, String bias, String normPrefix, int hidden, double eps) {
        String[] outputs = g.ops("SkipLayerNormalization", GraphBuilder.MS_DOMAIN,
                List.of(input, skip, weight(normPrefix + ".weight", hidden), weight(normPrefix + ".bias", hidden), bias),
                4, Attr.f("epsilon", (float) eps));
        return new Residual(outputs[0], outputs[3]);
    }

    /**
     * One pre-LN encoder block: {@code h = x + out_proj(MHA(LN1(x)))}, {@code x = h + fc2(gelu_tanh(fc1(LN2(h))))}.
     * It takes {@code LN1(x)} already computed and hands its own output's add to {@code nextNorm} (the next
     * block's layer_norm1, or the tower's final LayerNorm), so every residual add is fused with the LayerNorm
     * after it. The key mask is an int32 [batch, tokens] (1 = valid) or "" for none; {@code precision} says
     * which of its Linear layers are int8.
     */
    Residual encoderLayer(Residual input, String prefix, String nextNorm, TowerConfig tower, String keyMask, LinearPrecision.Block precision) {
        int hidden = tower.hiddenSize();
        double eps = tower.layerNormEps();
        String attention = precision.attention()
                ? quantizedSelfAttention(input.normed(), prefix + "self_attn", tower, keyMask)
                : selfAttention(input.normed(), prefix + "self_attn", tower, keyMask);
        String projected = times(attention, prefix + "self_attn.out_proj.weight", hidden, hidden, precision.attention());
        Residual h = skipLayerNorm(projected, input.sum(), weight(prefix + "self_attn.out_proj.bias", hidden), prefix + "layer_norm2", hidden, eps);
        String fc1 = times(h.normed(), prefix + "mlp.fc1.weight", tower.intermediateSize(), hidden, precision.fc1());
        String activated = g.msOp("FastGelu", List.of(fc1, weight(prefix + "mlp.fc1.bias", tower.intermediateSize())));
        String fc2 = times(activated, prefix + "mlp.fc2.weight", hidden, tower.intermediateSize(), precision.fc2());
        return skipLayerNorm(fc2, h.sum(), weight(prefix + "mlp.fc2.bias", hidden), nextNorm, hidden, eps);
    }

    /** x Wᵀ without the bias, in int8 or in the compute type. */
    private String times(String x, String weightName, int out, int in, boolean int8) {
        return int8 ? int8MatMul(x, weightName, out, in) : matmulTransposed(x, weightName, out, in);
    }

    /**
     * x Wᵀ as DynamicQuantizeMatMul: x quantized per tensor to uint8 at run time, W int8 with one scale per output
     * column, computed here from the checkpoint's float weight.
     */
    private String int8MatMul(String x, String weightName, int out, int in) {
        GraphBuilder.Int8Names w = g.int8Weight(weightName + ".int8", Int8Weight.quantize(checkpoint.floats(weightName, out, in), out, in));
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
    private String quantizedSelfAttention(String x, String prefix, TowerConfig tower, String keyMask) {
        int hidden = tower.hiddenSize();
        GraphBuilder.Int8Names qkv = g.int8Weight(prefix + ".qkv_proj.int8", Int8Weight.concatColumns(
                Int8Weight.quantize(checkpoint.floats(prefix + ".q_proj.weight", hidden, hidden), hidden, hidden),
                Int8Weight.quantize(checkpoint.floats(prefix + ".k_proj.weight", hidden, hidden), hidden, hidden),
                Int8Weight.quantize(checkpoint.floats(prefix + ".v_proj.weight", hidden, hidden), hidden, hidden)));
        String[] quantized = g.ops("DynamicQuantizeLinear", "", List.of(x), 3);
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
        Residual stream = new Residual(layerNorm(x, layers + "0.layer_norm1", tower.hiddenSize(), tower.layerNormEps()), x);
        for (int layer = 0; layer < tower.numLayers(); layer++) {
            String nextNorm = layer + 1 < tower.numLayers() ? layers + (layer + 1) + ".layer_norm1" : finalNorm;
            stream = encoderLayer(stream, layers + layer + ".", nextNorm, tower, keyMask, g.linears().block(layer, tower.numLayers()));
        }
        return stream.normed();
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
