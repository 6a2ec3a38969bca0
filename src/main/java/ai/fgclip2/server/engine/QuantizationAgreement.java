package ai.fgclip2.server.engine;

/**
 * How closely an int8 export reproduces its float32 graphs on the canonical inputs the exporter stored with it,
 * worst case over every output: cosine, cosine after removing the mean embedding (which shows damage that the
 * plain cosine hides), and relative L2 error.
 */
public record QuantizationAgreement(double minCosine, double minCentredCosine, double maxRelativeL2Error, String summary) {

    public boolean passes(double cosine, double centredCosine) {
        return minCosine >= cosine && minCentredCosine >= centredCosine;
    }
}
