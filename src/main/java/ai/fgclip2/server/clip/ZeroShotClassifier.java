package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.ImageEncoder.EncodedImage;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Zero-shot classification (the ImageNet protocol): short-walk class embeddings (templates averaged), scored
 * against the global image embedding as independent SigLIP probabilities, best first.
 */
public final class ZeroShotClassifier {

    public record Command(ImageInput image, List<String> labels, List<String> templates, Integer topK, Integer maxNumPatches) {
    }

    /** @param probability sigmoid(logit), independent per label: they do not sum to 1 */
    public record LabelScore(String label, double probability, double logit) {
    }

    private final ClipPipeline pipeline;

    public ZeroShotClassifier(ClipPipeline pipeline) {
        this.pipeline = pipeline;
    }

    public List<LabelScore> classify(Command command) {
        InputChecks checks = pipeline.checks();
        List<String> labels = checks.texts(command.labels(), "labels", checks.limits().maxLabels());
        List<String> templates = checks.templates(command.templates(), labels.size());
        Integer budget = checks.maxNumPatches(command.maxNumPatches());
        PreprocessedImage prepared = pipeline.preprocess(command.image(), budget);
        // the official zero-shot protocol embeds class prompts with the short walk
        int uncached = pipeline.texts().uncached(ClipPipeline.prompts(labels, templates), TextWalk.SHORT);
        List<float[]> classes;
        float[] imageUnit;
        try (Admission admission = pipeline.admit(uncached, 1)) {
            CompletableFuture<EncodedImage> image = pipeline.images().encodeAll(List.of(prepared), false, admission).get(0);
            classes = Await.result(pipeline.classEmbeddings(labels, templates, TextWalk.SHORT, admission), admission);
            imageUnit = Scoring.normalize(Await.result(image, admission).embedding());
        }
        List<LabelScore> results = new ArrayList<>(labels.size());
        for (int i = 0; i < labels.size(); i++) {
            double logit = pipeline.scores().logit(Scoring.dot(imageUnit, classes.get(i)));
            results.add(new LabelScore(labels.get(i), Scoring.sigmoid(logit), logit));
        }
        results.sort(Comparator.comparingDouble(LabelScore::probability).reversed());
        return results.subList(0, checks.topK(command.topK(), results.size()));
    }
}
