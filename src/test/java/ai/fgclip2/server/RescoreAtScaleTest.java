package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Detector output as detectors write it, over HTTP against the official fixture (cases.json "rescore"): every
 * accepted shape and box format gives the fixture's alignment probabilities and fused scores, inline and with a
 * registered vocabulary; 10,000 detections in one request; bad rows named by pointer.
 */
class RescoreAtScaleTest extends E2eServerTest {
    private static final double TOLERANCE = 1e-4;
    private static final JsonNode CASE = FIXTURE.cases().path("rescore").get(0);
    private static final int WIDTH = 640;
    private static final int HEIGHT = 427;

    private static String image() {
        for (JsonNode image : FIXTURE.cases().path("images")) {
            if (image.path("name").asString().equals(CASE.path("image").asString())) {
                return FIXTURE.imageBase64(image.path("file").asString());
            }
        }
        throw new AssertionError("no fixture image " + CASE.path("image").asString());
    }

    private static List<String> vocabulary() {
        List<String> labels = new ArrayList<>();
        CASE.path("vocabulary").forEach(l -> labels.add(l.asString()));
        return labels;
    }

    private static double[][] boxes() {
        JsonNode detections = CASE.path("detections");
        double[][] boxes = new double[detections.size()][4];
        for (int d = 0; d < boxes.length; d++) {
            for (int k = 0; k < 4; k++) {
                boxes[d][k] = detections.get(d).path("box").get(k).asDouble();
            }
        }
        return boxes;
    }

    private static List<Double> scores() {
        List<Double> scores = new ArrayList<>();
        CASE.path("detections").forEach(d -> scores.add(d.path("score").asDouble()));
        return scores;
    }

    private static List<String> labels() {
        List<String> labels = new ArrayList<>();
        CASE.path("detections").forEach(d -> labels.add(d.path("label").asString()));
        return labels;
    }

    private static List<Integer> labelIndices() {
        return labels().stream().map(l -> vocabulary().indexOf(l)).toList();
    }

    private static List<List<Double>> boxesAs(String format, boolean normalized) {
        List<List<Double>> out = new ArrayList<>();
        for (double[] b : boxes()) {
            double[] v = switch (format) {
                case "xywh" -> new double[] {b[0], b[1], b[2] - b[0], b[3] - b[1]};
                case "cxcywh" -> new double[] {(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]};
                default -> b;
            };
            if (normalized) {
                v = new double[] {v[0] / WIDTH, v[1] / HEIGHT, v[2] / WIDTH, v[3] / HEIGHT};
            }
            out.add(List.of(v[0], v[1], v[2], v[3]));
        }
        return out;
    }

    /** The fixture's [p_align, fused(0.5, 0.5)] per detection, for rows that report their input index. */
    private static void assertMatchesFixture(JsonNode response) {
        float[] expected = FIXTURE.floats(CASE.path("expected").asString().split(" ")[0]);
        JsonNode rows = response.path("detections");
        int count = CASE.path("detections").size();
        assertThat(rows.size()).isEqualTo(count);
        int columns = expected.length / count;
        for (JsonNode row : rows) {
            int d = row.path("index").asInt();
            assertThat(row.path("alignProbability").asDouble()).as("row %d", d).isCloseTo(expected[d * columns], Offset.offset(TOLERANCE));
            assertThat(row.path("score").asDouble()).as("row %d", d).isCloseTo(expected[d * columns + 1], Offset.offset(TOLERANCE));
            assertThat(row.path("labelIndex").asInt()).isEqualTo(labelIndices().get(d));
        }
    }

