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

    /** @param vocabulary a registered short-walk vocabulary instead of {@code labels} */
    public record Command(ImageInput image, List<String> labels, String vocabulary, List<String> templates, Integer topK, Integer maxNumPatches) {
    }

    /** @param probability sigmoid(logit), independent per label: they do not sum to 1 */
    public record LabelScore(String label, double probability, double logit) {
    }

    private final ClipPipeline pipeline;
    private final Vocabularies vocabularies;

    public ZeroShotClassifier(ClipPipeline pipeline, Vocabularies vocabularies) {
        this.pipeline = pipeline;
        this.vocabularies = vocabularies;
    }

    public List<LabelScore> classify(Command command) {
        InputChecks checks = pipeline.checks();
        ClassSet classSet = ClassSet.resolve(pipeline, vocabularies, command.labels(), command.vocabulary(), command.templates(), TextWalk.SHORT);
        Integer budget = checks.maxNumPatches(command.maxNumPatches());
        PreprocessedImage prepared = pipeline.preprocess(command.image(), budget);
        ClassMatrix classes;
        float[] imageUnit;
        try (Admission admission = pipeline.admit(classSet.uncached(pipeline), 1)) {
            CompletableFuture<EncodedImage> image = pipeline.images().encodeAll(List.of(prepared), false, admission).get(0);
            classes = Await.result(classSet.classes(pipeline, admission), admission);
            imageUnit = Scoring.normalize(Await.result(image, admission).embedding());
        }
        double[] cosines = classes.cosines(imageUnit);
        List<String> labels = classSet.labels();
        List<LabelScore> results = new ArrayList<>(labels.size());
        for (int i = 0; i < labels.size(); i++) {
            double logit = pipeline.scores().logit(cosines[i]);
            results.add(new LabelScore(labels.get(i), Scoring.sigmoid(logit), logit));
        }
        results.sort(Comparator.comparingDouble(LabelScore::probability).reversed());
        return results.subList(0, checks.topK(command.topK(), results.size()));
    }
}
