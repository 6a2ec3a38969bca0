package ai.fgclip2.server.clip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.server.pipeline.text.TextWalk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Class-wise NMS against a brute-force reference, and registered vocabularies on the fake engine: persisted and
 * reloaded without text inference, refused when built with another model revision or precision.
 */
class RescoringRulesTest {
    private static final ClipTestKit KIT = new ClipTestKit();

    @AfterAll
    static void close() {
        KIT.close();
    }

    @Test
    void classWiseNmsEqualsABruteForceReference() {
        SplittableRandom random = new SplittableRandom(11);
        for (int trial = 0; trial < 50; trial++) {
            List<DetectionRescorer.Rescored> rows = new ArrayList<>();
            int count = 1 + random.nextInt(80);
            for (int i = 0; i < count; i++) {
                float x = random.nextInt(100);
                float y = random.nextInt(100);
                float[] box = {x, y, x + 5 + random.nextInt(40), y + 5 + random.nextInt(40)};
                int label = random.nextInt(3);
                rows.add(new DetectionRescorer.Rescored(i, box, "c" + label, label, 0.5, 0.5, random.nextDouble(), "c" + label, label, 0.5));
            }
            double threshold = random.nextDouble();
            List<Integer> kept = Nms.classWise(rows, threshold).stream().map(DetectionRescorer.Rescored::index).toList();
            assertThat(kept).as("trial %d", trial).isEqualTo(bruteForce(rows, threshold));
        }
    }

