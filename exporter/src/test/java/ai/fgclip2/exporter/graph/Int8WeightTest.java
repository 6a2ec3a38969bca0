package ai.fgclip2.exporter.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Int8WeightTest {
    private static float[] randomWeight(int out, int in, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        return w;
    }

    @Test
    void everyEntryIsWithinHalfAStepOfTheFloatWeight() {
        int out = 24;
        int in = 40;
        float[] w = randomWeight(out, in, 1);
        w[5 * in + 7] = 30; // one large entry only coarsens its own column
        Int8Weight q = Int8Weight.quantize(w, out, in);
        assertThat(q.in()).isEqualTo(in);
        assertThat(q.out()).isEqualTo(out);
        for (int o = 0; o < out; o++) {
            float max = 0;
            for (int i = 0; i < in; i++) {
                max = Math.max(max, Math.abs(w[o * in + i]));
            }
            assertThat(q.scales()[o]).as("scale of column %d", o).isCloseTo(max / 63, within(1e-6f * max));
            for (int i = 0; i < in; i++) {
                assertThat(q.dequantized(o, i)).as("W[%d][%d]", o, i).isCloseTo(w[o * in + i], within(q.scales()[o] / 2 * 1.0001f));
            }
        }
        for (byte value : q.values()) {
            assertThat((int) value).isBetween(-63, 63);
        }
        assertThat(q.scales()[5]).isGreaterThan(10 * q.scales()[4]);
    }

    @Test
    void valuesArePreTransposedAndAZeroColumnStaysZero() {
        float[] w = {1, 2, 3, 0, 0, 0}; // [out 2, in 3]: the second output is all zero
        Int8Weight q = Int8Weight.quantize(w, 2, 3);
        // [in, out] row-major: column 0 holds 1, 2, 3 scaled to 21, 42, 63
        assertThat(q.values()).containsExactly(21, 0, 42, 0, 63, 0);
        assertThat(q.scales()[1]).isEqualTo(1f);
    }

    @Test
    void concatenatedColumnsKeepEachPartsValuesAndScales() {
        Int8Weight a = Int8Weight.quantize(randomWeight(4, 6, 2), 4, 6);
        Int8Weight b = Int8Weight.quantize(randomWeight(5, 6, 3), 5, 6);
        Int8Weight both = Int8Weight.concatColumns(a, b);
        assertThat(both.out()).isEqualTo(9);
        for (int i = 0; i < 6; i++) {
            for (int o = 0; o < 4; o++) {
                assertThat(both.dequantized(o, i)).isEqualTo(a.dequantized(o, i));
            }
            for (int o = 0; o < 5; o++) {
                assertThat(both.dequantized(4 + o, i)).isEqualTo(b.dequantized(o, i));
            }
        }
    }
}
