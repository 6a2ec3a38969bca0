package ai.fgclip2.server.pipeline.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Not a test: a rough timing of the whole preprocessing of one image (decode, RGB, resize, patchify into a
 * direct buffer), e.g. {@code java -cp target/classes:target/test-classes:<deps> ai.fgclip2.server.pipeline.image.PreprocessTiming [file]}.
 * Defaults to the 1920x1080 PNG of the fixtures.
 *
 * <p>Measured on the 2-core development machine (shared, so noisy): the 3 MB noise-filled 1920x1080 PNG takes
 * about 125-140 ms in all, of which 110-120 ms is ImageIO's PNG decoding and 15-20 ms the resize to 672x384
 * and the patches; a 1920x1080 JPEG (quality 90) about 60 ms. Pillow on the same machine: 82 ms to decode
 * the PNG, 11 ms to resize it.
 */
public final class PreprocessTiming {
    public static void main(String[] args) throws Exception {
        Path file = args.length > 0 ? Path.of(args[0]) : Fixtures.tiny().resolve("images/hd_1920x1080.png");
        byte[] data = Files.readAllBytes(file);
        ImagePreprocessor preprocessor = new ImagePreprocessor(100_000_000L, 16384);
        ImageDecoder decoder = new ImageDecoder(100_000_000L);
        FloatBuffer tensor = ByteBuffer.allocateDirect(1024 * Patchifier.VALUES_PER_PATCH * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        int warmup = 15;
        int runs = 30;
        long decodeNanos = 0;
        long totalNanos = 0;
        PreprocessedImage image = null;
        for (int i = 0; i < warmup + runs; i++) {
            long t0 = System.nanoTime();
            RgbImage decoded = decoder.decode(data);
            long t1 = System.nanoTime();
            image = preprocessor.preprocess(decoded, null);
            tensor.clear();
            image.writePatches(tensor);
            long t2 = System.nanoTime();
            if (i >= warmup) {
                decodeNanos += t1 - t0;
                totalNanos += t2 - t0;
            }
        }
        System.out.printf("%s (%d bytes): %dx%d -> grid %dx%d; mean of %d runs after %d warm-up: decode+RGB %.1f ms,"
                        + " whole preprocess %.1f ms%n", file.getFileName(), data.length, image.originalWidth(),
                image.originalHeight(), image.grid().rows(), image.grid().cols(), runs, warmup, decodeNanos / 1e6 / runs,
                totalNanos / 1e6 / runs);
    }
}
