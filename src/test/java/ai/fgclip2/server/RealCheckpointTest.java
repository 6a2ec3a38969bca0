package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.backends.ModelFiles;
import ai.fgclip2.server.backends.OnnxEngine;
import ai.fgclip2.server.config.Fgclip2Properties;
import ai.fgclip2.server.core.ImagePatches;
import ai.fgclip2.server.core.image.ImagePreprocessor;
import ai.fgclip2.server.core.image.PreprocessedImage;
import ai.fgclip2.server.core.text.TextTokenizer;
import ai.fgclip2.server.core.text.TextWalk;
import ai.fgclip2.server.scoring.Scoring;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opt-in: the official integration-test numbers of fg-clip2-base (fgclip2-inference.md section 8), run only
 * when FGCLIP2_BASE_CHECKPOINT (a download of qihoo360/fg-clip2-base) and FGCLIP2_COCO_39769 (COCO val2017
 * 000000039769.jpg) are set; without them it is reported as skipped, never as passed.
 */
class RealCheckpointTest {
    @TempDir
    Path work;

    @Test
    void officialIntegrationNumbers() throws Exception {
        String checkpoint = System.getenv("FGCLIP2_BASE_CHECKPOINT");
        String image = System.getenv("FGCLIP2_COCO_39769");
        Assumptions.assumeTrue(checkpoint != null && image != null,
                "opt-in: set FGCLIP2_BASE_CHECKPOINT and FGCLIP2_COCO_39769 to check the real fg-clip2-base numbers");
        Manifest manifest = Exporter.export(Path.of(checkpoint), work, new Exporter.Options(Exporter.Precision.FP32, false));
        ModelFiles files = new ModelFiles(work.toRealPath(), manifest, "fg-clip2-base", "real", false);
        try (OnnxEngine engine = new OnnxEngine(files, new Fgclip2Properties.Engine(Fgclip2Properties.Provider.CPU, 0, 0, false), new SimpleMeterRegistry());
             TextTokenizer tokenizer = new TextTokenizer(files.tokenizer(), 64, 196)) {
            byte[] bytes = Files.readAllBytes(Path.of(image));
            float[] caption = Scoring.normalize(engine.text(List.of(tokenizer.tokenize("Two cats sprawl on a pink sofa, blissed out.", TextWalk.SHORT).ids()),
                    OnnxEngine.TextHead.SHORT)[0]);
            float[] remote = Scoring.normalize(engine.text(List.of(tokenizer.tokenize("remote control", TextWalk.BOX).ids()), OnnxEngine.TextHead.BOX)[0]);
            double bestLogitError = Double.MAX_VALUE;
            double bestRegionError = Double.MAX_VALUE;
            // The official test's patch budget is not documented: accept either of the two plausible ones.
            for (int budget : new int[] {256, 1024}) {
                PreprocessedImage prepared = new ImagePreprocessor(50_000_000, 4096).preprocess(bytes, budget);
                OnnxEngine.ImageFeatures features = engine.images(List.of(new ImagePatches(prepared)), true).get(0);
                double logit = Scoring.dot(Scoring.normalize(features.embedding()), caption) * manifest.scores().logitScaleExp() + manifest.scores().logitBias();
                bestLogitError = Math.min(bestLogitError, Math.abs(logit - 7.1313));
                float[][] regions = engine.regions(features.hiddenState(), prepared.grid().rows(), prepared.grid().cols(), prepared.originalHeight(),
                        prepared.originalWidth(), new float[][] {{345, 27, 640, 372}, {41, 74, 177, 118}}).regions();
                double[] cat = {Scoring.dot(Scoring.normalize(regions[0]), remote)};
                double[] remoteBox = {Scoring.dot(Scoring.normalize(regions[1]), remote)};
                // softmax(100 cos) over the two boxes for the one text, as the official test reports it
                double[] p = Scoring.softmax(new double[] {cat[0], remoteBox[0]}, Scoring.BOX_SOFTMAX_SCALE);
                bestRegionError = Math.min(bestRegionError, Math.abs(p[1] - 0.99998));
            }
            assertThat(bestLogitError).isLessThan(1e-2);
            assertThat(bestRegionError).isLessThan(1e-4);
        }
    }
}