    private ServerTestSupport.Response rescore(Object detections, Object vocabulary, Map<String, Object> extra) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("image", image());
        body.put("detections", detections);
        body.put("vocabulary", vocabulary);
        body.putAll(extra);
        return post("/v1/detections/rescore", body);
    }

    @Test
    void everyShapeAndBoxFormatGivesTheFixtureScores() {
        Map<String, Object> mmdet = Map.of("labels", labelIndices(), "scores", scores(), "bboxes", boxesAs("xyxy", false));
        Map<String, Object> transformers = Map.of("scores", scores(), "boxes", boxesAs("xyxy", true), "text_labels", labels());
        Map<String, Object> transformersAbsolute = Map.of("scores", scores(), "boxes", boxesAs("xyxy", false), "labels", labels());
        List<Map<String, Object>> rowsWithIndices = new ArrayList<>();
        for (int d = 0; d < scores().size(); d++) {
            rowsWithIndices.add(Map.of("box", boxesAs("xyxy", false).get(d), "score", scores().get(d), "label", labelIndices().get(d)));
        }
        assertMatchesFixture(rescore(CASE.path("detections"), vocabulary(), Map.of()).json());
        assertMatchesFixture(rescore(rowsWithIndices, vocabulary(), Map.of()).json());
        assertMatchesFixture(rescore(mmdet, vocabulary(), Map.of()).json());
        assertMatchesFixture(rescore(transformers, vocabulary(), Map.of()).json());
        assertMatchesFixture(rescore(transformersAbsolute, vocabulary(), Map.of("normalizedBoxes", false)).json());
        assertMatchesFixture(rescore(Map.of("labels", labelIndices(), "scores", scores(), "bboxes", boxesAs("xywh", false)), vocabulary(),
                Map.of("boxFormat", "xywh")).json());
        assertMatchesFixture(rescore(Map.of("labels", labelIndices(), "scores", scores(), "bboxes", boxesAs("cxcywh", true)), vocabulary(),
                Map.of("boxFormat", "cxcywh", "normalizedBoxes", true)).json());
        assertMatchesFixture(rescore(mmdet, vocabulary(), Map.of("sort", true)).json());
    }

    @Test
    void aRegisteredVocabularyGivesTheSameScoresAsTheInlineOne() throws InterruptedException {
        var created = ServerTestSupport.send(port, java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/v1/vocabularies/e2e-rescore"))
                .header("Content-Type", "application/json").PUT(java.net.http.HttpRequest.BodyPublishers.ofString(
                        ServerTestSupport.JSON.writeValueAsString(Map.of("labels", vocabulary())))).build());
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        awaitReady("e2e-rescore");
        Map<String, Object> mmdet = Map.of("labels", labelIndices(), "scores", scores(), "bboxes", boxesAs("xyxy", false));
        assertMatchesFixture(rescore(mmdet, "e2e-rescore", Map.of()).json());
        var unknownLabel = rescore(List.of(Map.of("box", List.of(1, 1, 50, 50), "score", 0.5, "label", "zebra")), "e2e-rescore", Map.of());
        assertProblem(unknownLabel, 400, "/detections/0/label");
        var added = rescore(List.of(Map.of("box", List.of(1, 1, 50, 50), "score", 0.5, "label", "zebra")), "e2e-rescore", Map.of("unknownLabels", "add"));
        assertThat(added.status()).as(added.body()).isEqualTo(200);
        assertThat(added.json().path("stats").path("addedLabels").get(0).asString()).isEqualTo("zebra");
        assertThat(added.json().path("detections").get(0).path("labelIndex").asInt()).isEqualTo(vocabulary().size());
    }

    void awaitReady(String name) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            JsonNode status = get("/v1/vocabularies/" + name).json();
            if (status.path("state").asString().equals("ready")) {
                return;
            }
            assertThat(status.path("state").asString()).as(status.toString()).isIn("queued", "building");
            Thread.sleep(100);
        }
        throw new AssertionError("vocabulary " + name + " not ready in 60 s");
    }

    @Test
    void tenThousandDetectionsInOneRequest() {
        SplittableRandom random = new SplittableRandom(3);
        int count = 10_000;
        List<Integer> labels = new ArrayList<>(count);
        List<Double> scores = new ArrayList<>(count);
        List<List<Double>> boxes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            double x1 = random.nextInt(WIDTH - 20);
            double y1 = random.nextInt(HEIGHT - 20);
            // every box twice with another label, as mmdetection repeats boxes across class chunks
            if (i % 2 == 1) {
                boxes.add(boxes.get(i - 1));
            } else {
                boxes.add(List.of(x1, y1, x1 + 1 + random.nextInt(WIDTH - (int) x1 - 1), y1 + 1 + random.nextInt(HEIGHT - (int) y1 - 1)));
            }
            labels.add(random.nextInt(vocabulary().size()));
            scores.add(random.nextDouble());
        }
        var response = rescore(Map.of("labels", labels, "scores", scores, "bboxes", boxes), vocabulary(), Map.of());
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode stats = response.json().path("stats");
        assertThat(stats.path("input").asInt()).isEqualTo(count);
        assertThat(stats.path("distinctBoxes").asInt()).isLessThanOrEqualTo(count / 2);
        assertThat(response.json().path("detections").size()).isEqualTo(count);
        var limited = rescore(Map.of("labels", labels, "scores", scores, "bboxes", boxes), vocabulary(), Map.of("topK", 300, "sort", true));
        JsonNode top = limited.json().path("detections");
        assertThat(top.size()).isEqualTo(300);
        for (int i = 1; i < top.size(); i++) {
            assertThat(top.get(i).path("score").asDouble()).isLessThanOrEqualTo(top.get(i - 1).path("score").asDouble());
        }
    }

    @Test
    void badDetectionsAreNamedByPointer() {
        Map<String, Object> outOfRange = Map.of("labels", List.of(0, 99), "scores", List.of(0.5, 0.5), "bboxes", List.of(List.of(1, 1, 9, 9), List.of(1, 1, 9, 9)));
        assertProblem(rescore(outOfRange, vocabulary(), Map.of()), 400, "/detections/labels/1");
        Map<String, Object> lengths = Map.of("labels", List.of(0, 1), "scores", List.of(0.5), "bboxes", List.of(List.of(1, 1, 9, 9), List.of(1, 1, 9, 9)));
        assertProblem(rescore(lengths, vocabulary(), Map.of()), 400, "/detections/bboxes");
        Map<String, Object> notANumber = Map.of("labels", List.of(0), "scores", List.of(0.5), "bboxes", List.of(List.of(1, "NaN", 9, 9)));
        assertProblem(rescore(notANumber, vocabulary(), Map.of()), 422, "/detections/bboxes/0");
        Map<String, Object> inverted = Map.of("labels", List.of(0, 1), "scores", List.of(0.5, 0.5), "bboxes", List.of(List.of(1, 1, 9, 9), List.of(9, 9, 1, 1)));
        assertProblem(rescore(inverted, vocabulary(), Map.of()), 422, "/detections/bboxes/1");
        assertProblem(rescore(CASE.path("detections"), vocabulary(), Map.of("boxFormat", "ltrb")), 400, "/boxFormat");
        assertProblem(rescore(CASE.path("detections"), "no-such-vocabulary", Map.of()), 400, "/vocabulary");
        Map<String, Object> badScore = Map.of("scores", List.of(0.5, 1.5), "boxes", List.of(List.of(0.1, 0.1, 0.2, 0.2), List.of(0.1, 0.1, 0.2, 0.2)),
                "labels", List.of("cup", "cup"));
        assertProblem(rescore(badScore, vocabulary(), Map.of()), 400, "/detections/scores/1");
    }

    private static void assertProblem(ServerTestSupport.Response response, int status, String pointer) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.contentType()).isEqualTo("application/problem+json");
        assertThat(response.json().path("pointer").asString()).as(response.body()).isEqualTo(pointer);
    }
}
