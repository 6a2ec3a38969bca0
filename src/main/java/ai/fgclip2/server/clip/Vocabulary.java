package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A registered vocabulary, ready to score against: its definition, the model it was built with and one unit
 * class embedding per label.
 */
public final class Vocabulary {

    /** Which model's embeddings these are: a vocabulary is only valid for the same revision and precision. */
    public record ModelKey(String id, String revision, String precision) {
        public boolean sameEmbeddings(ModelKey other) {
            return revision.equals(other.revision) && precision.equals(other.precision);
        }

        @Override
        public String toString() {
            return "revision " + revision + " (" + precision + ")";
        }
    }

    /**
     * @param labels      class names as put into the templates (built-ins: the protocol's names, '_' as a space, lower case)
     * @param categoryIds the dataset's category id per label (built-ins: COCO/LVIS ids), or null
     * @param templates   prompt templates with '{}', or null: the label alone is the prompt
     * @param walk        the text walk of the class embeddings (box for box classification and rescoring)
     * @param builtin     the built-in it was made from, or null
     */
    public record Definition(String name, List<String> labels, List<Integer> categoryIds, List<String> templates, TextWalk walk, String builtin) {
        public int prompts() {
            return labels.size() * (templates == null || templates.isEmpty() ? 1 : templates.size());
        }
    }

    private final Definition definition;
    private final ModelKey model;
    private final ClassMatrix classes;
    private final Map<String, Integer> index;

    public Vocabulary(Definition definition, ModelKey model, ClassMatrix classes) {
        if (classes.classes() != definition.labels().size()) {
            throw new IllegalArgumentException(classes.classes() + " class embeddings for " + definition.labels().size() + " labels");
        }
        this.definition = definition;
        this.model = model;
        this.classes = classes;
        this.index = new HashMap<>();
        for (int i = definition.labels().size() - 1; i >= 0; i--) {
            index.put(definition.labels().get(i), i); // the first of duplicate labels wins
        }
    }

    public Definition definition() {
        return definition;
    }

    public String name() {
        return definition.name();
    }

    public List<String> labels() {
        return definition.labels();
    }

    public ModelKey model() {
        return model;
    }

    public ClassMatrix classes() {
        return classes;
    }

    /** The label's index, or -1. */
    public int indexOf(String label) {
        return index.getOrDefault(label, -1);
    }

    /** The index of a dataset category id, or -1 (only for vocabularies with category ids). */
    public int indexOfCategory(int categoryId) {
        List<Integer> ids = definition.categoryIds();
        return ids == null ? -1 : ids.indexOf(categoryId);
    }
}
