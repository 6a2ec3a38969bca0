package ai.fgclip2.server.pipeline.image;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageReader;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Not a test: decode time of images whose cost is not bounded by their size in bytes (issue 9 item 2), e.g.
 * {@code java -cp target/classes:target/test-classes:<deps> ai.fgclip2.server.pipeline.image.DecodeCost [--before] [file...]}.
 * Built-in cases are made by {@link HostileImages}; files (JPEG with many scans, say) are timed too. With
 * {@code --before}, the 2000x2000 zero-cost WebP is also read the way the decoder did before the fix (ImageIO's
 * memory-cache stream, no padding); at 6000x6000 that took 88 s in the report. Prints the median of 3 runs after one warm-up.
 */
public final class DecodeCost {
    private record Case(String name, byte[] data) {
    }

    public static void main(String[] args) throws Exception {
        boolean before = false;
        List<Case> cases = new ArrayList<>();
        for (int side : new int[] {2000, 6000}) {
            cases.add(new Case("lossless WebP, zero-length codes, " + side + "x" + side, HostileImages.solidLosslessWebp(side, side, 200, 100, 50)));
        }
        cases.add(new Case("WebP 1x1 canvas around a 16383x16383 image",
                HostileImages.riff(HostileImages.vp8x(0, 1, 1), HostileImages.vp8lSolid(16383, 16383, 9, 9, 9))));
        for (String arg : args) {
            if (arg.equals("--before")) {
                before = true;
            } else {
                cases.add(new Case(arg, Files.readAllBytes(Path.of(arg))));
            }
        }
        ImageDecoder decoder = new ImageDecoder(40_000_000L);
        System.out.printf("%-60s %9s %12s %10s  %s%n", "case", "bytes", "pixels", "median s", "result");
        for (Case c : cases) {
            String[] result = new String[1];
            double seconds = median(() -> {
                try {
                    RgbImage image = decoder.decode(c.data());
                    result[0] = image.width() + "x" + image.height();
                } catch (ImageDecodeException e) {
                    result[0] = e.reason() + ": " + e.getMessage();
                }
            });
            long pixels = declaredPixels(c.data());
            System.out.printf("%-60s %9d %12d %10.3f  %s%n", c.name(), c.data().length, pixels, seconds, result[0]);
            if (before && c.name().startsWith("lossless WebP") && pixels <= 4_000_000) {
                double old = time(() -> readAsBefore(c.data()));
                System.out.printf("%-60s %9d %12d %10.3f  (one run)%n", "  before: ImageIO memory-cache stream, no padding", c.data().length, pixels, old);
            }
        }
    }

    private static long declaredPixels(byte[] data) {
        try {
            return ImageHeader.read(data).pixels();
        } catch (ImageDecodeException e) {
            return -1;
        }
    }

    private static void readAsBefore(byte[] data) {
        ImageReader reader = ImageFormat.WEBP.newReader();
        try (MemoryCacheImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, false, true);
            PillowRgb.fromBufferedImage(reader.read(0), "WebP", false);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            reader.dispose();
        }
    }

    private static double median(Runnable run) {
        time(run);
        double[] runs = {time(run), time(run), time(run)};
        java.util.Arrays.sort(runs);
        return runs[1];
    }

    private static double time(Runnable run) {
        long start = System.nanoTime();
        run.run();
        return (System.nanoTime() - start) / 1e9;
    }
}
