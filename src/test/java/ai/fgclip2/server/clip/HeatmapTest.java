package ai.fgclip2.server.clip;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.pipeline.image.RgbImage;
import org.junit.jupiter.api.Test;

/** Heatmap values worked out by hand: bilinear between cell centres, clamped at the borders, over a black image. */
class HeatmapTest {

    /** Red channel of a black image blended with the ramp: round(255 * heat) / 2. */
    private static int[] redRow(RgbImage image) {
        int[] out = new int[image.width()];
        for (int x = 0; x < out.length; x++) {
            out[x] = image.sample(x, 0, 0);
        }
        return out;
    }

    @Test
    void twoCellsAcrossFourPixelsInterpolateBetweenCellCentres() {
        // pixel centres 0.5, 1.5, 2.5, 3.5 fall at grid positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
        RgbImage drawn = Heatmap.draw(new RgbImage(4, 1, new byte[12]), new float[][] {{0f, 1f}}, new Heatmap.Range(0, 1));
        // heat 0, 0.25, 0.75, 1 -> 255 * heat = 0, 63.75, 191.25, 255 -> rounded 0, 64, 191, 255 -> halved 0, 32, 95, 127
        assertThat(redRow(drawn)).containsExactly(0, 32, 95, 127);
    }

    @Test
    void aFixedRangeClampsAndAFlatMapIsMidRamp() {
        RgbImage black = new RgbImage(2, 1, new byte[6]);
        // on the cosine scale -1..1 the values 0 and 1 are half and full heat
        assertThat(redRow(Heatmap.draw(black, new float[][] {{0f, 2f}}, new Heatmap.Range(-1, 1)))).containsExactly(64, 127);
        assertThat(redRow(Heatmap.draw(black, new float[][] {{0.3f}}, Heatmap.Range.of(new float[][] {{0.3f}})))).containsExactly(64, 64);
    }

    @Test
    void theOutputHasTheImagesSize() {
        RgbImage drawn = Heatmap.draw(new RgbImage(640, 427, new byte[640 * 427 * 3]), new float[18][24], new Heatmap.Range(-1, 1));
        assertThat(drawn.width()).isEqualTo(640);
        assertThat(drawn.height()).isEqualTo(427);
    }
}
