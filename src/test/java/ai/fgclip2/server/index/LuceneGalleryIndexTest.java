package ai.fgclip2.server.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.fgclip2.server.index.lucene.LuceneGalleryIndex;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded index against brute force on random vectors: filtered searches keep their top-k full (the filter is
 * inside the graph search), region searches return each image once with its best region, quantized collections
 * still report exact cosines, replacement and deletion by id, and commits that survive reopening.
 */
class LuceneGalleryIndexTest {
    private static final int DIMENSIONS = 64;
    private static final HnswSettings HNSW = new HnswSettings(16, 100);
    private static final GalleryFixture GALLERY = new GalleryFixture(3000, DIMENSIONS, 7);

    @TempDir
    Path root;

    private LuceneGalleryIndex filled(boolean quantized) {
        LuceneGalleryIndex index = new LuceneGalleryIndex(root, HNSW);
        index.create(GalleryFixture.spec("g", DIMENSIONS, quantized));
        for (int from = 0; from < GALLERY.items.size(); from += 500) {
            index.upsert("g", GALLERY.items.subList(from, Math.min(GALLERY.items.size(), from + 500)));
        }
        return index;
    }

    @Test
    void aSelectiveFilterStillFillsTopKWithTheExactBestMatches() {
        try (LuceneGalleryIndex index = filled(false)) {
            SplittableRandom random = new SplittableRandom(11);
            for (int q = 0; q < 10; q++) {
                float[] query = GalleryFixture.unit(random, DIMENSIONS);
                List<VectorSearch.Filter> rare = List.of(new VectorSearch.KeywordFilter("color", List.of("rare")));
                List<IndexHit> hits = index.search("g", new VectorSearch(VectorSearch.Target.IMAGES, query, rare, 10, 10));
                List<GalleryFixture.Expected> expected = GALLERY.exact(query, false, 10, item -> item.metadata().keywords().get("color").contains("rare"));
                // 60 rare items in 3000: a post-filter on the unfiltered top 10 would keep almost none
                assertThat(hits).extracting(IndexHit::id).containsExactlyElementsOf(expected.stream().map(GalleryFixture.Expected::id).toList());
                List<VectorSearch.Filter> range = List.of(new VectorSearch.RangeFilter("year", 1910.0, 1912.0),
                        new VectorSearch.KeywordFilter("color", List.of("red", "green")));
                List<IndexHit> ranged = index.search("g", new VectorSearch(VectorSearch.Target.IMAGES, query, range, 10, 10));
                assertThat(ranged).hasSize(10).allSatisfy(hit -> {
                    assertThat(hit.metadata().numbers().get("year")).isBetween(1910.0, 1912.0);
                    assertThat(hit.metadata().keywords().get("color")).containsAnyOf("red", "green");
                });
            }
        }
    }

