package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.ModelConfig;
import ai.fgclip2.exporter.checkpoint.ModelConfig.TowerConfig;
import java.util.List;

/**
 * The text tower (docs/model.md, "Text") as one graph, so the token table is loaded once:
 * {@code input_ids [batch, T]} (T = 64 for short/box, 196 for long; EOS and pads already in place) ->
 * {@code short_embeds}, {@code box_embeds}, {@code long_embeds} [batch, projection], raw. All three heads
 * are applied to the pooled last position (cheap); the caller reads the one of its walk.
 */
public final class TextGraph {
    public static final String INPUT_IDS = "input_ids";
    public static final String SHORT_EMBEDS = "short_embeds";
    public static final String BOX_EMBEDS = "box_embeds";
    public static final String LONG_EMBEDS = "long_embeds";

    private TextGraph() {
    }

    public static GraphBuilder build(Checkpoint checkpoint, GraphBuilder g) {
        ModelConfig config = checkpoint.config();
        TowerConfig tower = config.text();
        Modules m = new Modules(g, checkpoint);
        String ids = g.input(INPUT_IDS, ElementType.INT64, "batch", "sequence");
        String x = g.op("Add", List.of(tokenEmbedding(m, ids, config), positionEmbedding(m, ids, config)));
        String last = m.encoder(x, "text_model.", tower, "", "text_model.final_layer_norm");
        // Pooling takes the last position (usually a pad: there is no attention mask in FG-CLIP 2's text tower).
        String pooled = g.op("Squeeze", List.of(
                g.op("Slice", List.of(last, g.vector(-1), g.vector(Long.MAX_VALUE), g.vector(1))), g.vector(1)));
        int hidden = tower.hiddenSize();
        g.outputFloat32(m.linear(pooled, "text_model.head", config.projectionSize(), hidden), SHORT_EMBEDS, "batch", config.projectionSize());
        g.outputFloat32(m.linear(pooled, "boxtext_head", hidden, hidden), BOX_EMBEDS, "batch", hidden);
        g.outputFloat32(m.linear(pooled, "longtext_head", hidden, hidden), LONG_EMBEDS, "batch", hidden);
        return g;
    }

    private static String tokenEmbedding(Modules m, String ids, ModelConfig config) {
        String table = m.weight("text_model.embeddings.token_embedding.weight", config.vocabSize(), config.hiddenSize());
        return m.graph().op("Gather", List.of(table, ids));
    }

    /**
     * Short/box texts use position_embedding[0..63]; long texts use position_embedding_ori for the first
     * keep_len positions and position_embedding_res after. Both tables are stacked into one constant-folded
     * table [64 + 196, D]; a length above 64 selects the long rows.
     */
    private static String positionEmbedding(Modules m, String ids, ModelConfig config) {
        GraphBuilder g = m.graph();
        int hidden = config.hiddenSize();
        int shortLength = config.shortTextLength();
        int longLength = config.longTextLength();
        int keep = config.keepLength();
        String shortTable = m.weight("text_model.embeddings.position_embedding.weight", shortLength, hidden);
        String ori = m.weight("text_model.embeddings.position_embedding_ori.weight", longLength, hidden);
        String res = m.weight("text_model.embeddings.position_embedding_res.weight", longLength, hidden);
        String longTable = g.op("Concat", List.of(g.sliceRows(ori, 0, keep), g.sliceRows(res, keep, longLength)), Attr.i("axis", 0));
        String table = g.op("Concat", List.of(shortTable, longTable), Attr.i("axis", 0));
        String length = g.op("Slice", List.of(g.op("Shape", List.of(ids)), g.vector(1), g.vector(2)));
        String isLong = g.op("Cast", List.of(g.op("Greater", List.of(length, g.vector(shortLength)))), Attr.i("to", ElementType.INT64.code()));
        String offset = g.op("Mul", List.of(isLong, g.vector(shortLength)));
        String positions = g.op("Add", List.of(
                g.op("Range", List.of(g.scalarLong(0), g.op("Squeeze", List.of(length, g.vector(0))), g.scalarLong(1))), offset));
        return g.op("Gather", List.of(table, positions));
    }
}
