package ai.fgclip2.server.clip;

import ai.fgclip2.exporter.synth.BundledTokenizer;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.DecodeBudget;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.ImagePatches;
import ai.fgclip2.server.pipeline.RegionEncoder;
import ai.fgclip2.server.pipeline.TextEncoder;
import ai.fgclip2.server.pipeline.batch.BatcherConfig;
import ai.fgclip2.server.pipeline.image.ImagePreprocessor;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextEmbeddingCache;
import ai.fgclip2.server.pipeline.text.TextTokenizer;
import ai.fgclip2.server.pipeline.text.TextWalk;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.imageio.ImageIO;

/** The real pipeline (Gemma tokenizer, decoder, batchers) over a {@link FakeEngine}: what the use-case tests run on. */
final class ClipTestKit implements AutoCloseable {
    static final double LOGIT_SCALE = Math.log(10);
    static final double LOGIT_BIAS = -2;
    private static final Path TOKENIZER = bundledTokenizer();

    final FakeEngine engine = new FakeEngine();
    final TextTokenizer tokenizer;
    final ImagePreprocessor preprocessor = new ImagePreprocessor(50_000_000L, 4096);
    final TextEncoder texts;
    final ImageEncoder images;
    final ClipPipeline pipeline;
    final Vocabularies vocabularies;

    ClipTestKit() {
        try {
            tokenizer = new TextTokenizer(TOKENIZER, 64, 196);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        texts = new TextEncoder(tokenizer, engine, new TextEmbeddingCache(1000, "test", registry),
                new BatcherConfig("text", 32, Duration.ofMillis(1), 10_000, 1), registry);
        images = new ImageEncoder(preprocessor, new DecodeBudget(DecodeBudget.halfOfHeap(), 40_000_000L, Duration.ofMinutes(1)), engine, new BatcherConfig("image", 8, Duration.ofMillis(1), 256, 1), registry);
        pipeline = new ClipPipeline(texts, images, new RegionEncoder(images, engine),
                new InputChecks(new Limits(64, 4096, 2048, 65536, 256, 4096, 32, Duration.ofMinutes(1), 160_000_000L, 65536, 10_000)), new SiglipScores(LOGIT_SCALE, LOGIT_BIAS), engine);
        vocabularies = vocabularies(MODEL);
    }

    static final Vocabulary.ModelKey MODEL = new Vocabulary.ModelKey("fake", "rev1", "fp32");

    /** Vocabularies of this kit's pipeline in a fresh folder, as seen by a model with {@code key}. */
    Vocabularies vocabularies(Vocabulary.ModelKey key) {
        try {
            return vocabularies(key, Files.createTempDirectory("fgclip2-vocabularies"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Vocabularies vocabularies(Vocabulary.ModelKey key, Path directory) {
        return new Vocabularies(new VocabularyBuilder(pipeline, key), pipeline.checks(), directory);
    }

    /** The fake's raw text embedding of one text in one walk, through the real tokenizer. */
    float[] rawText(String text, TextWalk walk) {
        var tokenized = tokenizer.tokenize(text, walk);
        return FakeEngine.textVector(tokenized.ids(), head(tokenized.walk()));
    }

    static InferenceEngine.TextHead head(TextWalk walk) {
        return InferenceEngine.TextHead.valueOf(walk.name());
    }

    /** The fake's raw global embedding of an image as the pipeline preprocesses it. */
    float[] rawImage(byte[] png) {
        PreprocessedImage image = preprocessor.preprocess(png, null);
        return engine.images(java.util.List.of(new ImagePatches(image)), false).get(0).embedding();
    }

    /** The fake's raw region vector of one (already clipped) box of an image. */
    float[] rawRegion(byte[] png, float[] box) {
        PreprocessedImage image = preprocessor.preprocess(png, null);
        float[] hidden = engine.images(java.util.List.of(new ImagePatches(image)), true).get(0).hiddenState();
        return FakeEngine.regionVector(hidden, box);
    }

    static byte[] png(int width, int height, int seed) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, ((x * seed) & 0xff) << 16 | ((y * 7 + seed) & 0xff) << 8 | ((x + y + seed) & 0xff));
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path bundledTokenizer() {
        try {
            Path directory = Files.createTempDirectory("fgclip2-clip-test");
            Path tokenizer = directory.resolve("tokenizer.json");
            BundledTokenizer.writeTo(tokenizer);
            return tokenizer;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        vocabularies.close();
        texts.close();
        images.close();
        tokenizer.close();
    }
}