    @Test
    void optimizeLeavesOneSegmentThatFindsTheExactBestMatches() throws Exception {
        try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, HNSW)) {
            index.create(GalleryFixture.spec("g", DIMENSIONS, false));
            for (int from = 0; from < GALLERY.items.size(); from += 500) {
                index.upsert("g", GALLERY.items.subList(from, Math.min(GALLERY.items.size(), from + 500)));
                index.commit("g"); // a commit per batch, as the bulk job does: one segment each
            }
            assertThat(segments()).isGreaterThan(1);
            index.optimize("g");
            assertThat(segments()).as("committed as one segment").isEqualTo(1);
            SplittableRandom random = new SplittableRandom(13);
            for (int q = 0; q < 10; q++) {
                float[] query = GalleryFixture.unit(random, DIMENSIONS);
                List<IndexHit> hits = index.search("g", new VectorSearch(VectorSearch.Target.IMAGES, query, List.of(), 10, 500));
                List<GalleryFixture.Expected> expected = GALLERY.exact(query, false, 10, item -> true);
                assertThat(hits).extracting(IndexHit::id).containsExactlyElementsOf(expected.stream().map(GalleryFixture.Expected::id).toList());
            }
            assertThat(index.count("g")).isEqualTo(GALLERY.items.size());
        }
    }

    /** Segments of the last commit, read from the directory as a fresh process would. */
    private int segments() throws java.io.IOException {
        try (org.apache.lucene.store.Directory directory = org.apache.lucene.store.FSDirectory.open(root.resolve("g"));
             org.apache.lucene.index.DirectoryReader reader = org.apache.lucene.index.DirectoryReader.open(directory)) {
            return reader.leaves().size();
        }
    }

    @Test
    void regionSearchReturnsEachImageOnceWithItsBestRegionEvenUnderAFilter() {
        try (LuceneGalleryIndex index = filled(false)) {
            SplittableRandom random = new SplittableRandom(12);
            for (int q = 0; q < 5; q++) {
                float[] query = GalleryFixture.unit(random, DIMENSIONS);
                List<IndexHit> hits = index.search("g", new VectorSearch(VectorSearch.Target.REGIONS, query, List.of(), 20, 200));
                List<GalleryFixture.Expected> expected = GALLERY.exact(query, true, 20, item -> true);
                assertThat(hits).extracting(IndexHit::id).containsExactlyElementsOf(expected.stream().map(GalleryFixture.Expected::id).toList());
                for (int i = 0; i < hits.size(); i++) {
                    assertThat(hits.get(i).region().index()).isEqualTo(expected.get(i).region());
                    assertThat(hits.get(i).cosine()).isCloseTo(expected.get(i).cosine(), within(1e-6));
                    IndexItem item = GALLERY.items.get(Integer.parseInt(hits.get(i).id().substring("item-".length())));
                    assertThat(hits.get(i).region().box()).containsExactly(item.regions().get(expected.get(i).region()).box());
                }
                List<VectorSearch.Filter> blue = List.of(new VectorSearch.KeywordFilter("color", List.of("blue")));
                List<IndexHit> filtered = index.search("g", new VectorSearch(VectorSearch.Target.REGIONS, query, blue, 10, 10));
                List<GalleryFixture.Expected> expectedBlue = GALLERY.exact(query, true, 10, item -> item.metadata().keywords().get("color").contains("blue"));
                assertThat(filtered).extracting(IndexHit::id).containsExactlyElementsOf(expectedBlue.stream().map(GalleryFixture.Expected::id).toList());
            }
        }
    }

    @Test
    void quantizedCollectionsRescoreTheirCandidatesExactly() {
        try (LuceneGalleryIndex index = filled(true)) {
            SplittableRandom random = new SplittableRandom(13);
            // candidates enough that the exact top 10 are among them: what is checked is the rescoring, not recall
            for (int q = 0; q < 5; q++) {
                float[] query = GalleryFixture.unit(random, DIMENSIONS);
                for (boolean regions : List.of(false, true)) {
                    List<IndexHit> hits = index.search("g", new VectorSearch(regions ? VectorSearch.Target.REGIONS : VectorSearch.Target.IMAGES, query,
                            List.of(), 10, 400));
                    List<GalleryFixture.Expected> expected = GALLERY.exact(query, regions, 10, item -> true);
                    assertThat(hits).extracting(IndexHit::id).containsExactlyElementsOf(expected.stream().map(GalleryFixture.Expected::id).toList());
                    for (int i = 0; i < hits.size(); i++) {
                        assertThat(hits.get(i).cosine()).isCloseTo(expected.get(i).cosine(), within(1e-6));
                        if (regions) {
                            // the exact best region, even where quantized scores rank the image's regions otherwise
                            assertThat(hits.get(i).region().index()).isEqualTo(expected.get(i).region());
                        }
                    }
                }
            }
        }
    }

    @Test
    void reAddingAnIdReplacesItAndDeletingRemovesItsRegionsToo() {
        try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, HNSW)) {
            index.create(GalleryFixture.spec("g", DIMENSIONS, false));
            IndexItem first = GALLERY.items.get(3);
            index.upsert("g", List.of(first, GALLERY.items.get(5)));
            IndexItem replacement = new IndexItem(first.id(), Metadata.EMPTY, GALLERY.items.get(7).embedding(), GALLERY.items.get(7).regions());
            index.upsert("g", List.of(replacement));
            assertThat(index.count("g")).isEqualTo(2);
            StoredItem stored = index.get("g", first.id()).orElseThrow();
            assertThat(stored.metadata()).isEqualTo(Metadata.EMPTY);
            assertThat(stored.boxes()).hasSize(replacement.regions().size());
            List<IndexHit> top = index.search("g", new VectorSearch(VectorSearch.Target.REGIONS, replacement.regions().get(0).embedding(), List.of(), 5, 10));
            assertThat(top.get(0).id()).isEqualTo(first.id());
            assertThat(top.get(0).cosine()).isCloseTo(1.0, within(1e-5));

            assertThat(index.delete("g", first.id())).isTrue();
            assertThat(index.delete("g", first.id())).isFalse();
            assertThat(index.present("g", List.of(first.id(), "item-5", "nothing"))).isEqualTo(Set.of("item-5"));
            assertThat(index.search("g", new VectorSearch(VectorSearch.Target.REGIONS, replacement.regions().get(0).embedding(), List.of(), 5, 10)))
                    .extracting(IndexHit::id).doesNotContain(first.id());
        }
    }

    @Test
    void committedItemsSurviveReopeningAndUncommittedOnesDoNotWhenTheWriterIsLost() {
        try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, HNSW)) {
            index.create(GalleryFixture.spec("g", DIMENSIONS, false));
            index.upsert("g", GALLERY.items.subList(0, 20));
            index.commit("g");
        }
        try (LuceneGalleryIndex reopened = new LuceneGalleryIndex(root, HNSW)) {
            assertThat(reopened.describe("g")).contains(GalleryFixture.spec("g", DIMENSIONS, false));
            assertThat(reopened.count("g")).isEqualTo(20);
            assertThat(reopened.list()).extracting(CollectionSpec::name).containsExactly("g");
            assertThatThrownBy(() -> new LuceneGalleryIndex(root, HNSW).count("g"))
                    .isInstanceOf(IndexException.class).hasMessageContaining("open in another process");
            reopened.drop("g");
            assertThat(reopened.describe("g")).isEmpty();
        }
    }

    @Test
    void aCollectionCreatedWhereADropStoppedHalfWayStartsEmpty() throws Exception {
        try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, HNSW)) {
            index.create(GalleryFixture.spec("g", DIMENSIONS, false));
            index.upsert("g", GALLERY.items.subList(0, 20));
            index.commit("g");
        }
        // a drop removes the spec first, then the segments; a crash between the two leaves the segments behind
        java.nio.file.Files.delete(root.resolve("g").resolve("collection.json"));
        try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, HNSW)) {
            assertThat(index.describe("g")).isEmpty();
            index.create(GalleryFixture.spec("g", DIMENSIONS, false));
            assertThat(index.count("g")).isZero();
        }
    }

    @Test
    void requestsInFlightWhenTheirCollectionIsDroppedGetCollectionMissing() throws Exception {
        try (LuceneGalleryIndex index = filled(false)) {
            java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            java.util.concurrent.atomic.AtomicInteger succeeded = new java.util.concurrent.atomic.AtomicInteger();
            List<Thread> clients = new java.util.ArrayList<>();
            for (int c = 0; c < 3; c++) {
                int client = c;
                Thread thread = new Thread(() -> {
                    SplittableRandom random = new SplittableRandom(client);
                    // until a while after the drop: the requests running at that moment are the ones that matter
                    for (int round = 0; round < 10_000 && failures.size() < 30; round++) {
                        try {
                            if (client == 0) {
                                index.upsert("g", List.of(GALLERY.items.get(random.nextInt(GALLERY.items.size()))));
                            } else {
                                index.search("g", new VectorSearch(VectorSearch.Target.IMAGES, GalleryFixture.unit(random, DIMENSIONS), List.of(), 10, 200));
                            }
                            succeeded.incrementAndGet();
                        } catch (RuntimeException e) {
                            failures.add(e);
                        }
                    }
                });
                clients.add(thread);
                thread.start();
            }
            while (succeeded.get() < 30) {
                Thread.onSpinWait();
            }
            index.drop("g");
            for (Thread thread : clients) {
                thread.join(60_000);
            }
            assertThat(failures).isNotEmpty().allSatisfy(failure -> assertThat(failure).isInstanceOf(CollectionMissingException.class));
        }
    }
}