    /**
     * The definition itself: visit all rows by descending score; a row survives when no earlier surviving row of
     * its class overlaps it by IoU above the threshold. Returned in input order.
     */
    private static List<Integer> bruteForce(List<DetectionRescorer.Rescored> rows, double threshold) {
        List<DetectionRescorer.Rescored> order = new ArrayList<>(rows);
        order.sort((a, b) -> a.score() != b.score() ? Double.compare(b.score(), a.score()) : Integer.compare(a.index(), b.index()));
        boolean[] survives = new boolean[rows.size()];
        List<DetectionRescorer.Rescored> survivors = new ArrayList<>();
        for (DetectionRescorer.Rescored row : order) {
            boolean overlapped = false;
            for (DetectionRescorer.Rescored s : survivors) {
                if (s.labelIndex() == row.labelIndex() && iou(s.box(), row.box()) > threshold) {
                    overlapped = true;
                }
            }
            if (!overlapped) {
                survivors.add(row);
                survives[row.index()] = true;
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < survives.length; i++) {
            if (survives[i]) {
                out.add(i);
            }
        }
        return out;
    }

    private static double iou(float[] a, float[] b) {
        double ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
        double iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
        double areaA = (a[2] - a[0]) * (double) (a[3] - a[1]);
        double areaB = (b[2] - b[0]) * (double) (b[3] - b[1]);
        return ix * iy / (areaA + areaB - ix * iy);
    }

    @Test
    void classifiersGiveTheSameResultsWithARegisteredVocabularyAsWithItsLabels() throws Exception {
        byte[] image = ClipTestKit.png(320, 240, 5);
        List<String> labels = List.of("cat", "remote control", "sofa", "猫");
        List<String> templates = List.of("a photo of a {}.", "a {} in the scene.");
        KIT.vocabularies.create(new Vocabularies.Create("zero-shot", labels, templates, "short", null));
        KIT.vocabularies.create(new Vocabularies.Create("boxes", labels, templates, null, null));
        KIT.vocabularies.awaitBuilds();
        ZeroShotClassifier zeroShot = new ZeroShotClassifier(KIT.pipeline, KIT.vocabularies);
        var inline = zeroShot.classify(new ZeroShotClassifier.Command(new ImageInput(image, "/image"), labels, null, templates, null, null));
        var registered = zeroShot.classify(new ZeroShotClassifier.Command(new ImageInput(image, "/image"), null, "zero-shot", null, null, null));
        assertThat(registered).extracting(ZeroShotClassifier.LabelScore::label).isEqualTo(inline.stream().map(ZeroShotClassifier.LabelScore::label).toList());
        for (int i = 0; i < inline.size(); i++) {
            assertThat(registered.get(i).logit()).isCloseTo(inline.get(i).logit(), org.assertj.core.data.Offset.offset(1e-9));
        }
        RegionClassifier regions = new RegionClassifier(KIT.pipeline, KIT.vocabularies);
        List<List<Double>> boxes = List.of(List.of(10.0, 20.0, 200.0, 180.0), List.of(0.0, 0.0, 320.0, 240.0));
        var inlineBoxes = regions.classify(new RegionClassifier.Command(new ImageInput(image, "/image"), boxes, labels, null, templates, null, null));
        var registeredBoxes = regions.classify(new RegionClassifier.Command(new ImageInput(image, "/image"), boxes, null, "boxes", null, null, null));
        for (int b = 0; b < boxes.size(); b++) {
            for (int l = 0; l < labels.size(); l++) {
                assertThat(registeredBoxes.get(b).labels().get(l).label()).isEqualTo(inlineBoxes.get(b).labels().get(l).label());
                assertThat(registeredBoxes.get(b).labels().get(l).probability()).isCloseTo(inlineBoxes.get(b).labels().get(l).probability(),
                        org.assertj.core.data.Offset.offset(1e-9));
            }
        }
        assertThatThrownBy(() -> zeroShot.classify(new ZeroShotClassifier.Command(new ImageInput(image, "/image"), labels, "zero-shot", null, null, null)))
                .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.pointer()).isEqualTo("/vocabulary"));
    }

    @Test
    void aPersistedVocabularyReloadsWithoutTextInferenceAndOnlyForItsModel() throws Exception {
        Path directory = Files.createTempDirectory("fgclip2-vocabularies");
        List<String> labels = List.of("cat", "remote control", "sofa");
        List<String> templates = List.of("a photo of a {}.", "a {} in the scene.");
        try (Vocabularies first = KIT.vocabularies(ClipTestKit.MODEL, directory)) {
            first.create(new Vocabularies.Create("pets", labels, templates, null, null));
            first.awaitBuilds();
            assertThat(first.status("pets").state()).isEqualTo(Vocabularies.State.READY);
        }
        int textRuns = KIT.engine.textRuns.get();
        try (Vocabularies restarted = KIT.vocabularies(ClipTestKit.MODEL, directory)) {
            Vocabulary pets = restarted.require("pets", TextWalk.BOX, "/vocabulary");
            assertThat(KIT.engine.textRuns.get()).as("reloaded, not recomputed").isEqualTo(textRuns);
            for (int c = 0; c < labels.size(); c++) {
                List<float[]> prompts = new ArrayList<>();
                for (String template : templates) {
                    prompts.add(KIT.rawText(template.replace("{}", labels.get(c)), TextWalk.BOX));
                }
                assertThat(pets.classes().row(c)).as(labels.get(c)).containsExactly(Scoring.averageTemplates(prompts), org.assertj.core.data.Offset.offset(1e-6f));
            }
            assertThatThrownBy(() -> restarted.require("pets", TextWalk.SHORT, "/vocabulary"))
                    .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.pointer()).isEqualTo("/vocabulary"));
        }
        for (Vocabulary.ModelKey other : List.of(new Vocabulary.ModelKey("fake", "rev2", "fp32"), new Vocabulary.ModelKey("fake", "rev1", "int8"))) {
            try (Vocabularies otherModel = KIT.vocabularies(other, directory)) {
                assertThat(otherModel.status("pets").state()).isEqualTo(Vocabularies.State.REJECTED);
                assertThatThrownBy(() -> otherModel.require("pets", TextWalk.BOX, "/vocabulary"))
                        .isInstanceOfSatisfying(ProblemException.class, e -> {
                            assertThat(e.problem()).isEqualTo(Problem.CONFLICT);
                            assertThat(e.getMessage()).contains("rev1");
                        });
                Path file = directory.resolve(VocabularyFile.fileName("pets", ClipTestKit.MODEL));
                assertThatThrownBy(() -> otherModel.install(file)).isInstanceOfSatisfying(ProblemException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.CONFLICT));
            }
        }
    }
}
