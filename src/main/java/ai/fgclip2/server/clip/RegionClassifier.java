package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Box classification (the COCO/LVIS protocol): each region feature against box-walk class embeddings,
 * {@code softmax(100 * cos)} over the whole label set, best first.
 */
public final class RegionClassifier {

    /** @param vocabulary a registered box-walk vocabulary instead of {@code labels} */
    public record Command(ImageInput image, List<List<Double>> boxes, List<String> labels, String vocabulary, List<String> templates, Integer topK,
                          Integer maxNumPatches) {
    }

    /** @param probability softmax over the labels: a box's probabilities sum to 1 */
    public record RegionLabel(String label, double probability) {
    }

    /** @param box as used: clipped to the image */
    public record BoxLabels(int index, float[] box, List<RegionLabel> labels) {
    }

    private final ClipPipeline pipeline;
    private final Vocabularies vocabularies;

    public RegionClassifier(ClipPipeline pipeline, Vocabularies vocabularies) {
        this.pipeline = pipeline;
        this.vocabularies = vocabularies;
    }

    public List<BoxLabels> classify(Command command) {
        InputChecks checks = pipeline.checks();
        ClassSet classSet = ClassSet.resolve(pipeline, vocabularies, command.labels(), command.vocabulary(), command.templates(), TextWalk.BOX);
        ClipPipeline.BoxedImage boxed = pipeline.boxedImage(command.image(), command.boxes(), command.maxNumPatches());
        ClipPipeline.BoxesAndClasses encoded = pipeline.boxesAndClasses(boxed, classSet.uncached(pipeline), admission -> classSet.classes(pipeline, admission));
        EncodedRegions regions = encoded.regions();
        ClassMatrix classes = encoded.classes();
        List<String> labels = classSet.labels();
        int topK = checks.topK(command.topK(), labels.size());
        int boxes = regions.boxes().length;
        List<BoxLabels> results = new ArrayList<>(boxes);
        for (int b = 0; b < boxes; b++) {
            double[] probabilities = Scoring.softmax(classes.cosines(Scoring.normalize(regions.feature(b))), Scoring.BOX_SOFTMAX_SCALE);
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
