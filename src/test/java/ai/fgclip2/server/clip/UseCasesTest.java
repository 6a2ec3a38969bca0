package ai.fgclip2.server.clip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The use cases' own rules on a fake engine, with every expected value computed here from the fake's raw vectors
 * (not through {@link Scoring}): template averaging, the SigLIP score, rank's cross-modal rule, box softmax,
 * rescoring's vocabulary extension and relabelling, ordering and topK, and errors naming their item.
 */
class UseCasesTest {
    private static final ClipTestKit KIT = new ClipTestKit();
    private static final byte[] IMAGE = ClipTestKit.png(320, 240, 3);
    private static final byte[] OTHER_IMAGE = ClipTestKit.png(200, 300, 11);

    @AfterAll
    static void close() {
        KIT.close();
    }

    @Test
    void zeroShotAveragesNormalisedTemplatesAndScoresWithTheSiglipLogit() {
        List<String> labels = List.of("cat", "dog", "猫", "sofa");
        List<String> templates = List.of("a photo of a {}.", "a drawing of a {}.", "{}");
        List<ZeroShotClassifier.LabelScore> results = new ZeroShotClassifier(KIT.pipeline, KIT.vocabularies).classify(
                new ZeroShotClassifier.Command(new ImageInput(IMAGE, "/image"), labels, null, templates, null, null));

        double[] image = unit(KIT.rawImage(IMAGE));
        assertThat(results).hasSize(labels.size());
        for (ZeroShotClassifier.LabelScore result : results) {
            double[] mean = new double[FakeEngine.DIMENSIONS];
            for (String template : templates) {
                double[] unit = unit(KIT.rawText(template.replace("{}", result.label()), TextWalk.SHORT));
                for (int d = 0; d < mean.length; d++) {
                    mean[d] += unit[d] / templates.size();
                }
            }
            double logit = dot(image, unit(mean)) * Math.exp(ClipTestKit.LOGIT_SCALE) + ClipTestKit.LOGIT_BIAS;
            assertThat(result.logit()).as(result.label()).isCloseTo(logit, within(1e-5));
            assertThat(result.probability()).as(result.label()).isCloseTo(1 / (1 + Math.exp(-logit)), within(1e-6));
        }
        for (int i = 1; i < results.size(); i++) {
            assertThat(results.get(i).probability()).isLessThanOrEqualTo(results.get(i - 1).probability());
        }
        List<ZeroShotClassifier.LabelScore> top2 = new ZeroShotClassifier(KIT.pipeline, KIT.vocabularies).classify(
                new ZeroShotClassifier.Command(new ImageInput(IMAGE, "/image"), labels, null, templates, 2, null));
        assertThat(top2).extracting(ZeroShotClassifier.LabelScore::label).containsExactly(results.get(0).label(), results.get(1).label());
    }

    @Test
    void rankGivesTheSiglipScoreOnlyToImageTextPairs() {
        float[] given = {1, 2, 3, 4, 5, 6, 7, 8};
        List<Ranker.Item> candidates = List.of(
                new Ranker.Item(null, new ImageInput(IMAGE, "/candidates/0/image"), null),
                new Ranker.Item("a dog on a sofa", null, null),
                new Ranker.Item(null, null, given),
                new Ranker.Item(null, new ImageInput(OTHER_IMAGE, "/candidates/3/image"), null));
        String query = "two cats on a pink sofa";
        List<Ranker.Hit> hits = new Ranker(KIT.pipeline).rank(new Ranker.Command(new Ranker.Item(query, null, null), candidates, null, null));

        double[] q = unit(KIT.rawText(query, TextWalk.SHORT));
        double[][] expected = {unit(KIT.rawImage(IMAGE)), unit(KIT.rawText("a dog on a sofa", TextWalk.SHORT)), unit(given), unit(KIT.rawImage(OTHER_IMAGE))};
        boolean[] crossModal = {true, false, false, true};
        assertThat(hits).hasSize(4);
        assertThat(hits).extracting(Ranker.Hit::index).containsExactlyInAnyOrder(0, 1, 2, 3);
        for (Ranker.Hit hit : hits) {
            double cosine = dot(q, expected[hit.index()]);
            assertThat(hit.score()).as("candidate %d", hit.index()).isCloseTo(cosine, within(1e-6));
            if (crossModal[hit.index()]) {
                double logit = cosine * Math.exp(ClipTestKit.LOGIT_SCALE) + ClipTestKit.LOGIT_BIAS;
                assertThat(hit.logit()).isCloseTo(logit, within(1e-5));
                assertThat(hit.probability()).isCloseTo(1 / (1 + Math.exp(-logit)), within(1e-6));
            } else {
                assertThat(hit.logit()).as("same modality or unknown modality: no SigLIP score").isNull();
                assertThat(hit.probability()).isNull();
            }
        }
        for (int i = 1; i < hits.size(); i++) {
            assertThat(hits.get(i).score()).isLessThanOrEqualTo(hits.get(i - 1).score());
        }

        // an image query: the text candidate is now the cross-modal one
        List<Ranker.Hit> byImage = new Ranker(KIT.pipeline).rank(new Ranker.Command(new Ranker.Item(null, new ImageInput(IMAGE, "/query/image"), null),
                candidates.subList(0, 2), null, null));
        assertThat(byImage).filteredOn(hit -> hit.index() == 0).first().extracting(Ranker.Hit::logit).isNull();
        assertThat(byImage).filteredOn(hit -> hit.index() == 1).first().extracting(Ranker.Hit::logit).isNotNull();
    }

