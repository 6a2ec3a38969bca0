package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import java.util.ArrayList;
import java.util.List;

/**
 * Rescoring an open-vocabulary detector's boxes (LLMDet and the like): each box's alignment probability is the
 * box-classification probability of its label over the vocabulary, fused with the detector's confidence as the
 * weighted geometric mean {@code conf^alpha * pAlign^beta}. A detector label missing from the vocabulary joins it.
 */
public final class DetectionRescorer {
    static final double DEFAULT_EXPONENT = 0.5;

    public record Detection(List<Double> box, Double score, String label) {
    }

    /** @param relabel fuse with the best class instead of the detector's label, and report that class */
    public record Command(ImageInput image, List<Detection> detections, List<String> vocabulary, Double alpha, Double beta,
                          List<String> templates, boolean relabel, Integer maxNumPatches) {
    }

    /** @param box as used: clipped to the image; label the detector's, or the best class when relabelling */
    public record Rescored(int index, float[] box, String label, double detectorScore, double alignProbability, double score,
                           String bestLabel, double bestProbability) {
    }

    private final ClipPipeline pipeline;

    public DetectionRescorer(ClipPipeline pipeline) {
        this.pipeline = pipeline;
    }

    public List<Rescored> rescore(Command command) {
        InputChecks checks = pipeline.checks();
        List<Detection> detections = checks.items(command.detections(), "detections", checks.limits().maxBoxes());
        List<String> vocabulary = new ArrayList<>(checks.texts(command.vocabulary(), "vocabulary", checks.limits().maxLabels()));
        double alpha = exponent(command.alpha(), "alpha");
        double beta = exponent(command.beta(), "beta");
        List<List<Double>> boxes = new ArrayList<>(detections.size());
        for (int i = 0; i < detections.size(); i++) {
            Detection d = detections.get(i);
            if (d.score() == null || !Double.isFinite(d.score()) || d.score() < 0 || d.score() > 1) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Detection " + i + " needs a 'score' in [0, 1].", "/detections/" + i + "/score");
            }
            checks.text(d.label(), "/detections/" + i + "/label");
            if (!vocabulary.contains(d.label())) {
                vocabulary.add(d.label());
            }
            boxes.add(d.box());
        }
        List<String> templates = checks.templates(command.templates(), vocabulary.size());
        ClipPipeline.BoxedImage boxed = pipeline.boxedImage(command.image(), boxes, command.maxNumPatches(), i -> "/detections/" + i + "/box");
        ClipPipeline.BoxesAndClasses encoded = pipeline.boxesAndClasses(boxed, vocabulary, templates);
        EncodedRegions regions = encoded.regions();
        List<float[]> classUnits = encoded.classUnits();
        List<Rescored> out = new ArrayList<>(detections.size());
        for (int i = 0; i < detections.size(); i++) {
            Detection d = detections.get(i);
            double[] probabilities = Scoring.boxProbabilities(regions.features().regions()[i], classUnits);
            int best = Scoring.argmax(probabilities);
            double align = probabilities[vocabulary.indexOf(d.label())];
            String label = command.relabel() ? vocabulary.get(best) : d.label();
            double fusedWith = command.relabel() ? probabilities[best] : align;
            out.add(new Rescored(i, regions.boxes()[i], label, d.score(), align, Scoring.fusedScore(d.score(), fusedWith, alpha, beta),
                    vocabulary.get(best), probabilities[best]));
        }
        return out;
    }

    private static double exponent(Double value, String field) {
        if (value == null) {
            return DEFAULT_EXPONENT;
        }
        if (!Double.isFinite(value) || value < 0) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + field + "' must be a finite number >= 0; got " + value + ".", "/" + field);
        }
        return value;
    }
}
