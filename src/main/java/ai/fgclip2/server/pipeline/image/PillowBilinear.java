package ai.fgclip2.server.pipeline.image;

/**
 * Pillow's {@code Image.resize(size, Image.BILINEAR)} for 8-bit RGB images, bit for bit.
 *
 * <p>Pillow resamples separably with an antialiased triangle filter whose support grows with the downscale
 * factor ({@code support = max(scale, 1)}), normalises each output's weights to sum 1, turns them into 22-bit
 * fixed-point integers, and accumulates {@code pixel * weight} in 32-bit integers starting from one half,
 * then shifts and clamps to 0..255. The horizontal pass runs first (only when the width changes) into an 8-bit
 * intermediate image restricted to the rows the vertical pass will read; the vertical pass runs only when the
 * height changes. Every one of those steps affects the result, so they are reproduced exactly.
 */
public final class PillowBilinear {
    /** Pillow: {@code 32 - 8 - 2}, 8 bits for the result and two to spare for filters with negative lobes. */
    private static final int PRECISION_BITS = 22;
    private static final int ROUNDING = 1 << (PRECISION_BITS - 1);
    private static final double BILINEAR_SUPPORT = 1.0;

    private PillowBilinear() {
    }

    /** The image resized to {@code width x height}. */
    public static RgbImage resize(RgbImage source, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        boolean horizontal = width != source.width();
        boolean vertical = height != source.height();
        if (!horizontal && !vertical) {
            return new RgbImage(width, height, source.pixels().clone());
        }
        Weights rows = Weights.of(source.height(), height);
        RgbImage current = source;
        int rowShift = 0;
        if (horizontal) {
            // Like Pillow, only the source rows that some output row reads are resampled horizontally.
            int firstRow = rows.first[0];
            int endRow = rows.first[height - 1] + rows.count[height - 1];
            current = resampleRows(source, Weights.of(source.width(), width), firstRow, endRow);
            rowShift = firstRow;
        }
        return vertical ? resampleColumns(current, rows, rowShift) : current;
    }

    private static RgbImage resampleRows(RgbImage in, Weights cols, int firstRow, int endRow) {
        int inStride = in.width() * 3;
        int outWidth = cols.first.length;
        byte[] src = in.pixels();
        byte[] out = new byte[(endRow - firstRow) * outWidth * 3];
        int o = 0;
        for (int y = firstRow; y < endRow; y++) {
            int rowStart = y * inStride;
            for (int x = 0; x < outWidth; x++) {
                int r = ROUNDING;
                int g = ROUNDING;
                int b = ROUNDING;
                int s = rowStart + cols.first[x] * 3;
                int k = x * cols.stride;
                for (int t = 0, n = cols.count[x]; t < n; t++, s += 3) {
                    int w = cols.weights[k + t];
                    r += (src[s] & 0xff) * w;
                    g += (src[s + 1] & 0xff) * w;
                    b += (src[s + 2] & 0xff) * w;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        }
        return new RgbImage(outWidth, endRow - firstRow, out);
    }

    /** {@code rowShift}: source row index of {@code in}'s first row (non-zero after a cropped horizontal pass). */
    private static RgbImage resampleColumns(RgbImage in, Weights rows, int rowShift) {
        int stride = in.width() * 3;
        int outHeight = rows.first.length;
        byte[] src = in.pixels();
        byte[] out = new byte[outHeight * stride];
        int[] acc = new int[stride];
        for (int y = 0; y < outHeight; y++) {
            java.util.Arrays.fill(acc, ROUNDING);
            int k = y * rows.stride;
            int firstRow = rows.first[y] - rowShift;
            // Integer sums do not depend on the order of the terms: accumulate row by row for cache locality.
            for (int t = 0, n = rows.count[y]; t < n; t++) {
                int w = rows.weights[k + t];
                int s = (firstRow + t) * stride;
                for (int i = 0; i < stride; i++) {
                    acc[i] += (src[s + i] & 0xff) * w;
                }
            }
            int o = y * stride;
            for (int i = 0; i < stride; i++) {
                out[o + i] = clip8(acc[i]);
            }
        }
        return new RgbImage(in.width(), outHeight, out);
    }

    private static byte clip8(int accumulated) {
        int v = accumulated >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /**
     * Fixed-point filter weights of one axis: output {@code i} reads inputs {@code first[i] ..
     * first[i] + count[i] - 1} with weights {@code weights[i * stride + t]}.
     */
    static final class Weights {
        final int[] first;
        final int[] count;
        final int[] weights;
        final int stride;

        private Weights(int[] first, int[] count, int[] weights, int stride) {
            this.first = first;
            this.count = count;
            this.weights = weights;
            this.stride = stride;
        }

        /** Pillow's {@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc}, for the full input box. */
        static Weights of(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = BILINEAR_SUPPORT * filterScale;
            double inverseFilterScale = 1.0 / filterScale;
            int stride = (int) Math.ceil(support) * 2 + 1;
            int[] first = new int[outSize];
            int[] count = new int[outSize];
            int[] weights = new int[outSize * stride];
            double[] w = new double[stride];
            for (int i = 0; i < outSize; i++) {
                double center = (i + 0.5) * scale;
                // (int) truncates toward zero, as the C cast does
                int lo = Math.max((int) (center - support + 0.5), 0);
                int hi = Math.min((int) (center + support + 0.5), inSize);
                int n = hi - lo;
                double sum = 0.0;
                for (int t = 0; t < n; t++) {
                    w[t] = triangle((t + lo - center + 0.5) * inverseFilterScale);
                    sum += w[t];
                }
                for (int t = 0; t < n; t++) {
                    double normalised = sum != 0.0 ? w[t] / sum : w[t];
                    weights[i * stride + t] = normalised < 0
                            ? (int) (-0.5 + normalised * (1 << PRECISION_BITS))
                            : (int) (0.5 + normalised * (1 << PRECISION_BITS));
                }
                first[i] = lo;
                count[i] = n;
            }
            return new Weights(first, count, weights, stride);
        }

        private static double triangle(double x) {
            double a = Math.abs(x);
            return a < 1.0 ? 1.0 - a : 0.0;
        }
    }
}
