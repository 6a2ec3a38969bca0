package ai.fgclip2.server.index.lucene;

import ai.fgclip2.server.index.CollectionMissingException;
import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.index.HnswSettings;
import ai.fgclip2.server.index.IndexException;
import ai.fgclip2.server.index.IndexHit;
import ai.fgclip2.server.index.IndexItem;
import ai.fgclip2.server.index.Metadata;
import ai.fgclip2.server.index.StoredItem;
import ai.fgclip2.server.index.VectorSearch;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherFactory;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.join.BitSetProducer;
import org.apache.lucene.search.join.DiversifyingChildrenFloatKnnVectorQuery;
import org.apache.lucene.search.join.QueryBitSetProducer;
import org.apache.lucene.search.join.ToChildBlockJoinQuery;
import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.BitSet;
import org.apache.lucene.util.BytesRef;

/**
 * The embedded gallery index: one Lucene index per collection under {@code root/<name>}, next to the collection's
 * {@code collection.json}. An item is a block of documents: one child per region (its vector and position), then the
 * image (global vector, metadata, stored JSON). Updates replace whole blocks by id; searches see them at once
 * (near-real-time readers); {@link #commit} makes them durable (Lucene commits are atomic: a crash leaves the last
 * commit). Every search rescores its candidates with the exact float vectors, so quantized collections report
 * exact cosines and order their top hits by them.
 */
public final class LuceneGalleryIndex implements GalleryIndex {
    static final String IMAGE_VECTOR = "image_vector";
    static final String REGION_VECTOR = "region_vector";
    private static final String ID = "_id";
    private static final String KIND = "_kind";
    private static final String IMAGE = "image";
    private static final String REGION_POSITION = "_region";
    private static final String SOURCE = "_source";
    private static final String SPEC_FILE = "collection.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Query IMAGES = new TermQuery(new Term(KIND, IMAGE));

    /** What the image document stores besides its vectors, as JSON. */
    private record Source(Metadata metadata, List<float[]> boxes) {
    }

    private record Open(CollectionSpec spec, IndexWriter writer, SearcherManager searchers, BitSetProducer parents) {
    }

    private record Candidate(int doc, double cosine) {
    }

    /**
     * How the embedded index uses the machine.
     *
     * @param searchThreads  segments one search walks at once (each segment has its own graph); 1 = all on the caller's thread
     * @param writerBufferMb documents buffered before a flush writes them as a segment (a refresh flushes earlier)
     */
    public record Tuning(int searchThreads, double writerBufferMb) {
        /** A segment per core at once; Lucene's writer buffer. */
        public static Tuning defaults() {
            return searchThreads(Runtime.getRuntime().availableProcessors());
        }

        /** The service's: {@code threads} segments at once, Lucene's writer buffer. */
        public static Tuning searchThreads(int threads) {
            return new Tuning(threads, IndexWriterConfig.DEFAULT_RAM_BUFFER_SIZE_MB);
        }
    }

    private final Path root;
    private final HnswSettings hnsw;
    private final Tuning tuning;
    private final Map<String, Open> open = new HashMap<>();
    /** Merging segments rebuilds their graph; Lucene can spread that over every core (one worker otherwise). */
    private final int mergeWorkers = Runtime.getRuntime().availableProcessors();
    /** Null with one core: Lucene refuses an executor it would not use. */
    private final ExecutorService mergeExecutor = mergeWorkers == 1 ? null : Executors.newFixedThreadPool(mergeWorkers, runnable -> {
        Thread thread = new Thread(runnable, "fgclip2-index-merge");
        thread.setDaemon(true);
        return thread;
    });

    /** Null with one search thread: segments are then walked on the caller's thread. */
    private final ExecutorService searchExecutor;

    public LuceneGalleryIndex(Path root, HnswSettings hnsw) {
        this(root, hnsw, Tuning.defaults());
    }

