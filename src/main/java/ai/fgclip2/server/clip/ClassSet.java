package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The classes a request scores against: labels given inline (embedded now, templates averaged) or a registered
 * vocabulary by name (embedded when it was built).
 *
 * @param classes completes with one unit embedding per label, in label order
 */
record ClassSet(List<String> labels, CompletableFuture<ClassMatrix> classes) {

    /**
     * Exactly one of {@code labels} and {@code vocabulary}; templates only go with inline labels (a vocabulary
     * has its own).
     */
    static ClassSet resolve(ClipPipeline pipeline, Vocabularies vocabularies, List<String> labels, String vocabulary, List<String> templates, TextWalk walk) {
        InputChecks checks = pipeline.checks();
        if (vocabulary != null) {
            if (labels != null) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Give either 'labels' or a registered 'vocabulary', not both.", "/vocabulary");
            }
            if (templates != null) {
                throw new ProblemException(Problem.INVALID_REQUEST, "A registered vocabulary has its own templates; drop 'templates'.", "/templates");
            }
            Vocabulary registered = vocabularies.require(vocabulary, walk, "/vocabulary");
            return new ClassSet(registered.labels(), CompletableFuture.completedFuture(registered.classes()));
        }
        checks.texts(labels, "labels", checks.limits().maxLabels());
        List<String> checkedTemplates = checks.templates(templates, labels.size());
        return new ClassSet(labels, pipeline.classEmbeddings(labels, checkedTemplates, walk).thenApply(ClassMatrix::of));
    }
}
