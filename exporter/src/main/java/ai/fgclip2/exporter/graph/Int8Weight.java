package ai.fgclip2.exporter.graph;

/**
 * An {@code nn.Linear} weight quantized symmetrically to int8 with one scale per output column, stored
 * pre-transposed as the right-hand matrix of {@code x W}: {@code values} is [in, out] row-major and
 * {@code W[o][i] ≈ values[i * out + o] * scales[o]}. Symmetric (zero point 0), so ONNX Runtime needs no weight
 * zero point. The range is ±63 (7 bits), not ±127: on CPUs without VNNI, ONNX Runtime's AVX2 uint8 x int8 kernel
 * adds pairs of products in int16 with saturation, and 2 x 255 x 127 overflows it while 2 x 255 x 63 does not.
 * Measured on an AVX2-only EPYC, full-range weights gave about 3x the error of 7-bit ones; with VNNI the 7-bit
 * range costs little, and an export must run on whichever CPU serves it.
 */
public record Int8Weight(byte[] values, float[] scales, int in, int out) {
    private static final int LIMIT = 63;

    /** Quantizes a float {@code [out, in]} weight (the checkpoint's layout). */
    public static Int8Weight quantize(float[] weight, int out, int in) {
        if (weight.length != (long) out * in) {
            throw new IllegalArgumentException("weight has " + weight.length + " values, expected " + out + " x " + in);
        }
        byte[] values = new byte[weight.length];
        float[] scales = new float[out];
        for (int o = 0; o < out; o++) {
            float max = 0;
            for (int i = 0; i < in; i++) {
                max = Math.max(max, Math.abs(weight[o * in + i]));
            }
            // An all-zero column (a pruned output) gets scale 1: its values are 0 whatever the scale.
            float scale = max > 0 ? max / LIMIT : 1f;
            scales[o] = scale;
            for (int i = 0; i < in; i++) {
                values[i * out + o] = (byte) Math.max(-LIMIT, Math.min(LIMIT, Math.round(weight[o * in + i] / scale)));
            }
        }
        return new Int8Weight(values, scales, in, out);
    }

    /** Several weights over the same input side by side: [in, out1 + out2 + ...] (q, k, v for QAttention). */
    public static Int8Weight concatColumns(Int8Weight... parts) {
        int in = parts[0].in;
        int out = 0;
        for (Int8Weight part : parts) {
            if (part.in != in) {
                throw new IllegalArgumentException("cannot place weights of " + part.in + " and " + in + " inputs side by side");
            }
            out += part.out;
        }
        byte[] values = new byte[in * out];
        float[] scales = new float[out];
        int column = 0;
        for (Int8Weight part : parts) {
            for (int i = 0; i < in; i++) {
                System.arraycopy(part.values, i * part.out, values, i * out + column, part.out);
            }
            System.arraycopy(part.scales, 0, scales, column, part.out);
            column += part.out;
        }
        return new Int8Weight(values, scales, in, out);
    }

    /** The float value this int8 entry stands for, W[o][i]. */
    public float dequantized(int o, int i) {
        return values[i * out + o] * scales[o];
    }
}
