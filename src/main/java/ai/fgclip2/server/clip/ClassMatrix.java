package ai.fgclip2.server.clip;

import ai.fgclip2.server.engine.InferenceEngine;
import java.util.List;

/**
 * Unit class embeddings as one row-major {@code classes x dimensions} matrix, scored against a chunk of region
 * features with one matrix product per chunk.
 */
public final class ClassMatrix {
    private final int classes;
    private final int dimensions;
    /** dimensions x classes (transposed): the right-hand side of region features x classes */
    private final float[] transposed;
    private final float[] rows;

    private ClassMatrix(int classes, int dimensions, float[] rows) {
        this.classes = classes;
        this.dimensions = dimensions;
        this.rows = rows;
        this.transposed = new float[rows.length];
        for (int c = 0; c < classes; c++) {
            for (int k = 0; k < dimensions; k++) {
                transposed[k * classes + c] = rows[c * dimensions + k];
            }
        }
    }

    /** @param units one unit vector per class, all of one dimension */
    public static ClassMatrix of(List<float[]> units) {
        if (units.isEmpty()) {
            throw new IllegalArgumentException("no classes");
        }
        int dimensions = units.get(0).length;
        float[] rows = new float[units.size() * dimensions];
        for (int c = 0; c < units.size(); c++) {
            if (units.get(c).length != dimensions) {
                throw new IllegalArgumentException("dimension mismatch: " + units.get(c).length + " vs " + dimensions);
            }
            System.arraycopy(units.get(c), 0, rows, c * dimensions, dimensions);
        }
        return new ClassMatrix(units.size(), dimensions, rows);
    }

    /** The matrix of row-major unit vectors as stored in a vocabulary file. */
    public static ClassMatrix ofRows(int classes, int dimensions, float[] rows) {
        if (rows.length != classes * dimensions) {
            throw new IllegalArgumentException(rows.length + " values for " + classes + " x " + dimensions);
        }
        return new ClassMatrix(classes, dimensions, rows);
    }

    /** These classes followed by {@code more} (unit vectors of the same dimension). */
    public ClassMatrix append(List<float[]> more) {
        float[] joined = new float[(classes + more.size()) * dimensions];
        System.arraycopy(rows, 0, joined, 0, rows.length);
        for (int i = 0; i < more.size(); i++) {
            if (more.get(i).length != dimensions) {
                throw new IllegalArgumentException("dimension mismatch: " + more.get(i).length + " vs " + dimensions);
            }
            System.arraycopy(more.get(i), 0, joined, rows.length + i * dimensions, dimensions);
        }
        return new ClassMatrix(classes + more.size(), dimensions, joined);
    }

    public int classes() {
        return classes;
    }

    public int dimensions() {
        return dimensions;
    }

    /** Row-major copy-free view for writing; callers must not modify it. */
    float[] rows() {
        return rows;
    }

    /** Class c's unit vector (a copy). */
    public float[] row(int c) {
        float[] out = new float[dimensions];
        System.arraycopy(rows, c * dimensions, out, 0, dimensions);
        return out;
    }

    /** Cosines of one unit vector with every class, summed in double (zero-shot logits scale them by about 100). */
    public double[] cosines(float[] unit) {
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) {
            double sum = 0;
            int base = c * dimensions;
            for (int k = 0; k < dimensions; k++) {
                sum += (double) unit[k] * rows[base + k];
            }
            out[c] = sum;
        }
        return out;
    }

    /**
     * {@code log softmax(scale * cos)} over the classes for unit vectors {@code units[from..to)}:
     * {@code (to - from) x classes}, row-major, one call on the engine.
     */
    public float[] logProbabilities(InferenceEngine engine, float[][] units, int from, int to, double scale) {
        int count = to - from;
        float[] packed = new float[count * dimensions];
        for (int r = 0; r < count; r++) {
            System.arraycopy(units[from + r], 0, packed, r * dimensions, dimensions);
        }
        return engine.logSoftmaxProduct(packed, transposed, count, dimensions, classes, (float) scale);
    }
}