    @Test
    void rankRefusesAnEmbeddingWithoutDirection() {
        List<Ranker.Item> candidates = List.of(new Ranker.Item("a cat", null, null), new Ranker.Item(null, null, new float[FakeEngine.DIMENSIONS]));
        assertThatThrownBy(() -> new Ranker(KIT.pipeline).rank(new Ranker.Command(new Ranker.Item("query", null, null), candidates, null, null)))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.problem()).isEqualTo(Problem.INVALID_REQUEST);
                    assertThat(e.pointer()).isEqualTo("/candidates/1/embedding");
                    assertThat(e.index()).isEqualTo(1);
                });
    }

    @Test
    void boxClassificationIsASoftmaxOverTheWholeLabelSet() {
        List<String> labels = List.of("remote control", "cat", "pink sofa");
        List<List<Double>> boxes = List.of(List.of(10.0, 20.0, 200.0, 180.0), List.of(0.0, 0.0, 320.0, 240.0));
        List<RegionClassifier.BoxLabels> results = new RegionClassifier(KIT.pipeline, KIT.vocabularies).classify(
                new RegionClassifier.Command(new ImageInput(IMAGE, "/image"), boxes, labels, null, null, 2, null));

        assertThat(results).hasSize(2);
        for (RegionClassifier.BoxLabels result : results) {
            float[] box = result.box();
            double[] region = unit(KIT.rawRegion(IMAGE, box));
            double[] logits = new double[labels.size()];
            double sum = 0;
            for (int l = 0; l < labels.size(); l++) {
                logits[l] = 100 * dot(region, unit(KIT.rawText(labels.get(l), TextWalk.BOX)));
            }
            double max = java.util.Arrays.stream(logits).max().orElseThrow();
            for (double logit : logits) {
                sum += Math.exp(logit - max);
            }
            assertThat(result.labels()).hasSize(2);
            for (RegionClassifier.RegionLabel label : result.labels()) {
                double expected = Math.exp(logits[labels.indexOf(label.label())] - max) / sum;
                assertThat(label.probability()).as("box %d %s", result.index(), label.label()).isCloseTo(expected, within(1e-6));
            }
            assertThat(result.labels().get(0).probability()).isGreaterThanOrEqualTo(result.labels().get(1).probability());
        }
    }

    @Test
    void rescoringExtendsTheVocabularyAndRelabelsWithTheBestClass() {
        List<String> vocabulary = List.of("cat", "sofa");
        List<DetectorOutput.Detection> detections = List.of(
                new DetectorOutput.Detection(List.of(10.0, 20.0, 200.0, 180.0), 0.8, "cat"),
                new DetectorOutput.Detection(List.of(50.0, 60.0, 120.0, 100.0), 0.3, "remote control"));
        double alpha = 0.3;
        double beta = 0.7;
        DetectionRescorer rescorer = new DetectionRescorer(KIT.pipeline, KIT.vocabularies);
        List<DetectionRescorer.Rescored> kept = rescorer.rescore(new DetectionRescorer.Command(new ImageInput(IMAGE, "/image"), detections,
                DetectionRescorer.VocabularyRef.inline(vocabulary), null, weights(alpha, beta, false), null)).rows();
        List<DetectionRescorer.Rescored> relabelled = rescorer.rescore(new DetectionRescorer.Command(new ImageInput(IMAGE, "/image"), detections,
                DetectionRescorer.VocabularyRef.inline(vocabulary), null, weights(alpha, beta, true), null)).rows();

        List<String> classes = new ArrayList<>(vocabulary);
        classes.add("remote control"); // the detector's label outside the vocabulary joins it
        for (int d = 0; d < detections.size(); d++) {
            DetectorOutput.Detection detection = detections.get(d);
            float[] box = kept.get(d).box();
            double[] region = unit(KIT.rawRegion(IMAGE, box));
            double[] probabilities = new double[classes.size()];
            double sum = 0;
            for (int c = 0; c < classes.size(); c++) {
                probabilities[c] = Math.exp(100 * dot(region, unit(KIT.rawText(classes.get(c), TextWalk.BOX))));
                sum += probabilities[c];
            }
            int best = 0;
            for (int c = 0; c < classes.size(); c++) {
                probabilities[c] /= sum;
                best = probabilities[c] > probabilities[best] ? c : best;
            }
            double align = probabilities[classes.indexOf((String) detection.label())];
            DetectionRescorer.Rescored asIs = kept.get(d);
            assertThat(asIs.index()).isEqualTo(d);
            assertThat(asIs.label()).isEqualTo(detection.label());
            assertThat(asIs.alignProbability()).isCloseTo(align, within(1e-6));
            assertThat(asIs.score()).isCloseTo(Math.pow(detection.score(), alpha) * Math.pow(align, beta), within(1e-6));
            assertThat(asIs.bestLabel()).isEqualTo(classes.get(best));
            assertThat(asIs.bestProbability()).isCloseTo(probabilities[best], within(1e-6));

            DetectionRescorer.Rescored relabel = relabelled.get(d);
            assertThat(relabel.label()).isEqualTo(classes.get(best));
            assertThat(relabel.alignProbability()).as("still the detector label's probability").isCloseTo(align, within(1e-6));
            assertThat(relabel.score()).isCloseTo(Math.pow(detection.score(), alpha) * Math.pow(probabilities[best], beta), within(1e-6));
        }
    }

    @Test
    void badBoxesNameTheirDetection() {
        List<DetectorOutput.Detection> detections = List.of(
                new DetectorOutput.Detection(List.of(10.0, 20.0, 200.0, 180.0), 0.8, "cat"),
                new DetectorOutput.Detection(List.of(10.0, 10.0, 10.0000001, 10.0000001), 0.5, "cat"));
        assertThatThrownBy(() -> new DetectionRescorer(KIT.pipeline, KIT.vocabularies).rescore(new DetectionRescorer.Command(new ImageInput(IMAGE, "/image"),
                detections, DetectionRescorer.VocabularyRef.inline(List.of("cat")), null, null, null)))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.problem()).isEqualTo(Problem.INVALID_BOX);
                    assertThat(e.pointer()).isEqualTo("/detections/1/box");
                });
        int imageRuns = KIT.engine.imageRuns.get();
        List<DetectorOutput.Detection> outside = List.of(new DetectorOutput.Detection(List.of(400.0, 10.0, 500.0, 50.0), 0.5, "cat"));
        assertThatThrownBy(() -> new DetectionRescorer(KIT.pipeline, KIT.vocabularies).rescore(new DetectionRescorer.Command(new ImageInput(IMAGE, "/image"),
                outside, DetectionRescorer.VocabularyRef.inline(List.of("cat")), null, null, null)))
                .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.pointer()).isEqualTo("/detections/0/box"));
        assertThat(KIT.engine.imageRuns.get()).as("a bad box costs no inference").isEqualTo(imageRuns);
    }

    @Test
    void aBadImageIsNamedByItsPointer() {
        List<ImageInput> images = List.of(new ImageInput(IMAGE, "/images/0"), new ImageInput(new byte[] {1, 2, 3}, "/images/1"));
        assertThatThrownBy(() -> new Embeddings(KIT.pipeline).images("images", images, null, true))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.pointer()).isEqualTo("/images/1");
                    assertThat(e.problem()).isIn(Problem.INVALID_IMAGE, Problem.UNSUPPORTED_IMAGE_FORMAT);
                });
    }

    static DetectionRescorer.Options weights(double alpha, double beta, boolean relabel) {
        return new DetectionRescorer.Options(alpha, beta, null, relabel, null, null, null, false, null, null, null);
    }

    private static double[] unit(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return unit(d);
    }

    private static double[] unit(double[] v) {
        double norm = Math.sqrt(dot(v, v));
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] / norm;
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
