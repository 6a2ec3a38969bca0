package ai.fgclip2.server.clip;

/**
 * The checkpoint's image-text score constants: {@code logit = cos * exp(logitScale) + logitBias},
 * probability {@code sigmoid(logit)}, independent per pair.
 *
 * @param logitScale the checkpoint's {@code logit_scale} (a logarithm)
 */
public record SiglipScores(double logitScale, double logitBias) {

    public double logit(double cosine) {
        return Scoring.logit(cosine, logitScale, logitBias);
    }
}
