package ai.fgclip2.bench;

import ai.fgclip2.exporter.export.Manifest;

/**
 * FG-CLIP 2's floating-point operations, counted analytically from the manifest's dimensions: every matrix
 * product of m x k by k x n costs 2*m*k*n (one multiply and one add per term). LayerNorm, softmax, GELU,
 * gathers and the position-embedding resize are left out; together they are under 1% of the total.
 */
record Flops(long hidden, long intermediate, long visionLayers, long textLayers, long patchValues, long projection) {

    static Flops of(Manifest manifest) {
        Manifest.Dimensions d = manifest.dimensions();
        Manifest.Preprocessing p = manifest.preprocessing();
        return new Flops(d.hiddenSize(), d.intermediateSize(), d.visionLayers(), d.textLayers(),
                (long) p.patchSize() * p.patchSize() * p.channels(), d.projectionSize());
    }

    /**
     * One pre-LN encoder layer over n tokens: q, k, v and out projections 4*n*D*D*2; attention scores q kᵀ and
     * their weighted sum of v 2*n*n*D*2; MLP fc1 and fc2 2*n*D*I*2.
     */
    double encoderLayer(long n) {
        long d = hidden;
        return 4.0 * n * d * d * 2 + 2.0 * n * n * d * 2 + 2.0 * n * d * intermediate * 2;
    }

    /**
     * One image of n patches: the patch embedding (a Linear over 16*16*3 values) n*768*D*2, L encoder layers,
     * and the MAP head: k and v projections over n tokens 2*n*D*D*2, one probe query's attention 2*n*D*2, and
     * the q and out projections and MLP on that one token (2*D*D + 2*D*I)*2.
     */
    double image(long n) {
        long d = hidden;
        double patchEmbedding = 2.0 * n * patchValues * d;
        double mapHead = 2.0 * n * d * d * 2 + 2.0 * n * d * 2 + (2.0 * d * d + 2.0 * d * intermediate) * 2;
        return patchEmbedding + visionLayers * encoderLayer(n) + mapHead;
    }

    /** One text of t tokens (64 short/box, 196 long): L encoder layers plus one D x P head on the pooled token. */
    double text(long t) {
        return textLayers * encoderLayer(t) + 2.0 * hidden * projection;
    }

    /** The region graph's dense head is a full self-attention block of the encoder layer's shape; RoIAlign is negligible. */
    double denseHead(long n) {
        return encoderLayer(n);
    }
}
