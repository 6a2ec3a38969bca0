package ai.fgclip2.server.clip;

import java.util.List;

/**
 * The score functions of FG-CLIP 2's evaluation protocols (docs/model.md, "Scores"). Embeddings are the
 * model's float32 outputs; sums run in double, scalar results are double.
 */
public final class Scoring {
    /** The softmax scale of box classification and fine-grained picks: {@code softmax(100 * cos)}. */
    public static final double BOX_SOFTMAX_SCALE = 100.0;

    private Scoring() {
    }

    /** {@code v / |v|}. A zero vector has no direction (an empty region, for example) and is rejected. */
    public static float[] normalize(float[] v) {
        double norm = Math.sqrt(dot(v, v));
        if (!(norm > 0) || Double.isInfinite(norm)) {
            throw new IllegalArgumentException("cannot normalise a vector of norm " + norm);
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / norm);
        }
        return out;
    }

    /** The dot product; equal to the cosine when both vectors are already normalised. */
    public static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("dimension mismatch: " + a.length + " vs " + b.length);
        }
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    /** Cosine similarity of two raw (unnormalised) vectors. */
    public static double cosine(float[] a, float[] b) {
        double norms = Math.sqrt(dot(a, a) * dot(b, b));
        if (!(norms > 0)) {
            throw new IllegalArgumentException("cosine with a zero vector");
        }
        return dot(a, b) / norms;
    }

    /**
     * SigLIP logit of an image-text pair: {@code cos * exp(logitScale) + logitBias}, with the checkpoint's
     * {@code logit_scale} (stored as a logarithm) and {@code logit_bias}.
     */
    public static double logit(double cosine, double logitScale, double logitBias) {
        return cosine * Math.exp(logitScale) + logitBias;
    }

    /** The logistic function, without overflow for large negative inputs. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    /**
     * {@code softmax(scale * cos)} over a whole label set: box classification and fine-grained picks use
     * {@link #BOX_SOFTMAX_SCALE}.
     */
    public static double[] softmax(double[] cosines, double scale) {
        if (cosines.length == 0) {
            throw new IllegalArgumentException("softmax over an empty label set");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double c : cosines) {
            max = Math.max(max, scale * c);
        }
        double[] out = new double[cosines.length];
        double sum = 0;
        for (int i = 0; i < cosines.length; i++) {
            out[i] = Math.exp(scale * cosines[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    /**
     * A class embedding from its prompt templates: normalise each template's embedding, average, normalise
     * again (the ImageNet zero-shot protocol).
     */
    public static float[] averageTemplates(List<float[]> templateEmbeddings) {
        if (templateEmbeddings.isEmpty()) {
            throw new IllegalArgumentException("no template embeddings");
        }
        int dimension = templateEmbeddings.get(0).length;
        double[] sum = new double[dimension];
        for (float[] embedding : templateEmbeddings) {
            if (embedding.length != dimension) {
                throw new IllegalArgumentException("dimension mismatch: " + embedding.length + " vs " + dimension);
            }
            float[] unit = normalize(embedding);
            for (int i = 0; i < dimension; i++) {
                sum[i] += unit[i];
            }
        }
        float[] mean = new float[dimension];
        for (int i = 0; i < dimension; i++) {
            mean[i] = (float) (sum[i] / templateEmbeddings.size());
        }
        return normalize(mean);
    }

    /**
     * Detector rescoring: the weighted geometric mean {@code conf^alpha * pAlign^beta} of the detector's
     * confidence and the FG-CLIP 2 alignment probability of its label.
     */
    public static double fusedScore(double detectorConfidence, double alignProbability, double alpha, double beta) {
        return Math.pow(detectorConfidence, alpha) * Math.pow(alignProbability, beta);
    }

    /** The index of the largest value; the first one on ties. */
    public static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The index within {@code values[offset .. offset + length)} of its largest value; the first one on ties. */
    public static int argmax(float[] values, int offset, int length) {
        int best = 0;
        for (int i = 1; i < length; i++) {
            if (values[offset + i] > values[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