    public LuceneGalleryIndex(Path root, HnswSettings hnsw, Tuning tuning) {
        this.root = root;
        this.hnsw = hnsw;
        this.tuning = tuning;
        this.searchExecutor = tuning.searchThreads() <= 1 ? null : Executors.newFixedThreadPool(tuning.searchThreads(), runnable -> {
            Thread thread = new Thread(runnable, "fgclip2-index-search");
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public synchronized void create(CollectionSpec spec) {
        Path directory = root.resolve(spec.name());
        try {
            if (Files.isDirectory(directory) && !Files.exists(directory.resolve(SPEC_FILE))) {
                deleteTree(directory); // what a drop interrupted half-way left: its items must not come back
            }
            Files.createDirectories(directory);
            Path temporary = directory.resolve(SPEC_FILE + ".tmp");
            JSON.writeValue(temporary.toFile(), spec);
            try {
                Files.move(temporary, directory.resolve(SPEC_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, directory.resolve(SPEC_FILE), StandardCopyOption.REPLACE_EXISTING);
            }
            collection(spec.name()).writer().commit();
        } catch (IOException e) {
            throw new IndexException("Cannot create collection '" + spec.name() + "' under " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Optional<CollectionSpec> describe(String collection) {
        Open opened = open.get(collection);
        if (opened != null) {
            return Optional.of(opened.spec());
        }
        Path file = root.resolve(collection).resolve(SPEC_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), CollectionSpec.class));
        } catch (IOException e) {
            throw new IndexException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized List<CollectionSpec> list() {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> directories = Files.list(root)) {
            return directories.map(d -> d.getFileName().toString()).sorted().map(this::describe).flatMap(Optional::stream).toList();
        } catch (IOException e) {
            throw new IndexException("Cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void drop(String collection) {
        Open opened = open.remove(collection);
        try {
            if (opened != null) {
                opened.searchers().close();
                opened.writer().rollback();
            }
            Path directory = root.resolve(collection);
            // the spec goes first: a crash half-way leaves no collection, not a collection without its spec
            Files.deleteIfExists(directory.resolve(SPEC_FILE));
            deleteTree(directory);
        } catch (IOException e) {
            throw new IndexException("Cannot drop collection '" + collection + "': " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    @Override
    public void upsert(String collection, List<IndexItem> items) {
        Open c = collection(collection);
        try {
            for (IndexItem item : items) {
                c.writer().updateDocuments(new Term(ID, item.id()), block(item));
            }
            c.searchers().maybeRefreshBlocking();
        } catch (AlreadyClosedException e) {
            throw closed(collection, c, e);
        } catch (IOException e) {
            throw new IndexException("Cannot write to collection '" + collection + "': " + e.getMessage(), e);
        }
    }

    private static List<Document> block(IndexItem item) throws IOException {
        List<Document> block = new ArrayList<>(item.regions().size() + 1);
        List<float[]> boxes = new ArrayList<>(item.regions().size());
        for (int r = 0; r < item.regions().size(); r++) {
            IndexItem.Region region = item.regions().get(r);
            Document child = new Document();
            child.add(new StringField(ID, item.id(), Field.Store.NO));
            child.add(new StoredField(REGION_POSITION, r));
            child.add(new KnnFloatVectorField(REGION_VECTOR, region.embedding(), VectorSimilarityFunction.DOT_PRODUCT));
            block.add(child);
            boxes.add(region.box());
        }
        Document image = new Document();
        image.add(new StringField(ID, item.id(), Field.Store.YES));
        image.add(new StringField(KIND, IMAGE, Field.Store.NO));
        image.add(new KnnFloatVectorField(IMAGE_VECTOR, item.embedding(), VectorSimilarityFunction.DOT_PRODUCT));
        item.metadata().keywords().forEach((field, values) -> values.forEach(value -> image.add(new StringField(keywordField(field), value, Field.Store.NO))));
        item.metadata().numbers().forEach((field, value) -> image.add(new DoublePoint(numberField(field), value)));
        image.add(new StoredField(SOURCE, JSON.writeValueAsBytes(new Source(item.metadata(), boxes))));
        block.add(image); // the parent closes its block
        return block;
    }

    @Override
    public void commit(String collection) {
        Open c = collection(collection);
        try {
            c.writer().commit();
        } catch (AlreadyClosedException e) {
            throw closed(collection, c, e);
        } catch (IOException e) {
            throw new IndexException("Cannot commit collection '" + collection + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void optimize(String collection) {
        Open c = collection(collection);
        try {
            c.writer().forceMerge(1);
            c.writer().commit();
            c.searchers().maybeRefreshBlocking();
        } catch (AlreadyClosedException e) {
            throw closed(collection, c, e);
        } catch (IOException e) {
            throw new IndexException("Cannot merge collection '" + collection + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<StoredItem> get(String collection, String id) {
        return withSearcher(collection, searcher -> {
            ScoreDoc[] found = searcher.search(image(id), 1).scoreDocs;
            if (found.length == 0) {
                return Optional.empty();
            }
            Source source = source(searcher.storedFields().document(found[0].doc));
            return Optional.of(new StoredItem(id, source.metadata(), source.boxes()));
        });
    }

    @Override
    public boolean delete(String collection, String id) {
        Open c = collection(collection);
        boolean present = withSearcher(collection, searcher -> searcher.count(image(id)) > 0);
        try {
            c.writer().deleteDocuments(new Term(ID, id));
            c.searchers().maybeRefreshBlocking();
        } catch (AlreadyClosedException e) {
            throw closed(collection, c, e);
        } catch (IOException e) {
            throw new IndexException("Cannot delete from collection '" + collection + "': " + e.getMessage(), e);
        }
        return present;
    }

    @Override
    public long count(String collection) {
        return withSearcher(collection, searcher -> (long) searcher.count(IMAGES));
    }

    @Override
    public Set<String> present(String collection, Collection<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return withSearcher(collection, searcher -> {
            Query query = new BooleanQuery.Builder().add(IMAGES, BooleanClause.Occur.FILTER)
                    .add(new TermInSetQuery(ID, ids.stream().map(BytesRef::new).toList()), BooleanClause.Occur.FILTER).build();
            Set<String> found = new HashSet<>();
            for (ScoreDoc doc : searcher.search(query, ids.size()).scoreDocs) {
                found.add(searcher.storedFields().document(doc.doc).get(ID));
            }
            return found;
        });
    }

    @Override
    public List<IndexHit> search(String collection, VectorSearch search) {
        Open c = collection(collection);
        return withSearcher(collection, searcher -> {
            Query filter = filter(search.filters());
            int candidates = Math.max(search.window(), search.numCandidates());
            boolean regions = search.target() == VectorSearch.Target.REGIONS;
            Query query = regions
                    ? new DiversifyingChildrenFloatKnnVectorQuery(REGION_VECTOR, search.vector(),
                            search.filters().isEmpty() ? null : new ToChildBlockJoinQuery(filter, c.parents()), candidates, c.parents())
                    : new KnnFloatVectorQuery(IMAGE_VECTOR, search.vector(), candidates, filter);
            ScoreDoc[] found = searcher.search(query, candidates).scoreDocs;
            List<Candidate> exact = rescore(searcher, found, regions ? REGION_VECTOR : IMAGE_VECTOR, search.vector(), regions ? c.parents() : null);
            List<IndexHit> hits = new ArrayList<>(Math.min(search.window(), exact.size()));
            for (Candidate candidate : exact.subList(0, Math.min(search.window(), exact.size()))) {
                hits.add(regions ? regionHit(searcher, c.parents(), candidate) : imageHit(searcher, candidate));
            }
            return hits;
        });
    }

    /**
     * Exact cosines of the candidates from their float vectors (read in doc order, per segment), best first. For a
     * region search ({@code parents} given) each candidate stands for its image: all the image's regions are
     * rescored and the best kept, because the graph walk picked that region among the ones it visited, and by their
     * int8 scores in a quantized collection, which can rank an image's regions differently from their exact ones.
     */
    private static List<Candidate> rescore(IndexSearcher searcher, ScoreDoc[] found, String field, float[] query, BitSetProducer parents)
            throws IOException {
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int[] docs = java.util.Arrays.stream(found).mapToInt(d -> d.doc).sorted().toArray();
        List<Candidate> out = new ArrayList<>(docs.length);
        FloatVectorValues values = null;
        BitSet images = null;
        int leafIndex = -1;
        for (int doc : docs) {
            int leaf = ReaderUtil.subIndex(doc, leaves);
            if (leaf != leafIndex) {
                leafIndex = leaf;
                values = leaves.get(leaf).reader().getFloatVectorValues(field);
                images = parents == null ? null : parents.getBitSet(leaves.get(leaf));
            }
            int docBase = leaves.get(leaf).docBase;
            int local = doc - docBase;
            // a region's siblings sit between the previous image of its block and its own image
            int first = images == null ? local : (local == 0 ? 0 : images.prevSetBit(local - 1) + 1);
            int last = images == null ? local : images.nextSetBit(local) - 1;
            Candidate best = null;
            // the iterator only moves forward; the last image's read may already have passed first
            for (int sibling = values.docID() >= first ? values.docID() : values.advance(first); sibling <= last; sibling = values.nextDoc()) {
                double cosine = dot(values.vectorValue(), query);
                if (best == null || cosine > best.cosine()) {
                    best = new Candidate(docBase + sibling, cosine);
                }
            }
            if (best == null || (images == null && best.doc() != doc)) {
                throw new IndexException("Vector of document " + doc + " missing from field " + field);
            }
            out.add(best);
        }
        out.sort(Comparator.comparingDouble(Candidate::cosine).reversed().thenComparingInt(Candidate::doc));
        return out;
    }

    private static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    private static IndexHit imageHit(IndexSearcher searcher, Candidate candidate) throws IOException {
        Document document = searcher.storedFields().document(candidate.doc());
        Source source = source(document);
        return new IndexHit(document.get(ID), candidate.cosine(), source.metadata(), null);
    }

    private static IndexHit regionHit(IndexSearcher searcher, BitSetProducer parents, Candidate candidate) throws IOException {
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(candidate.doc(), leaves));
        int parent = leaf.docBase + parents.getBitSet(leaf).nextSetBit(candidate.doc() - leaf.docBase);
        int position = searcher.storedFields().document(candidate.doc()).getField(REGION_POSITION).numericValue().intValue();
        Document document = searcher.storedFields().document(parent);
        Source source = source(document);
        return new IndexHit(document.get(ID), candidate.cosine(), source.metadata(),
                new IndexHit.RegionMatch(position, source.boxes().get(position), candidate.cosine()));
    }

    private static Source source(Document image) throws IOException {
        BytesRef json = image.getBinaryValue(SOURCE);
        return JSON.readValue(json.bytes, json.offset, json.length, Source.class);
    }

    /** Image documents matching every filter. */
    private static Query filter(List<VectorSearch.Filter> filters) {
        BooleanQuery.Builder query = new BooleanQuery.Builder().add(IMAGES, BooleanClause.Occur.FILTER);
        for (VectorSearch.Filter filter : filters) {
            query.add(filter instanceof VectorSearch.KeywordFilter k
                    ? new TermInSetQuery(keywordField(k.field()), k.anyOf().stream().map(BytesRef::new).toList())
                    : range((VectorSearch.RangeFilter) filter), BooleanClause.Occur.FILTER);
        }
        return query.build();
    }

    private static Query range(VectorSearch.RangeFilter r) {
        return DoublePoint.newRangeQuery(numberField(r.field()),
                r.min() == null ? Double.NEGATIVE_INFINITY : r.min(), r.max() == null ? Double.POSITIVE_INFINITY : r.max());
    }

    private static Query image(String id) {
        return new BooleanQuery.Builder().add(IMAGES, BooleanClause.Occur.FILTER)
                .add(new TermQuery(new Term(ID, id)), BooleanClause.Occur.FILTER).build();
    }

    private static String keywordField(String field) {
        return "keyword." + field;
    }

    private static String numberField(String field) {
        return "number." + field;
    }

    private interface SearcherCall<T> {
        T apply(IndexSearcher searcher) throws IOException;
    }

    private <T> T withSearcher(String collection, SearcherCall<T> call) {
        Open c = collection(collection);
        try {
            IndexSearcher searcher = c.searchers().acquire();
            try {
                return call.apply(searcher);
            } finally {
                c.searchers().release(searcher);
            }
        } catch (AlreadyClosedException e) {
            throw closed(collection, c, e);
        } catch (IOException e) {
            throw new IndexException("Cannot read collection '" + collection + "': " + e.getMessage(), e);
        }
    }

    /**
     * What a request meets when its collection's writer or readers closed under it: the collection was dropped
     * meanwhile (404), or the writer failed for good (a full disk, say), in which case it is let go so that the next
     * request opens the collection afresh from its last commit.
     */
    private synchronized IndexException closed(String collection, Open used, AlreadyClosedException e) {
        if (open.get(collection) != used) {
            return describe(collection).isPresent()
                    ? new IndexException("Collection '" + collection + "' was replaced while this request used it; send it again.", e)
                    : new CollectionMissingException("Collection '" + collection + "' was deleted while this request used it.");
        }
        open.remove(collection);
        Throwable failure = used.writer().getTragicException();
        try {
            used.searchers().close();
        } catch (IOException | AlreadyClosedException ignored) {
            // already failed: the failure below is the one to report
        }
        return new IndexException("Collection '" + collection + "' failed to write (" + (failure == null ? e.getMessage() : failure.toString())
                + "); it reopens from its last commit on the next request.", e);
    }

    /** The open writer and readers of a collection, opened on first use (one writer per collection and process). */
    private synchronized Open collection(String name) {
        Open opened = open.get(name);
        if (opened != null) {
            return opened;
        }
        CollectionSpec spec = describe(name).orElseThrow(() -> new CollectionMissingException("No collection '" + name + "'."));
        KnnVectorsFormat format = new WideVectorsFormat(spec.quantized()
                ? new Lucene99HnswScalarQuantizedVectorsFormat(hnsw.maxConnections(), hnsw.beamWidth(), mergeWorkers, 7, false, null, mergeExecutor)
                : new Lucene99HnswVectorsFormat(hnsw.maxConnections(), hnsw.beamWidth(), mergeWorkers, mergeExecutor));
        IndexWriterConfig config = new IndexWriterConfig().setCodec(new Lucene912Codec() {
            @Override
            public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                return format;
            }
        }).setUseCompoundFile(false) // vector segments are large: packing them into a compound file only copies them once more
                .setRAMBufferSizeMB(tuning.writerBufferMb());
        try {
            IndexWriter writer = new IndexWriter(FSDirectory.open(root.resolve(name)), config);
            opened = new Open(spec, writer, new SearcherManager(writer, new SearcherFactory() {
                @Override
                public IndexSearcher newSearcher(IndexReader reader, IndexReader previous) {
                    return new IndexSearcher(reader, searchExecutor);
                }
            }), new QueryBitSetProducer(IMAGES));
        } catch (LockObtainFailedException e) {
            throw new IndexException("Collection '" + name + "' is open in another process (a bulk job or another server): " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IndexException("Cannot open collection '" + name + "': " + e.getMessage(), e);
        }
        open.put(name, opened);
        return opened;
    }

    @Override
    public synchronized void close() {
        try {
            for (Open c : open.values()) {
                c.searchers().close();
                c.writer().close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            open.clear();
            if (mergeExecutor != null) {
                mergeExecutor.shutdown();
            }
            if (searchExecutor != null) {
                searchExecutor.shutdown();
            }
        }
    }
}
