package ai.fgclip2.server.clip;

import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.index.IndexHit;
import ai.fgclip2.server.index.IndexItem;
import ai.fgclip2.server.index.Metadata;
import ai.fgclip2.server.index.StoredItem;
import ai.fgclip2.server.index.VectorSearch;
import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.ImageEncoder.EncodedImage;
import ai.fgclip2.server.pipeline.RegionEncoder.EncodedRegions;
import ai.fgclip2.server.pipeline.TextEncoder.EncodedText;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Collections of images kept in a {@link GalleryIndex} and searched by text, image or embedding: each image with its
 * global embedding, metadata, and the caller's boxes with their region embeddings. A collection records the model
 * that embedded it and refuses items and queries from another revision or precision.
 *
 * <p>Scores: a text query against images gets the SigLIP logit and probability, as {@code /v1/rank} does; image
 * queries, embedding queries and every region match get the cosine only (region scores are a softmax over a label
 * set elsewhere in the API, which a search does not have).
 */
public final class Gallery {
    public static final Pattern COLLECTION_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    /** Elasticsearch's limit on a document id, so that both backends take the same ids. */
    static final int MAX_ID_BYTES = 512;
    /** The most candidates one search may ask for: Elasticsearch's own cap on num_candidates, so both backends agree. */
    static final int MAX_NUM_CANDIDATES = 10_000;

    /** The model this server embeds with. */
    public record Model(String id, String revision, String precision, int dimensions) {
    }

    /**
     * @param numCandidates candidates per search (see {@link VectorSearch})
     * @param maxWindow     the deepest hit a search may page to (offset + topK)
     * @param quantize      new collections keep int8 scalar-quantized vectors for the graph search
     */
    public record Settings(int numCandidates, int maxWindow, boolean quantize) {
    }

    /** @param fields metadata field name to "keyword" or "number" */
    public record NewCollection(String name, Map<String, String> fields) {
    }

    public record CollectionInfo(CollectionSpec spec, long count) {
    }

    /** @param boxes the caller's boxes [x1, y1, x2, y2] in original pixels; null or empty for none */
    public record NewItem(String id, ImageInput image, Map<String, Object> metadata, List<List<Double>> boxes) {
    }

    /** An item decoded and checked, ready for inference (boxes clipped to the image). */
    public record PreparedItem(String id, PreprocessedImage image, float[][] boxes, Metadata metadata) {
    }

    public record Added(String id, int regions) {
    }

    public record ItemView(String id, Map<String, Object> metadata, List<float[]> boxes) {
    }

    /** Exactly one of text, image or embedding. */
    public record Query(String text, ImageInput image, float[] embedding) {
    }

    /** @param target "images" (default) or "regions" */
    public record SearchCommand(Query query, String target, Map<String, Object> filter, Integer topK, Integer offset, Integer numCandidates,
                                Integer maxNumPatches) {
    }

    /** @param index the box's position in the item's boxes; score its cosine with the query */
    public record RegionHit(int index, float[] box, double score) {
    }

    /** @param score cosine; logit and probability only for a text query against images */
    public record Hit(String id, double score, Double logit, Double probability, Map<String, Object> metadata, RegionHit region) {
    }

    /** @param walk the text head a text query went through (null for other queries) */
    public record SearchResult(String walk, List<Hit> hits) {
    }

    private record QueryVector(float[] unit, TextWalk walk) {
    }

    private final ClipPipeline pipeline;
    private final GalleryIndex index;
    private final Model model;
    private final Settings settings;

    public Gallery(ClipPipeline pipeline, GalleryIndex index, Model model, Settings settings) {
        this.pipeline = pipeline;
        this.index = index;
        this.model = model;
        this.settings = settings;
    }

    public synchronized CollectionInfo create(NewCollection command) {
        String name = command.name();
        if (name == null || !COLLECTION_NAME.matcher(name).matches()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'name' must match " + COLLECTION_NAME.pattern() + "; got '" + name + "'.", "/name");
        }
        if (describe(name).isPresent()) {
            throw new ProblemException(Problem.CONFLICT, "Collection '" + name + "' already exists.", "/name");
        }
        CollectionSpec spec = new CollectionSpec(name, model.id(), model.revision(), model.precision(), model.dimensions(),
                GalleryFields.declare(command.fields()), settings.quantize());
        index.create(spec);
        return new CollectionInfo(spec, 0);
    }

