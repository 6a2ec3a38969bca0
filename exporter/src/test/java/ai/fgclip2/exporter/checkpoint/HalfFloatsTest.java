package ai.fgclip2.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Conversions checked against the IEEE definitions, evaluated independently with Math.scalb. */
class HalfFloatsTest {

    /** (-1)^s * 2^(e - bias) * (1 + m / 2^mantissaBits), or the subnormal/inf/NaN cases. */
    private static float ieee(int bits, int exponentBits, int mantissaBits) {
        int bias = (1 << (exponentBits - 1)) - 1;
        int sign = (bits >>> (exponentBits + mantissaBits)) & 1;
        int exponent = (bits >>> mantissaBits) & ((1 << exponentBits) - 1);
        int mantissa = bits & ((1 << mantissaBits) - 1);
        double magnitude;
        if (exponent == (1 << exponentBits) - 1) {
            magnitude = mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exponent == 0) {
            magnitude = Math.scalb((double) mantissa, 1 - bias - mantissaBits);
        } else {
            magnitude = Math.scalb(1 + Math.scalb((double) mantissa, -mantissaBits), exponent - bias);
        }
        return (float) (sign == 1 ? -magnitude : magnitude);
    }

    @Test
    void knownHalfBitPatterns() {
        assertThat(HalfFloats.halfToFloat((short) 0x3C00)).isEqualTo(1.0f);
        assertThat(HalfFloats.halfToFloat((short) 0xC000)).isEqualTo(-2.0f);
        assertThat(HalfFloats.halfToFloat((short) 0x0001)).isEqualTo((float) Math.pow(2, -24));
        assertThat(HalfFloats.halfToFloat((short) 0x03FF)).isEqualTo((float) (1023 * Math.pow(2, -24)));
        assertThat(HalfFloats.halfToFloat((short) 0x7BFF)).isEqualTo(65504f);
        assertThat(HalfFloats.halfToFloat((short) 0x3555)).isEqualTo(0.333251953125f);
        assertThat(HalfFloats.halfToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfFloats.halfToFloat((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(HalfFloats.halfToFloat((short) 0x7E00)).isNaN();
        assertThat(Float.floatToRawIntBits(HalfFloats.halfToFloat((short) 0x8000))).isEqualTo(0x80000000);
    }

    @Test
    void everyHalfMatchesTheIeeeDefinition() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float expected = ieee(bits, 5, 10);
            float actual = HalfFloats.halfToFloat((short) bits);
            if (Float.isNaN(expected)) {
                assertThat(actual).as("0x%04x", bits).isNaN();
            } else {
                assertThat(Float.floatToRawIntBits(actual)).as("0x%04x", bits).isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    @Test
    void knownBfloat16BitPatterns() {
        assertThat(HalfFloats.bfloat16ToFloat((short) 0x3F80)).isEqualTo(1.0f);
        assertThat(HalfFloats.bfloat16ToFloat((short) 0xC000)).isEqualTo(-2.0f);
        assertThat(HalfFloats.bfloat16ToFloat((short) 0x0001)).isEqualTo((float) Math.pow(2, -133));
        assertThat(HalfFloats.bfloat16ToFloat((short) 0x7F80)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfFloats.bfloat16ToFloat((short) 0x7FC0)).isNaN();
    }

    @Test
    void everyBfloat16MatchesTheIeeeDefinition() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float expected = ieee(bits, 8, 7);
            float actual = HalfFloats.bfloat16ToFloat((short) bits);
            if (Float.isNaN(expected)) {
                assertThat(actual).as("0x%04x", bits).isNaN();
            } else {
                assertThat(Float.floatToRawIntBits(actual)).as("0x%04x", bits).isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    @Test
    void floatToHalfRoundsToNearestEven() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float value = ieee(bits, 5, 10);
            if (!Float.isNaN(value)) {
                assertThat(HalfFloats.floatToHalf(value) & 0xffff).as("0x%04x", bits).isEqualTo(bits);
            }
        }
        float ulpAtOne = (float) Math.pow(2, -10);
        assertThat(HalfFloats.floatToHalf(1 + ulpAtOne / 2)).isEqualTo((short) 0x3C00); // tie to even (down)
        assertThat(HalfFloats.floatToHalf(1 + 1.5f * ulpAtOne)).isEqualTo((short) 0x3C02); // tie to even (up)
        assertThat(HalfFloats.floatToHalf(1 + 0.51f * ulpAtOne)).isEqualTo((short) 0x3C01);
        assertThat(HalfFloats.floatToHalf((float) Math.pow(2, -25))).isEqualTo((short) 0x0000); // tie below the smallest subnormal
        assertThat(HalfFloats.floatToHalf((float) (1.5 * Math.pow(2, -24)))).isEqualTo((short) 0x0002);
        assertThat(HalfFloats.floatToHalf((float) (2.5 * Math.pow(2, -24)))).isEqualTo((short) 0x0002);
        assertThat(HalfFloats.floatToHalf((float) -(2.51 * Math.pow(2, -24)))).isEqualTo((short) 0x8003);
        assertThat(HalfFloats.floatToHalf((float) (1023.5 * Math.pow(2, -24)))).isEqualTo((short) 0x0400); // up to the smallest normal
        assertThat(HalfFloats.floatToHalf(65520f)).isEqualTo((short) 0x7C00); // rounds past max half
        assertThat(HalfFloats.floatToHalf(65519f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.halfToFloat(HalfFloats.floatToHalf(Float.NaN))).isNaN();
    }

    @Test
    void floatToBfloat16RoundsToNearestEven() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float value = ieee(bits, 8, 7);
            if (!Float.isNaN(value)) {
                assertThat(HalfFloats.floatToBfloat16(value) & 0xffff).as("0x%04x", bits).isEqualTo(bits);
            }
        }
        float ulpAtOne = (float) Math.pow(2, -7);
        assertThat(HalfFloats.floatToBfloat16(1 + ulpAtOne / 2)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.floatToBfloat16(1 + 1.5f * ulpAtOne)).isEqualTo((short) 0x3F82);
        assertThat(HalfFloats.floatToBfloat16(-(1 + 0.51f * ulpAtOne))).isEqualTo((short) 0xBF81);
        assertThat(HalfFloats.floatToBfloat16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        assertThat(HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16(Float.NaN))).isNaN();
        assertThat(HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x7f800001)))).isNaN();
    }
}
