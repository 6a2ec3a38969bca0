package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.batch.QueueFullException;
import ai.fgclip2.server.pipeline.text.TextWalk;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

/**
 * Computes a vocabulary's class embeddings with {@link ClipPipeline#classEmbeddings} (templates averaged, the
 * official protocol), a few labels at a time so that a 96,240-prompt build never floods the text queue and
 * interactive requests keep being served in between. The server's background builds and the offline
 * {@code vocabulary} command both run it.
 */
public final class VocabularyBuilder {
    /**
     * Prompts queued per step: a few text batches, so the queue keeps room for interactive requests and one step
     * (one LVIS class x 80 templates, 7 to 20 s for base on two busy CPU cores) stays well within the request
     * deadline ({@code fgclip2.limits.inference-deadline}).
     */
    static final int PROMPTS_PER_STEP = 80;
    public static final List<String> BUILTINS = List.of("lvis", "coco");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ClipPipeline pipeline;
    private final Vocabulary.ModelKey model;

    public VocabularyBuilder(ClipPipeline pipeline, Vocabulary.ModelKey model) {
        this.pipeline = pipeline;
        this.model = model;
    }

    public Vocabulary.ModelKey model() {
        return model;
    }

    /**
     * A built-in: {@code lvis} (LVIS v1, 1203 classes) or {@code coco} (COCO 2017, 80) with the 80 official
     * templates, names with '_' as a space and lower-cased (the FG-CLIP 2 LVIS/COCO box-classification protocol).
     */
    public static Vocabulary.Definition builtin(String builtin, String name, TextWalk walk) {
        String resource = switch (builtin) {
            case "lvis" -> "lvis_v1.json";
            case "coco" -> "coco2017.json";
            default -> throw new ProblemException(Problem.INVALID_REQUEST, "Unknown built-in vocabulary '" + builtin + "'; built in: " + BUILTINS + ".", "/builtin");
        };
        JsonNode classes = resource(resource);
        List<String> labels = new ArrayList<>();
        classes.path("names").forEach(n -> labels.add(n.asText().replace('_', ' ').toLowerCase(Locale.ROOT)));
        List<Integer> ids = new ArrayList<>();
        classes.path("ids").forEach(n -> ids.add(n.asInt()));
        return new Vocabulary.Definition(name, labels, ids, officialTemplates(), walk, builtin);
    }

    /** The 80 templates of the official evaluation code. */
    public static List<String> officialTemplates() {
        List<String> templates = new ArrayList<>();
        resource("imagenet_templates.json").path("templates").forEach(t -> templates.add(t.asText()));
        return templates;
    }

    private static JsonNode resource(String file) {
        try (InputStream in = VocabularyBuilder.class.getResourceAsStream("/vocabularies/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing resource /vocabularies/" + file);
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Blocking; {@code labelsDone} hears the number of labels finished after every step.
     *
     * @throws InterruptedException when the build is cancelled
     */
    public Vocabulary build(Vocabulary.Definition definition, IntConsumer labelsDone) throws InterruptedException {
        List<String> labels = definition.labels();
        int templates = definition.templates() == null || definition.templates().isEmpty() ? 1 : definition.templates().size();
        int step = Math.max(1, PROMPTS_PER_STEP / templates);
        List<float[]> units = new ArrayList<>(labels.size());
        for (int from = 0; from < labels.size(); from += step) {
            List<String> chunk = labels.subList(from, Math.min(labels.size(), from + step));
            units.addAll(classEmbeddings(chunk, definition));
            labelsDone.accept(units.size());
        }
        return new Vocabulary(definition, model, ClassMatrix.of(units));
    }

    private List<float[]> classEmbeddings(List<String> labels, Vocabulary.Definition definition) throws InterruptedException {
        int uncached = pipeline.texts().uncached(ClipPipeline.prompts(labels, definition.templates()), definition.walk());
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("vocabulary build cancelled");
            }
            Admission admission;
            try {
                admission = pipeline.admitStep(uncached);
            } catch (QueueFullException e) {
                Thread.sleep(Math.max(10, e.retryAfter().toMillis())); // interactive traffic goes first
                continue;
            }
            try (admission) {
                return Await.result(pipeline.classEmbeddings(labels, definition.templates(), definition.walk(), admission), admission);
            }
        }
    }
}
