package ai.fgclip2.server.clip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScoringTest {
    private static final double TOLERANCE = 1e-5;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ScoringTest.class.getResource(name).toURI());
    }

    private static float[] row(float[] matrix, int columns, int row) {
        return Arrays.copyOfRange(matrix, row * columns, (row + 1) * columns);
    }

    @Test
    void siglipLogitsAndSigmoidsMatchTheReference() throws Exception {
        Path tiny = resource("/fixtures/fgclip2-tiny");
        SafetensorsFile weights = SafetensorsFile.open(tiny.resolve("model/model.safetensors"));
        SafetensorsFile expected = SafetensorsFile.open(tiny.resolve("expected.safetensors"));
        double logitScale = weights.floats("logit_scale")[0];
        double logitBias = weights.floats("logit_bias")[0];
        float[] image = Scoring.normalize(expected.floats("photo_640x480.image_embeds"));
        float[] logits = expected.floats("score.logits");
        float[] sigmoids = expected.floats("score.sigmoid");
        int[] texts = {0, 1, 4};
        for (int i = 0; i < texts.length; i++) {
            float[] text = expected.floats("text" + texts[i] + ".embeds");
            double cosine = Scoring.dot(image, Scoring.normalize(text));
            assertThat(Scoring.cosine(expected.floats("photo_640x480.image_embeds"), text)).isCloseTo(cosine, within(1e-6));
            double logit = Scoring.logit(cosine, logitScale, logitBias);
            assertThat(logit).as("logit %d", i).isCloseTo(logits[i], within(TOLERANCE * Math.max(1, Math.abs(logits[i]))));
            assertThat(Scoring.sigmoid(logit)).as("sigmoid %d", i).isCloseTo(sigmoids[i], within(TOLERANCE));
        }
    }

    @Test
    void regionSoftmaxMatchesTheReference() throws Exception {
        SafetensorsFile expected = SafetensorsFile.open(resource("/fixtures/fgclip2-tiny/expected.safetensors"));
        int dimension = Math.toIntExact(expected.info("photo_640x480.region_embeds").shape()[1]);
        float[] regions = expected.floats("photo_640x480.region_embeds");
        float[] reference = expected.floats("score.region_softmax100");
        List<float[]> labels = List.of(Scoring.normalize(expected.floats("text2.embeds")), Scoring.normalize(expected.floats("text3.embeds")));
        int boxes = regions.length / dimension;
        assertThat(boxes).isEqualTo(5);
        for (int b = 0; b < boxes; b++) {
            float[] region = Scoring.normalize(row(regions, dimension, b));
            double[] cosines = labels.stream().mapToDouble(label -> Scoring.dot(region, label)).toArray();
            double[] p = Scoring.softmax(cosines, Scoring.BOX_SOFTMAX_SCALE);
            for (int l = 0; l < p.length; l++) {
                assertThat(p[l]).as("box %d label %d", b, l).isCloseTo(reference[b * labels.size() + l], within(TOLERANCE));
            }
        }
    }

    @Test
    void rescoreRowsFollowFromTheAlignProbabilityAndDetectorScores() throws Exception {
        JsonNode rescore;
        try (InputStream in = ScoringTest.class.getResourceAsStream("/fixtures/fgclip2-e2e/cases.json")) {
            rescore = new ObjectMapper().readTree(in).get("rescore").get(0);
        }
        SafetensorsFile expected = SafetensorsFile.open(resource("/fixtures/fgclip2-e2e/expected.safetensors"));
        float[] rows = expected.floats("rescore.align_fused05_fused0307");
        float[] regionSoftmax = expected.floats("regions.softmax100");
        List<String> vocabulary = new ArrayList<>();
        rescore.get("vocabulary").forEach(v -> vocabulary.add(v.asText()));
        JsonNode detections = rescore.get("detections");
        assertThat(rows).hasSize(3 * detections.size());
        for (int d = 0; d < detections.size(); d++) {
            JsonNode detection = detections.get(d);
            double confidence = detection.get("score").asDouble();
            double align = rows[3 * d];
            // the detections are the region fixture's boxes, so p_align is the label's column of that softmax
            int label = vocabulary.indexOf(detection.get("label").asText());
            assertThat(align).isCloseTo(regionSoftmax[d * vocabulary.size() + label], within(TOLERANCE));
            assertThat(Scoring.fusedScore(confidence, align, 0.5, 0.5)).as("fused 0.5/0.5 of %d", d).isCloseTo(rows[3 * d + 1], within(TOLERANCE));
            assertThat(Scoring.fusedScore(confidence, align, 0.3, 0.7)).as("fused 0.3/0.7 of %d", d).isCloseTo(rows[3 * d + 2], within(TOLERANCE));
        }
    }

    @Test
    void templateAverageIsTheNormalisedMeanOfUnitVectors() {
        float[] e1 = {3, 0, 0};
        float[] e2 = {0, 0.5f, 0};
        float s = (float) (1 / Math.sqrt(2));
        assertThat(Scoring.averageTemplates(List.of(e1, e2))).containsExactly(new float[] {s, s, 0}, within(1e-7f));
        // each template counts once, whatever its raw norm
        assertThat(Scoring.averageTemplates(List.of(new float[] {100, 0, 0}, e2, e2))).containsExactly(
                new float[] {(float) (1 / Math.sqrt(5)), (float) (2 / Math.sqrt(5)), 0}, within(1e-7f));
        assertThat(Scoring.averageTemplates(List.of(new float[] {0, -2, 0}))).containsExactly(0, -1, 0);
    }

    @Test
    void degenerateInputsAreRejected() {
        assertThatThrownBy(() -> Scoring.normalize(new float[3])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Scoring.dot(new float[2], new float[3])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Scoring.averageTemplates(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Scoring.softmax(new double[0], 100)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sigmoidAndSoftmaxStayFiniteAtExtremes() {
        assertThat(Scoring.sigmoid(-1000)).isEqualTo(0.0);
        assertThat(Scoring.sigmoid(1000)).isEqualTo(1.0);
        assertThat(Scoring.sigmoid(0)).isEqualTo(0.5);
        double[] p = Scoring.softmax(new double[] {1, -1, 1}, 100);
        assertThat(p).containsExactly(new double[] {0.5, 0, 0.5}, within(1e-12));
        assertThat(Scoring.fusedScore(0.81, 0.25, 0.5, 0.5)).isCloseTo(Math.sqrt(0.81 * 0.25), within(1e-15));
    }
}
