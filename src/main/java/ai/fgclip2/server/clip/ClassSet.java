package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The classes a request scores against: labels given inline (embedded by the request, templates averaged) or a
 * registered vocabulary by name (embedded when it was built).
 *
 * @param registered the registered vocabulary's class embeddings, or null for inline labels
 */
record ClassSet(List<String> labels, List<String> templates, TextWalk walk, ClassMatrix registered) {

    /**
     * Checked, nothing computed yet: exactly one of {@code labels} and {@code vocabulary}; templates only go with
     * inline labels (a vocabulary has its own).
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
            return new ClassSet(registered.labels(), null, walk, registered.classes());
        }
        checks.texts(labels, "labels", checks.limits().maxLabels());
        return new ClassSet(labels, checks.templates(templates, labels.size()), walk, null);
    }

    /** The text-queue room the request needs for its class prompts. */
    int uncached(ClipPipeline pipeline) {
        return registered != null ? 0 : pipeline.texts().uncached(ClipPipeline.prompts(labels, templates), walk);
    }

    /** One unit embedding per label, in label order. */
    CompletableFuture<ClassMatrix> classes(ClipPipeline pipeline, Admission admission) {
        if (registered != null) {
            return CompletableFuture.completedFuture(registered);
        }
        return pipeline.classEmbeddings(labels, templates, walk, admission).thenApply(ClassMatrix::of);
    }
}
