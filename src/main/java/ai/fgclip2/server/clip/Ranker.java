package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.ImageEncoder.EncodedImage;
import ai.fgclip2.server.pipeline.TextEncoder.EncodedText;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Retrieval ranking of candidates against one query by cosine. Image-text pairs also get the SigLIP logit and
 * probability; same-modality pairs and caller-supplied embeddings (modality unknown) get the cosine only.
 */
public final class Ranker {

    /** Exactly one of text, image or embedding (embedding only for candidates). */
    public record Item(String text, ImageInput image, float[] embedding) {
    }

    public record Command(Item query, List<Item> candidates, Integer topK, Integer maxNumPatches) {
    }

    /** @param logit null unless the pair is image-text; probability likewise */
    public record Hit(int index, double score, Double logit, Double probability) {
    }

    /** A unit vector and its modality; known = false for caller-supplied embeddings. */
    private record Vector(float[] unit, boolean image, boolean known) {
    }

    private final ClipPipeline pipeline;

    public Ranker(ClipPipeline pipeline) {
        this.pipeline = pipeline;
    }

    public List<Hit> rank(Command command) {
        InputChecks checks = pipeline.checks();
        if (command.query() == null) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'query' is required: {\"text\": ...} or {\"image\": ...}.", "/query");
        }
        List<Item> candidates = checks.items(command.candidates(), "candidates", checks.limits().maxLabels());
        Integer budget = checks.maxNumPatches(command.maxNumPatches());
        List<Item> items = new ArrayList<>(candidates.size() + 1);
        List<String> pointers = new ArrayList<>(candidates.size() + 1);
        items.add(command.query());
        pointers.add("/query");
        for (int i = 0; i < candidates.size(); i++) {
            items.add(candidates.get(i));
            pointers.add("/candidates/" + i);
        }
        Prepared prepared = prepare(items, pointers, budget);
        List<Vector> all = new ArrayList<>(items.size());
        try (Admission admission = pipeline.admit(pipeline.texts().uncached(prepared.texts(), TextWalk.AUTO), prepared.images().size())) {
            for (CompletableFuture<Vector> vector : submit(prepared, admission)) {
                all.add(Await.result(vector, admission));
            }
        }
        Vector q = all.get(0);
        List<Hit> hits = new ArrayList<>(candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            Vector c = all.get(i + 1);
            double cosine = Scoring.dot(q.unit(), c.unit());
            boolean crossModal = q.image() != c.image() && c.known();
            Double logit = crossModal ? pipeline.scores().logit(cosine) : null;
            hits.add(new Hit(i, cosine, logit, logit == null ? null : Scoring.sigmoid(logit)));
        }
        hits.sort(Comparator.comparingDouble(Hit::score).reversed());
        return hits.subList(0, checks.topK(command.topK(), hits.size()));
    }

    /** A request's items sorted by kind: texts and images to encode, caller vectors ready; slots are item indices. */
    private record Prepared(List<String> texts, List<Integer> textSlots, List<PreprocessedImage> images, List<Integer> imageSlots,
                            Vector[] given) {
    }

    /** Every item checked (and its image decoded) before anything is queued. Item 0 is the query (no embedding allowed). */
    private Prepared prepare(List<Item> items, List<String> pointers, Integer budget) {
        Prepared prepared = new Prepared(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new Vector[items.size()]);
        List<ImageInput> images = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Item item = items.get(i);
            String pointer = pointers.get(i);
            boolean allowEmbedding = i > 0;
            int given = (item.text() != null ? 1 : 0) + (item.image() != null ? 1 : 0) + (item.embedding() != null ? 1 : 0);
            if (given != 1 || (!allowEmbedding && item.embedding() != null)) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Exactly one of " + (allowEmbedding ? "'text', 'image' or 'embedding'" : "'text' or 'image'")
                        + " is required at " + pointer + ".", pointer);
            }
            if (item.text() != null) {
                prepared.texts().add(pipeline.checks().text(item.text(), pointer + "/text"));
                prepared.textSlots().add(i);
            } else if (item.image() != null) {
                images.add(item.image());
                prepared.imageSlots().add(i);
            } else {
                int dimensions = pipeline.engine().hiddenSize();
                if (item.embedding().length != dimensions) {
                    // checked with the other items, before anything is queued
                    throw new ProblemException(Problem.INVALID_REQUEST, "Candidate " + (i - 1) + " has " + item.embedding().length
                            + " dimensions; the model has " + dimensions + ".", pointer + "/embedding");
                }
                prepared.given()[i] = new Vector(InputChecks.unitEmbedding(item.embedding(), pointer), false, false);
            }
        }
        if (!images.isEmpty()) {
            prepared.images().addAll(pipeline.preprocessAll(images, budget));
        }
        return prepared;
    }

    /** All texts and all images of the request queued together, in its admitted room. */
    private List<CompletableFuture<Vector>> submit(Prepared prepared, Admission admission) {
        List<CompletableFuture<Vector>> out = new ArrayList<>(prepared.given().length);
        for (Vector given : prepared.given()) {
            out.add(given == null ? null : CompletableFuture.completedFuture(given));
        }
        if (!prepared.texts().isEmpty()) {
            CompletableFuture<List<EncodedText>> encoded = pipeline.texts().encode(prepared.texts(), TextWalk.AUTO, admission);
            for (int t = 0; t < prepared.textSlots().size(); t++) {
                int text = t;
                out.set(prepared.textSlots().get(t), encoded.thenApply(list -> new Vector(Scoring.normalize(list.get(text).embedding()), false, true)));
            }
        }
        if (!prepared.images().isEmpty()) {
            List<CompletableFuture<EncodedImage>> encoded = pipeline.images().encodeAll(prepared.images(), false, admission);
            for (int m = 0; m < prepared.imageSlots().size(); m++) {
                out.set(prepared.imageSlots().get(m), encoded.get(m).thenApply(e -> new Vector(Scoring.normalize(e.embedding()), true, true)));
            }
        }
        return out;
    }
}
