package ai.fgclip2.exporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.ReferenceFixture;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported fp32 graphs, run by ONNX Runtime on CPU, against every tensor the official code produced for
 * the reference fixture (model_cases.json drives the cases; FGCLIP2_FIXTURES selects another fixture).
 */
class ParityTest {
    static final double TOLERANCE = 1e-4;

    @TempDir
    static Path work;
    static ReferenceFixture fixture;
    static ExportedGraphs graphs;

    @BeforeAll
    static void export() throws Exception {
        fixture = ReferenceFixture.load();
        Path exported = work.resolve("export");
        Exporter.export(fixture.checkpointCopy(work.resolve("checkpoint")), exported, new Exporter.Options(Exporter.Precision.FP32, false));
        graphs = new ExportedGraphs(exported);
    }

    @AfterAll
    static void close() throws Exception {
        if (graphs != null) {
            graphs.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> imageDenseAndRegions() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode image : fixture.modelCases().path("vision")) {
            String name = image.path("name").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                ExportedGraphs.VisionOutput out = runVision(graphs, fixture, image);
                assertClose(name + ".image_embeds", out.imageEmbeds(), fixture.floats(name + ".image_embeds"));
                ExportedGraphs.RegionOutput regions = runRegion(graphs, fixture, image, out.lastHiddenState());
                assertClose(name + ".dense", regions.dense(), fixture.floats(name + ".dense"));
                assertClose(name + ".region_embeds", regions.regionEmbeds(), fixture.floats(name + ".region_embeds"));
            }));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> batchedImages() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode batch : fixture.modelCases().path("batched_vision")) {
            String prefix = batch.path("tensors").get(0).asText().split("\\.")[0];
            tests.add(DynamicTest.dynamicTest(prefix + " " + batch.path("images"), () -> {
                long[] mask = fixture.longs(prefix + ".pixel_attention_mask");
                int[] maskInts = Arrays.stream(mask).mapToInt(Math::toIntExact).toArray();
                ExportedGraphs.VisionOutput out = graphs.vision(fixture.floats(prefix + ".pixel_values"), fixture.shape(prefix + ".pixel_values"),
                        maskInts, fixture.longs(prefix + ".spatial_shapes"));
                assertClose(prefix + ".image_embeds", out.imageEmbeds(), fixture.floats(prefix + ".image_embeds"));
            }));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> texts() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode textCase : fixture.modelCases().path("text")) {
            String name = textCase.path("name").asText();
            String walk = textCase.path("walk_type").asText();
            tests.add(DynamicTest.dynamicTest(name + " (" + walk + ")",
                    () -> assertClose(name + ".embeds", graphs.text(fixture.longs(name + ".input_ids"), walk), fixture.floats(name + ".embeds"))));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    /** The score tensors, recomputed from our own embeddings as the fixture's notes describe them. */
    @TestFactory
    Stream<DynamicTest> scores() throws Exception {
        String notes = fixture.modelCases().path("notes").toString();
        JsonNode firstImage = fixture.modelCases().path("vision").get(0);
        ExportedGraphs.VisionOutput image = runVision(graphs, fixture, firstImage);
        float[] regions = runRegion(graphs, fixture, firstImage, image.lastHiddenState()).regionEmbeds();
        int[] globalTexts = indices(notes, "normalize\\(text\\[([0-9,\\s]+)\\]\\)");
        int[] boxTexts = indices(notes, "box texts ([0-9,\\s]+)\\)");
        Manifest.Scores scores = graphs.manifest.scores();
        assertThat(scores.logitScale()).isCloseTo(fixture.floats("logit_scale")[0], org.assertj.core.data.Offset.offset(1e-6));
        assertThat(scores.logitBias()).isCloseTo(fixture.floats("logit_bias")[0], org.assertj.core.data.Offset.offset(1e-6));

        float[] imageUnit = normalized(image.imageEmbeds());
        float[] logits = new float[globalTexts.length];
        float[] sigmoid = new float[globalTexts.length];
        for (int i = 0; i < globalTexts.length; i++) {
            logits[i] = (float) (dot(imageUnit, normalized(textEmbedding(globalTexts[i]))) * scores.logitScaleExp() + scores.logitBias());
            sigmoid[i] = (float) (1 / (1 + Math.exp(-logits[i])));
        }
        int hidden = graphs.manifest.dimensions().hiddenSize();
        int boxCount = regions.length / hidden;
        float[] softmax = new float[boxCount * boxTexts.length];
        for (int b = 0; b < boxCount; b++) {
            float[] regionUnit = normalized(Arrays.copyOfRange(regions, b * hidden, (b + 1) * hidden));
            double[] exps = new double[boxTexts.length];
            double sum = 0;
            for (int t = 0; t < boxTexts.length; t++) {
                // cosines are at most 1, so exp(100 * cos - 100) cannot overflow
                exps[t] = Math.exp(100 * dot(regionUnit, normalized(textEmbedding(boxTexts[t]))) - 100);
                sum += exps[t];
            }
            for (int t = 0; t < boxTexts.length; t++) {
                softmax[b * boxTexts.length + t] = (float) (exps[t] / sum);
            }
        }
        return Stream.of(
                DynamicTest.dynamicTest("score.logits", () -> assertClose("score.logits", logits, fixture.floats("score.logits"))),
                DynamicTest.dynamicTest("score.sigmoid", () -> assertClose("score.sigmoid", sigmoid, fixture.floats("score.sigmoid"))),
                DynamicTest.dynamicTest("score.region_softmax100", () -> assertClose("score.region_softmax100", softmax, fixture.floats("score.region_softmax100"))));
    }

    private static float[] textEmbedding(int textIndex) throws Exception {
        JsonNode textCase = fixture.modelCases().path("text").get(textIndex);
        return graphs.text(fixture.longs(textCase.path("name").asText() + ".input_ids"), textCase.path("walk_type").asText());
    }

    static ExportedGraphs.VisionOutput runVision(ExportedGraphs graphs, ReferenceFixture fixture, JsonNode image) throws Exception {
        String name = image.path("name").asText();
        return graphs.vision(fixture.floats(name + ".pixel_values"), (int) fixture.shape(name + ".pixel_values")[1],
                image.path("spatial_shape").get(0).asLong(), image.path("spatial_shape").get(1).asLong());
    }

    static ExportedGraphs.RegionOutput runRegion(ExportedGraphs graphs, ReferenceFixture fixture, JsonNode image, float[] lastHiddenState) throws Exception {
        String name = image.path("name").asText();
        return graphs.region(lastHiddenState, image.path("spatial_shape").get(0).asLong(), image.path("spatial_shape").get(1).asLong(),
                image.path("image_size_hw").get(0).floatValue(), image.path("image_size_hw").get(1).floatValue(), fixture.floats(name + ".boxes"));
    }

    static int[] indices(String notes, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(notes);
        assertThat(matcher.find()).as("fixture notes describe %s", regex).isTrue();
        return Stream.of(matcher.group(1).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    static float[] normalized(float[] v) {
        double norm = Math.sqrt(dot(v, v));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / norm);
        }
        return out;
    }

    static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    static void assertClose(String what, float[] actual, float[] expected) {
        assertThat(actual.length).as(what + " length").isEqualTo(expected.length);
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < actual.length; i++) {
            double diff = Math.abs(actual[i] - expected[i]);
            if (!(diff <= worst)) {
                worst = diff;
                worstIndex = i;
            }
        }
        System.out.printf("parity %-32s max |diff| = %.3g%n", what, worst);
        assertThat(worst).as("%s: max |diff| at %d", what, worstIndex).isLessThanOrEqualTo(TOLERANCE);
    }
}
