package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Box classification (the COCO/LVIS protocol): each region feature against box-walk class embeddings,
 * {@code softmax(100 * cos)} over the whole label set, best first.
 */
public final class RegionClassifier {

    public record Command(ImageInput image, List<List<Double>> boxes, List<String> labels, List<String> templates, Integer topK, Integer maxNumPatches) {
    }

    /** @param probability softmax over the labels: a box's probabilities sum to 1 */
    public record RegionLabel(String label, double probability) {
    }

    /** @param box as used: clipped to the image */
    public record BoxLabels(int index, float[] box, List<RegionLabel> labels) {
    }

    private final ClipPipeline pipeline;

    public RegionClassifier(ClipPipeline pipeline) {
        this.pipeline = pipeline;
    }

    public List<BoxLabels> classify(Command command) {
        InputChecks checks = pipeline.checks();
        List<String> labels = checks.texts(command.labels(), "labels", checks.limits().maxLabels());
        List<String> templates = checks.templates(command.templates(), labels.size());
        ClipPipeline.BoxedImage boxed = pipeline.boxedImage(command.image(), command.boxes(), command.maxNumPatches());
        ClipPipeline.BoxesAndClasses encoded = pipeline.boxesAndClasses(boxed, labels, templates);
        EncodedRegions regions = encoded.regions();
        List<float[]> classUnits = encoded.classUnits();
        int topK = checks.topK(command.topK(), labels.size());
        List<BoxLabels> results = new ArrayList<>(regions.boxes().length);
        for (int b = 0; b < regions.boxes().length; b++) {
            double[] probabilities = Scoring.boxProbabilities(regions.features().regions()[b], classUnits);
            List<RegionLabel> ranked = new ArrayList<>(labels.size());
            for (int l = 0; l < labels.size(); l++) {
                ranked.add(new RegionLabel(labels.get(l), probabilities[l]));
            }
            ranked.sort(Comparator.comparingDouble(RegionLabel::probability).reversed());
            results.add(new BoxLabels(b, regions.boxes()[b], ranked.subList(0, topK)));
        }
        return results;
    }
}
