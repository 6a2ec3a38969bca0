package ai.fgclip2.server.pipeline.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NaflexResizeTest {
    /** The worked examples of docs/model.md, "Image" (NaFlex target size). */
    @ParameterizedTest(name = "{0}x{1} @{2} -> {3}x{4}")
    @CsvSource({
        "640, 480, 1024, 27, 36",
        "640, 480, 256, 14, 18",
        "224, 224, 256, 16, 16",
        "100, 100, 128, 11, 11",
        "300, 200, 256, 13, 19",
        "800, 200, 784, 14, 56",
        "1920, 1080, 1024, 24, 42",
    })
    void documentedExamples(int width, int height, int budget, int rows, int cols) {
        assertThat(NaflexResize.targetGrid(width, height, budget)).isEqualTo(new GridSize(rows, cols));
    }

    @Test
    void documentedExamplePixelSize() {
        GridSize grid = NaflexResize.targetGrid(640, 480, 1024);
        assertThat(grid.pixelHeight()).isEqualTo(432);
        assertThat(grid.pixelWidth()).isEqualTo(576);
    }

    @Test
    void extremeAspectRatiosKeepAtLeastOnePatchPerSideAndStayWithinBudget() {
        for (int budget : new int[] {1, 128, 1024, 16384}) {
            for (int[] size : new int[][] {{1, 1}, {1, 20000}, {20000, 1}, {7, 3000}, {40000, 30000}}) {
                GridSize grid = NaflexResize.targetGrid(size[0], size[1], budget);
                assertThat(grid.rows()).isPositive();
                assertThat(grid.cols()).isPositive();
                // one patch per side is the floor even when it exceeds the budget along the long side
                if (grid.rows() > 1 && grid.cols() > 1) {
                    assertThat(grid.patchCount()).isLessThanOrEqualTo(budget);
                }
            }
        }
    }

    /** The bucket rule's thresholds, on both sides of each (n = (W/16)*(H/16)). */
    @ParameterizedTest(name = "n={0}x{1} -> {2}")
    @CsvSource({
        "1, 1, 128",
        "8, 16, 128",    // n = 128
        "1, 129, 256",   // n = 129
        "16, 16, 256",   // n = 256
        "1, 257, 576",
        "24, 24, 576",   // n = 576
        "1, 577, 784",
        "28, 28, 784",   // n = 784
        "1, 785, 1024",
        "200, 200, 1024",
    })
    void bucketRule(int patchesWide, int patchesHigh, int budget) {
        // 15 extra pixels never add a patch: the rule divides with truncation
        assertThat(PatchBudget.forImage(patchesWide * 16 + 15, patchesHigh * 16 + 15)).isEqualTo(budget);
        assertThat(PatchBudget.forImage(patchesWide * 16, patchesHigh * 16)).isEqualTo(budget);
    }

    @Test
    void smallerThanOnePatchUsesTheSmallestBucket() {
        assertThat(PatchBudget.forImage(15, 100000)).isEqualTo(128);
    }

    @Test
    void overrideIsValidated() {
        assertThat(PatchBudget.resolve(640, 480, null, 4096)).isEqualTo(1024);
        assertThat(PatchBudget.resolve(640, 480, 256, 4096)).isEqualTo(256);
        assertThat(PatchBudget.resolve(640, 480, 4096, 4096)).isEqualTo(4096);
        for (int bad : new int[] {0, -1, 4097, Integer.MAX_VALUE}) {
            assertThatThrownBy(() -> PatchBudget.resolve(640, 480, bad, 4096))
                    .isInstanceOfSatisfying(InvalidPatchBudgetException.class, e -> {
                        assertThat(e.requested()).isEqualTo(bad);
                        assertThat(e.maximum()).isEqualTo(4096);
                    });
        }
    }
}
