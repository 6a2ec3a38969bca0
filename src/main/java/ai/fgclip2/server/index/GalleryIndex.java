package ai.fgclip2.server.index;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The gallery's storage port: collections of items (a global unit vector, metadata, optional region vectors) and
 * nearest-neighbour search over them. The clip layer validates everything first; an adapter only stores and
 * searches, and reports its own failures as {@link IndexException}. Vectors are unit length; scores are cosines.
 */
public interface GalleryIndex extends AutoCloseable {

    /** Creates an empty collection; the caller has checked that the name is free. */
    void create(CollectionSpec spec);

    Optional<CollectionSpec> describe(String collection);

    List<CollectionSpec> list();

    void drop(String collection);

    /** Adds or replaces (by id) the items; they are visible to search when this returns, durable after {@link #commit}. */
    void upsert(String collection, List<IndexItem> items);

    /** Makes every upsert and delete so far survive a crash. */
    void commit(String collection);

    /**
     * Merges the collection into one segment, so that a search walks one graph instead of one per segment.
     * Costly (more than building the graph did): for a read-mostly gallery after a bulk load. Committed when it
     * returns (Elasticsearch: started, finishing on the cluster).
     */
    void optimize(String collection);

    Optional<StoredItem> get(String collection, String id);

    /** @return whether the id was present */
    boolean delete(String collection, String id);

    long count(String collection);

    /** Which of these ids the collection holds (visible ones). */
    Set<String> present(String collection, Collection<String> ids);

    /** The best {@code search.window()} hits, best first. */
    List<IndexHit> search(String collection, VectorSearch search);

    @Override
    void close();
}
