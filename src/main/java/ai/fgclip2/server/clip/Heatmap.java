package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.image.RgbImage;

/**
 * A similarity map drawn over the image it belongs to, at the image's own size: the grid is upsampled
 * bilinearly between cell centres (so it is smooth, not blocky), mapped onto a blue (low) to red (high) ramp
 * over a {@link Range}, and half-blended with the image.
 */
public final class Heatmap {

    /** Similarities from min to max: a map's own range, or the values at the ends of the ramp (outside: clamped). */
    public record Range(double min, double max) {
        public static Range of(float[][] map) {
            double low = Double.POSITIVE_INFINITY;
            double high = Double.NEGATIVE_INFINITY;
            for (float[] row : map) {
                for (float v : row) {
                    low = Math.min(low, v);
                    high = Math.max(high, v);
                }
            }
            return new Range(low, high);
        }
    }

    private Heatmap() {
    }

    /** @param map [rows][cols] cell values over the whole image, row-major, top-left first */
    public static RgbImage draw(RgbImage image, float[][] map, Range scale) {
        int width = image.width();
        int height = image.height();
        int rows = map.length;
        int cols = map[0].length;
        byte[] in = image.pixels();
        byte[] out = new byte[in.length];
        double range = scale.max() - scale.min();
        for (int y = 0; y < height; y++) {
            // position in grid units relative to cell centres: pixel centre (y + 0.5) over cells of height/rows
            double gy = clamp((y + 0.5) * rows / height - 0.5, rows - 1);
            int r0 = (int) gy;
            int r1 = Math.min(r0 + 1, rows - 1);
            double fy = gy - r0;
            for (int x = 0; x < width; x++) {
                double gx = clamp((x + 0.5) * cols / width - 0.5, cols - 1);
                int c0 = (int) gx;
                int c1 = Math.min(c0 + 1, cols - 1);
                double fx = gx - c0;
                double value = (1 - fy) * ((1 - fx) * map[r0][c0] + fx * map[r0][c1]) + fy * ((1 - fx) * map[r1][c0] + fx * map[r1][c1]);
                // a flat map (zero range) is drawn mid-ramp
                double heat = range > 0 ? Math.max(0, Math.min(1, (value - scale.min()) / range)) : 0.5;
                int i = 3 * (y * width + x);
                out[i] = blend(in[i], heat);
                out[i + 1] = blend(in[i + 1], 1 - Math.abs(2 * heat - 1));
                out[i + 2] = blend(in[i + 2], 1 - heat);
            }
        }
        return new RgbImage(width, height, out);
    }

    private static double clamp(double v, int max) {
        return Math.max(0, Math.min(max, v));
    }

    private static byte blend(byte pixel, double ramp) {
        return (byte) (((pixel & 0xff) + (int) Math.round(255 * ramp)) / 2);
    }
}
