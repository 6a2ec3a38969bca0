package ai.fgclip2.exporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.ReferenceFixture;
import ai.fgclip2.exporter.graph.RegionGraph;
import ai.fgclip2.exporter.graph.TextGraph;
import ai.fgclip2.exporter.graph.VisionGraph;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    static Manifest manifest;
    static OrtEnvironment environment;
    static OrtSession text;
    static OrtSession vision;
    static OrtSession region;

    @BeforeAll
    static void export() throws OrtException {
        fixture = ReferenceFixture.load();
        Path exported = work.resolve("export");
        manifest = Exporter.export(fixture.checkpointCopy(work.resolve("checkpoint")), exported,
                new Exporter.Options(Exporter.Precision.FP32, false));
        environment = OrtEnvironment.getEnvironment();
        text = GraphSessions.open(environment, exported, manifest, Exporter.TEXT, new OrtSession.SessionOptions());
        vision = GraphSessions.open(environment, exported, manifest, Exporter.VISION, new OrtSession.SessionOptions());
        region = GraphSessions.open(environment, exported, manifest, Exporter.REGION, new OrtSession.SessionOptions());
    }

    @AfterAll
    static void close() throws OrtException {
        for (OrtSession session : new OrtSession[] {text, vision, region}) {
            if (session != null) {
                session.close();
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> imageDenseAndRegions() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode image : fixture.modelCases().path("vision")) {
            String name = image.path("name").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                VisionOutput out = runVision(name, image);
                assertClose(name + ".image_embeds", out.imageEmbeds(), fixture.floats(name + ".image_embeds"));
                RegionOutput regions = runRegion(name, image, out.lastHiddenState());
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
            String prefix = tensorPrefix(batch);
            tests.add(DynamicTest.dynamicTest(prefix + " " + batch.path("images"), () -> {
                long[] pixelShape = fixture.shape(prefix + ".pixel_values");
                long[] mask = fixture.longs(prefix + ".pixel_attention_mask");
                int[] maskInts = new int[mask.length];
                for (int i = 0; i < mask.length; i++) {
                    maskInts[i] = (int) mask[i];
                }
                try (OnnxTensor pixels = OnnxTensor.createTensor(environment, FloatBuffer.wrap(fixture.floats(prefix + ".pixel_values")), pixelShape);
                     OnnxTensor maskTensor = OnnxTensor.createTensor(environment, IntBuffer.wrap(maskInts), new long[] {pixelShape[0], pixelShape[1]});
                     OnnxTensor shapes = OnnxTensor.createTensor(environment, LongBuffer.wrap(fixture.longs(prefix + ".spatial_shapes")), new long[] {pixelShape[0], 2});
                     OrtSession.Result result = vision.run(Map.of(VisionGraph.PIXEL_VALUES, pixels, VisionGraph.PIXEL_ATTENTION_MASK, maskTensor, VisionGraph.SPATIAL_SHAPES, shapes),
                             java.util.Set.of(VisionGraph.IMAGE_EMBEDS))) {
                    assertClose(prefix + ".image_embeds", flatten(result.get(0)), fixture.floats(prefix + ".image_embeds"));
                }
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
            tests.add(DynamicTest.dynamicTest(name + " (" + walk + ")", () -> {
                float[] embeds = runText(fixture.longs(name + ".input_ids"), walk);
                assertClose(name + ".embeds", embeds, fixture.floats(name + ".embeds"));
            }));
        }
        assertThat(tests).isNotEmpty();
        return tests.stream();
    }

    /** The score tensors, recomputed from our own embeddings as the fixture's notes describe them. */
    @TestFactory
    Stream<DynamicTest> scores() throws Exception {
        String notes = fixture.modelCases().path("notes").toString();
        JsonNode firstImage = fixture.modelCases().path("vision").get(0);
        String firstName = firstImage.path("name").asText();
        VisionOutput image = runVision(firstName, firstImage);
        float[] regions = runRegion(firstName, firstImage, image.lastHiddenState()).regionEmbeds();
        int[] globalTexts = indices(notes, "normalize\\(text\\[([0-9,\\s]+)\\]\\)");
        int[] boxTexts = indices(notes, "box texts ([0-9,\\s]+)\\)");
        JsonNode textCases = fixture.modelCases().path("text");
        double scale = Math.exp(manifest.scores().logitScale());
        assertThat(scale).isCloseTo(Math.exp(fixture.floats("logit_scale")[0]), org.assertj.core.data.Offset.offset(1e-6));

        float[] logits = new float[globalTexts.length];
        float[] sigmoid = new float[globalTexts.length];
        float[] imageUnit = normalized(image.imageEmbeds());
        for (int i = 0; i < globalTexts.length; i++) {
            JsonNode textCase = textCases.get(globalTexts[i]);
            float[] textUnit = normalized(runText(fixture.longs(textCase.path("name").asText() + ".input_ids"), textCase.path("walk_type").asText()));
            logits[i] = (float) (dot(imageUnit, textUnit) * scale + manifest.scores().logitBias());
            sigmoid[i] = (float) (1 / (1 + Math.exp(-logits[i])));
        }
        int hidden = manifest.dimensions().hiddenSize();
        int boxCount = regions.length / hidden;
        float[] softmax = new float[boxCount * boxTexts.length];
        List<float[]> boxTextUnits = new ArrayList<>();
        for (int t : boxTexts) {
            JsonNode textCase = textCases.get(t);
            boxTextUnits.add(normalized(runText(fixture.longs(textCase.path("name").asText() + ".input_ids"), textCase.path("walk_type").asText())));
        }
        for (int b = 0; b < boxCount; b++) {
            float[] regionUnit = normalized(java.util.Arrays.copyOfRange(regions, b * hidden, (b + 1) * hidden));
            double[] scaled = new double[boxTexts.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < boxTexts.length; t++) {
                scaled[t] = 100 * dot(regionUnit, boxTextUnits.get(t));
                max = Math.max(max, scaled[t]);
            }
            double sum = 0;
            for (int t = 0; t < boxTexts.length; t++) {
                sum += Math.exp(scaled[t] - max);
            }
            for (int t = 0; t < boxTexts.length; t++) {
                softmax[b * boxTexts.length + t] = (float) (Math.exp(scaled[t] - max) / sum);
            }
        }
        return Stream.of(
                DynamicTest.dynamicTest("score.logits", () -> assertClose("score.logits", logits, fixture.floats("score.logits"))),
                DynamicTest.dynamicTest("score.sigmoid", () -> assertClose("score.sigmoid", sigmoid, fixture.floats("score.sigmoid"))),
                DynamicTest.dynamicTest("score.region_softmax100", () -> assertClose("score.region_softmax100", softmax, fixture.floats("score.region_softmax100"))));
    }

    record VisionOutput(float[] imageEmbeds, float[] lastHiddenState) {
    }

    record RegionOutput(float[] dense, float[] regionEmbeds) {
    }

    static VisionOutput runVision(String name, JsonNode image) throws OrtException {
        long[] pixelShape = fixture.shape(name + ".pixel_values");
        int patches = (int) pixelShape[0];
        int[] mask = new int[patches];
        java.util.Arrays.fill(mask, 1);
        long[] spatial = {image.path("spatial_shape").get(0).asLong(), image.path("spatial_shape").get(1).asLong()};
        try (OnnxTensor pixels = OnnxTensor.createTensor(environment, FloatBuffer.wrap(fixture.floats(name + ".pixel_values")), new long[] {1, patches, pixelShape[1]});
             OnnxTensor maskTensor = OnnxTensor.createTensor(environment, IntBuffer.wrap(mask), new long[] {1, patches});
             OnnxTensor shapes = OnnxTensor.createTensor(environment, LongBuffer.wrap(spatial), new long[] {1, 2});
             OrtSession.Result result = vision.run(Map.of(VisionGraph.PIXEL_VALUES, pixels, VisionGraph.PIXEL_ATTENTION_MASK, maskTensor, VisionGraph.SPATIAL_SHAPES, shapes))) {
            return new VisionOutput(flatten(result.get(VisionGraph.IMAGE_EMBEDS).get()), flatten(result.get(VisionGraph.LAST_HIDDEN_STATE).get()));
        }
    }

    static RegionOutput runRegion(String name, JsonNode image, float[] lastHiddenState) throws OrtException {
        long[] spatial = {image.path("spatial_shape").get(0).asLong(), image.path("spatial_shape").get(1).asLong()};
        float[] imageSize = {image.path("image_size_hw").get(0).floatValue(), image.path("image_size_hw").get(1).floatValue()};
        long[] boxShape = fixture.shape(name + ".boxes");
        int hidden = lastHiddenState.length / (int) (spatial[0] * spatial[1]);
        try (OnnxTensor hiddenState = OnnxTensor.createTensor(environment, FloatBuffer.wrap(lastHiddenState), new long[] {spatial[0] * spatial[1], hidden});
             OnnxTensor shape = OnnxTensor.createTensor(environment, LongBuffer.wrap(spatial), new long[] {2});
             OnnxTensor size = OnnxTensor.createTensor(environment, FloatBuffer.wrap(imageSize), new long[] {2});
             OnnxTensor boxes = OnnxTensor.createTensor(environment, FloatBuffer.wrap(fixture.floats(name + ".boxes")), boxShape);
             OrtSession.Result result = region.run(Map.of(RegionGraph.HIDDEN_STATE, hiddenState, RegionGraph.SPATIAL_SHAPE, shape, RegionGraph.IMAGE_SIZE, size, RegionGraph.BOXES, boxes))) {
            return new RegionOutput(flatten(result.get(RegionGraph.DENSE).get()), flatten(result.get(RegionGraph.REGION_EMBEDS).get()));
        }
    }

    static float[] runText(long[] ids, String walk) throws OrtException {
        String output = switch (walk) {
            case "short" -> TextGraph.SHORT_EMBEDS;
            case "box" -> TextGraph.BOX_EMBEDS;
            case "long" -> TextGraph.LONG_EMBEDS;
            default -> throw new IllegalArgumentException("unknown walk_type " + walk);
        };
        try (OnnxTensor input = OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), new long[] {1, ids.length});
             OrtSession.Result result = text.run(Map.of(TextGraph.INPUT_IDS, input), java.util.Set.of(output))) {
            return flatten(result.get(0));
        }
    }

    static String tensorPrefix(JsonNode batch) {
        return batch.path("tensors").get(0).asText().split("\\.")[0];
    }

    static float[] flatten(ai.onnxruntime.OnnxValue value) {
        FloatBuffer buffer = ((OnnxTensor) value).getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
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
        assertThat(worst).as("%s: max |diff| at %d (actual %s, expected %s)", what, worstIndex,
                worstIndex >= 0 ? actual[worstIndex] : 0, worstIndex >= 0 ? expected[worstIndex] : 0).isLessThanOrEqualTo(TOLERANCE);
    }
}