    public List<CollectionInfo> collections() {
        return index.list().stream().map(spec -> new CollectionInfo(spec, index.count(spec.name()))).toList();
    }

    /** A collection of any model (so that its owner can see what it holds). */
    public CollectionInfo collection(String name) {
        CollectionSpec spec = describe(name).orElseThrow(() -> notFound(name));
        return new CollectionInfo(spec, index.count(name));
    }

    public synchronized void drop(String name) {
        describe(name).orElseThrow(() -> notFound(name));
        index.drop(name);
    }

    /** Adds or replaces items, durably: when this returns they are searchable and survive a crash. */
    public List<Added> add(String collection, List<NewItem> items, Integer maxNumPatches) {
        CollectionSpec spec = open(collection);
        InputChecks checks = pipeline.checks();
        checks.items(items, "items", checks.limits().maxItems());
        Integer budget = checks.maxNumPatches(maxNumPatches);
        Map<String, Integer> seen = new HashMap<>();
        List<PreparedItem> prepared = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            String pointer = "/items/" + i;
            Integer first = seen.putIfAbsent(items.get(i).id(), i);
            if (first != null) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Item " + i + " repeats the id '" + items.get(i).id() + "' of item " + first
                        + "; ids are unique within a request.", pointer + "/id");
            }
            prepared.add(prepare(spec, items.get(i), pointer, budget));
        }
        store(collection, prepared);
        index.commit(collection);
        return prepared.stream().map(p -> new Added(p.id(), p.boxes().length)).toList();
    }

    /**
     * Checks one item and decodes its image on the caller's thread (id, metadata against the collection's fields,
     * boxes against the image); {@code pointer} names the item.
     */
    public PreparedItem prepare(CollectionSpec spec, NewItem item, String pointer, Integer maxNumPatches) {
        id(item.id(), pointer + "/id");
        if (item.image() == null) {
            throw new ProblemException(Problem.INVALID_REQUEST, "An image is required at " + pointer + ".", pointer + "/image");
        }
        Metadata metadata = GalleryFields.metadata(spec, item.metadata(), pointer + "/metadata");
        List<List<Double>> boxes = item.boxes() == null ? List.of() : item.boxes();
        int maxBoxes = pipeline.checks().limits().maxBoxes();
        if (boxes.size() > maxBoxes) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "Item has " + boxes.size() + " boxes; the limit is " + maxBoxes + ".", pointer + "/boxes");
        }
        PreprocessedImage image = pipeline.preprocess(item.image(), maxNumPatches);
        float[][] clipped = new float[boxes.size()][];
        for (int b = 0; b < boxes.size(); b++) {
            clipped[b] = pipeline.checks().box(boxes.get(b), image.originalWidth(), image.originalHeight(), pointer + "/boxes/" + b);
        }
        return new PreparedItem(item.id(), image, clipped, metadata);
    }

    /**
     * Embeds prepared items (images batched together; boxes through the region graph) and writes them: searchable
     * on return, durable after {@link #commit}.
     */
    public void store(String collection, List<PreparedItem> items) {
        // an admission covers one submission: one for the plain images together, one per image with boxes (its
        // region run needs the hidden state); all are taken before waiting, so the images still batch together
        List<Admission> admissions = new ArrayList<>();
        List<Pending> pending = new ArrayList<>(items.size());
        try {
            List<PreparedItem> plain = items.stream().filter(item -> item.boxes().length == 0).toList();
            if (!plain.isEmpty()) {
                Admission admission = pipeline.admit(0, plain.size());
                admissions.add(admission);
                List<CompletableFuture<EncodedImage>> encoded = pipeline.images().encodeAll(plain.stream().map(PreparedItem::image).toList(), false, admission);
                for (int i = 0; i < plain.size(); i++) {
                    PreparedItem item = plain.get(i);
                    pending.add(new Pending(encoded.get(i).thenApply(e -> new IndexItem(item.id(), item.metadata(), Scoring.normalize(e.embedding()), List.of())),
                            admission));
                }
            }
            for (PreparedItem item : items) {
                if (item.boxes().length > 0) {
                    Admission admission = pipeline.admit(0, 1);
                    admissions.add(admission);
                    pending.add(new Pending(pipeline.encodeRegions(new ClipPipeline.BoxedImage(item.image(), item.boxes()), admission)
                            .thenApply(r -> withRegions(item, r)), admission));
                }
            }
            List<IndexItem> out = new ArrayList<>(items.size());
            for (Pending p : pending) {
                out.add(Await.result(p.item(), p.admission()));
            }
            index.upsert(collection, out);
        } finally {
            admissions.forEach(Admission::close);
        }
    }

    private record Pending(CompletableFuture<IndexItem> item, Admission admission) {
    }

    private static IndexItem withRegions(PreparedItem item, EncodedRegions encoded) {
        List<IndexItem.Region> regions = new ArrayList<>(item.boxes().length);
        for (int b = 0; b < item.boxes().length; b++) {
            regions.add(new IndexItem.Region(item.boxes()[b], Scoring.normalize(encoded.feature(b))));
        }
        return new IndexItem(item.id(), item.metadata(), Scoring.normalize(encoded.image().embedding()), regions);
    }

    public void commit(String collection) {
        index.commit(collection);
    }

    /** One search graph for the collection (see {@link GalleryIndex#optimize}); a bulk job's last step. */
    public void optimize(String collection) {
        index.optimize(collection);
    }

    /** Which of these ids the collection already holds (a resumed bulk job skips them). */
    public Set<String> present(String collection, Collection<String> ids) {
        return index.present(collection, ids);
    }

    public ItemView item(String collection, String id) {
        describe(collection).orElseThrow(() -> notFound(collection));
        id(id, null);
        StoredItem item = index.get(collection, id).orElseThrow(() -> new ProblemException(Problem.NOT_FOUND,
                "Collection '" + collection + "' has no item '" + id + "'."));
        return new ItemView(item.id(), GalleryFields.view(item.metadata()), item.boxes());
    }

    public void delete(String collection, String id) {
        describe(collection).orElseThrow(() -> notFound(collection));
        id(id, null);
        if (!index.delete(collection, id)) {
            throw new ProblemException(Problem.NOT_FOUND, "Collection '" + collection + "' has no item '" + id + "'.");
        }
        index.commit(collection);
    }

    public SearchResult search(String collection, SearchCommand command) {
        CollectionSpec spec = open(collection);
        InputChecks checks = pipeline.checks();
        VectorSearch.Target target = target(command.target());
        int topK = command.topK() == null ? 10 : command.topK();
        int offset = command.offset() == null ? 0 : command.offset();
        if (topK < 1 || offset < 0) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'topK' must be at least 1 and 'offset' at least 0; got " + topK + " and " + offset + ".",
                    topK < 1 ? "/topK" : "/offset");
        }
        if ((long) offset + topK > settings.maxWindow()) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "offset + topK = " + ((long) offset + topK) + "; a search pages at most "
                    + settings.maxWindow() + " hits deep.", "/offset");
        }
        int numCandidates = command.numCandidates() == null ? settings.numCandidates() : command.numCandidates();
        if (numCandidates < 1 || numCandidates > MAX_NUM_CANDIDATES) {
            throw new ProblemException(numCandidates < 1 ? Problem.INVALID_REQUEST : Problem.LIMIT_EXCEEDED,
                    "'numCandidates' must be from 1 to " + MAX_NUM_CANDIDATES + "; got " + numCandidates + ".", "/numCandidates");
        }
        List<VectorSearch.Filter> filters = GalleryFields.filters(spec, command.filter());
        QueryVector query = vector(command.query(), target, checks.maxNumPatches(command.maxNumPatches()), spec.dimensions());
        int window = offset + topK;
        List<IndexHit> found = index.search(collection, new VectorSearch(target, query.unit(), filters, window,
                Math.max(window, numCandidates)));
        boolean siglip = query.walk() != null && target == VectorSearch.Target.IMAGES;
        // equal scores (the same image under two ids) keep one order on every page and backend: by id
        List<IndexHit> ranked = found.stream().sorted(Comparator.comparingDouble((IndexHit hit) -> -hit.cosine()).thenComparing(IndexHit::id)).toList();
        List<Hit> hits = new ArrayList<>();
        for (IndexHit hit : ranked.subList(Math.min(offset, ranked.size()), ranked.size())) {
            Double logit = siglip ? pipeline.scores().logit(hit.cosine()) : null;
            RegionHit region = hit.region() == null ? null : new RegionHit(hit.region().index(), hit.region().box(), hit.region().cosine());
            hits.add(new Hit(hit.id(), hit.cosine(), logit, logit == null ? null : Scoring.sigmoid(logit), GalleryFields.view(hit.metadata()), region));
        }
        return new SearchResult(query.walk() == null ? null : query.walk().name().toLowerCase(Locale.ROOT), hits);
    }

    /**
     * The query as a unit vector: a text through the short or long head by its length (images) or the box head
     * (regions); an image's global embedding; a caller's embedding of the collection's dimension.
     */
    private QueryVector vector(Query query, VectorSearch.Target target, Integer budget, int dimensions) {
        int given = query == null ? 0 : (query.text() != null ? 1 : 0) + (query.image() != null ? 1 : 0) + (query.embedding() != null ? 1 : 0);
        if (given != 1) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'query' needs exactly one of 'text', 'image' or 'embedding'.", "/query");
        }
        if (query.text() != null) {
            pipeline.checks().text(query.text(), "/query/text");
            TextWalk walk = target == VectorSearch.Target.REGIONS ? TextWalk.BOX : TextWalk.AUTO;
            try (Admission admission = pipeline.admit(1, 0)) {
                EncodedText text = Await.result(pipeline.texts().encode(List.of(query.text()), walk, admission), admission).get(0);
                return new QueryVector(Scoring.normalize(text.embedding()), text.walk());
            }
        }
        if (query.image() != null) {
            PreprocessedImage image = pipeline.preprocess(query.image(), budget);
            try (Admission admission = pipeline.admit(0, 1)) {
                EncodedImage encoded = Await.result(pipeline.images().encodeAll(List.of(image), false, admission).get(0), admission);
                return new QueryVector(Scoring.normalize(encoded.embedding()), null);
            }
        }
        if (query.embedding().length != dimensions) {
            throw new ProblemException(Problem.INVALID_REQUEST, "The query embedding has " + query.embedding().length + " dimensions; the collection has "
                    + dimensions + ".", "/query/embedding");
        }
        return new QueryVector(InputChecks.unitEmbedding(query.embedding(), "/query"), null);
    }

    private static VectorSearch.Target target(String target) {
        if (target == null || target.equals("images")) {
            return VectorSearch.Target.IMAGES;
        }
        if (target.equals("regions")) {
            return VectorSearch.Target.REGIONS;
        }
        throw new ProblemException(Problem.INVALID_REQUEST, "'target' must be images or regions; got '" + target + "'.", "/target");
    }

    /** The collection's spec, if it exists and was built by this server's model. */
    public CollectionSpec open(String collection) {
        CollectionSpec spec = describe(collection).orElseThrow(() -> notFound(collection));
        if (!spec.modelRevision().equals(model.revision()) || !spec.precision().equals(model.precision()) || spec.dimensions() != model.dimensions()) {
            throw new ProblemException(Problem.CONFLICT, "Collection '" + collection + "' holds vectors of model " + spec.modelId() + " revision "
                    + spec.modelRevision() + " (" + spec.precision() + "); this server runs " + model.id() + " revision " + model.revision() + " ("
                    + model.precision() + "). Their vectors are not comparable: index the images again into a new collection.");
        }
        return spec;
    }

    /** A name that cannot be a collection's is no collection (and never reaches the backend, where it could mean a path or URL). */
    private Optional<CollectionSpec> describe(String name) {
        return name != null && COLLECTION_NAME.matcher(name).matches() ? index.describe(name) : Optional.empty();
    }

    /**
     * An id is 1 to 512 UTF-8 bytes and may hold '/' (a bulk job's folder ids are relative paths), but no empty, "."
     * or ".." segment between slashes: HTTP clients rewrite such paths before sending them, so that DELETE of item
     * ".." would arrive as a DELETE of the collection itself.
     */
    private static void id(String id, String pointer) {
        if (id == null || id.isEmpty() || id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
            throw new ProblemException(Problem.INVALID_REQUEST, "Each item needs an 'id' of 1 to " + MAX_ID_BYTES + " UTF-8 bytes"
                    + (id == null || id.isEmpty() ? "." : "; this one has " + id.getBytes(StandardCharsets.UTF_8).length + "."), pointer);
        }
        for (String segment : id.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new ProblemException(Problem.INVALID_REQUEST, "The id '" + id + "' has an empty, '.' or '..' part between slashes; HTTP "
                        + "clients rewrite such paths, so /items/{id} could not reach it.", pointer);
            }
        }
    }

    private static ProblemException notFound(String collection) {
        return new ProblemException(Problem.NOT_FOUND, "No collection '" + collection + "'; create it with POST /v1/collections.");
    }
}
