package ai.fgclip2.server.clip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.ElasticsearchNode;
import ai.fgclip2.server.index.GalleryFixture;
import ai.fgclip2.server.index.GalleryIndex;
import ai.fgclip2.server.index.HnswSettings;
import ai.fgclip2.server.index.IndexException;
import ai.fgclip2.server.index.IndexHit;
import ai.fgclip2.server.index.IndexItem;
import ai.fgclip2.server.index.Metadata;
import ai.fgclip2.server.index.VectorSearch;
import ai.fgclip2.server.index.elasticsearch.ElasticsearchGalleryIndex;
import ai.fgclip2.server.index.elasticsearch.ElasticsearchSettings;
import ai.fgclip2.server.index.lucene.LuceneGalleryIndex;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The two gallery backends on the same data give the same answers: the embedded Lucene index and a real
 * Elasticsearch node (started from the Maven distribution on loopback). Once through the gallery use case (images
 * with boxes, embedded by the real pipeline over the fake engine; text, image and region queries, filters, pages),
 * once on random vectors against brute force, plus Elasticsearch's own storage operations.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GalleryBackendsIT {
    private static final HnswSettings HNSW = new HnswSettings(16, 100);
    private static final Gallery.Model MODEL = new Gallery.Model("fake", "rev-a", "fp32", FakeEngine.DIMENSIONS);
    private static final Gallery.Settings SETTINGS = new Gallery.Settings(100, 1000, false);
    private static final List<List<Double>> BOXES = List.of(List.of(0.0, 0.0, 60.0, 40.0), List.of(50.0, 30.0, 150.0, 110.0), List.of(10.0, 60.0, 90.0, 119.0));

    private ElasticsearchNode node;
    private ClipTestKit kit;
    private Path luceneRoot;
    private GalleryIndex lucene;
    private GalleryIndex elasticsearch;

    @BeforeAll
    void start() throws Exception {
        node = ElasticsearchNode.start();
        kit = new ClipTestKit();
        luceneRoot = Files.createTempDirectory("fgclip2-lucene-parity");
        lucene = new LuceneGalleryIndex(luceneRoot, HNSW);
        elasticsearch = new ElasticsearchGalleryIndex(new ElasticsearchSettings(List.of(URI.create("http://127.0.0.1:1/"), node.url()), null, null,
                "fgclip2-test-", Duration.ofSeconds(30)), HNSW);
    }

    @AfterAll
    void stop() throws java.io.IOException {
        if (lucene != null) {
            lucene.close();
            try (var files = Files.walk(luceneRoot)) {
                for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
        if (kit != null) {
            kit.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    void theSameGalleryGivesTheSameHitsOnBothBackends() {
        Gallery onLucene = new Gallery(kit.pipeline, lucene, MODEL, SETTINGS);
        Gallery onElasticsearch = new Gallery(kit.pipeline, elasticsearch, MODEL, SETTINGS);
        List<Gallery.NewItem> items = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("tags", i % 3 == 0 ? List.of("kitchen", "indoor") : List.of("street"));
            metadata.put("year", 2000 + i);
            items.add(new Gallery.NewItem("photo-" + i, new ImageInput(ClipTestKit.png(160, 120, i + 1), "/items/" + i), metadata, i % 4 == 3 ? null : BOXES));
        }
        for (Gallery gallery : List.of(onLucene, onElasticsearch)) {
            gallery.create(new Gallery.NewCollection("parity", Map.of("tags", "keyword", "year", "number")));
            gallery.add("parity", items.subList(0, 12), null);
            gallery.add("parity", items.subList(12, 24), null);
        }
        List<Gallery.SearchCommand> searches = List.of(
                search(new Gallery.Query("a red kettle", null, null), "images", null, 10, 0),
                search(new Gallery.Query("红色的水壶", null, null), "regions", null, 10, 0),
                search(new Gallery.Query(null, items.get(5).image(), null), "images", null, 5, 0),
                search(new Gallery.Query(null, items.get(6).image(), null), "regions", Map.of("tags", "kitchen"), 5, 0),
                search(new Gallery.Query("a street", null, null), "images", Map.of("year", Map.of("gte", 2005, "lte", 2015)), 4, 2),
                search(new Gallery.Query(null, null, kit.rawText("kettle", ai.fgclip2.server.pipeline.text.TextWalk.BOX)), "regions",
                        Map.of("tags", List.of("street", "none")), 8, 0));
        for (Gallery.SearchCommand command : searches) {
            List<Gallery.Hit> expected = onLucene.search("parity", command).hits();
            List<Gallery.Hit> actual = onElasticsearch.search("parity", command).hits();
            assertThat(expected).as("%s", command).isNotEmpty();
            assertThat(actual).extracting(Gallery.Hit::id).as("%s", command).containsExactlyElementsOf(expected.stream().map(Gallery.Hit::id).toList());
            for (int i = 0; i < expected.size(); i++) {
                assertThat(actual.get(i).score()).isCloseTo(expected.get(i).score(), within(1e-5));
                assertThat(actual.get(i).metadata()).isEqualTo(expected.get(i).metadata());
                if (expected.get(i).region() != null) {
                    assertThat(actual.get(i).region().index()).isEqualTo(expected.get(i).region().index());
                    assertThat(actual.get(i).region().box()).containsExactly(expected.get(i).region().box());
                }
            }
        }
        assertThat(onElasticsearch.collection("parity").count()).isEqualTo(24);
        assertThat(onElasticsearch.item("parity", "photo-1")).usingRecursiveComparison().isEqualTo(onLucene.item("parity", "photo-1"));
    }

    @ParameterizedTest(name = "quantized: {0}")
    @ValueSource(booleans = {false, true})
    void randomVectorsGiveTheExactTopHitsOnBoth(boolean quantized) {
        int dimensions = 64;
        GalleryFixture fixture = new GalleryFixture(2000, dimensions, 21);
        String collection = quantized ? "random-int8" : "random";
        for (GalleryIndex index : List.of(lucene, elasticsearch)) {
            index.create(GalleryFixture.spec(collection, dimensions, quantized));
            for (int from = 0; from < fixture.items.size(); from += 250) {
                index.upsert(collection, fixture.items.subList(from, from + 250));
            }
        }
        SplittableRandom random = new SplittableRandom(5);
        Predicate<ai.fgclip2.server.index.IndexItem> rare = item -> item.metadata().keywords().get("color").contains("rare");
        for (int q = 0; q < 8; q++) {
            float[] query = GalleryFixture.unit(random, dimensions);
            List<VectorSearch.Filter> rareOnly = List.of(new VectorSearch.KeywordFilter("color", List.of("rare")));
            assertSame(fixture, collection, fixture.exact(query, false, 10, item -> true), query, VectorSearch.Target.IMAGES, List.of());
            assertSame(fixture, collection, fixture.exact(query, true, 10, item -> true), query, VectorSearch.Target.REGIONS, List.of());
            assertSame(fixture, collection, fixture.exact(query, false, 10, rare), query, VectorSearch.Target.IMAGES, rareOnly);
            assertSame(fixture, collection, fixture.exact(query, true, 10, rare), query, VectorSearch.Target.REGIONS, rareOnly);
        }
    }

    private void assertSame(GalleryFixture fixture, String collection, List<GalleryFixture.Expected> exact, float[] query, VectorSearch.Target target,
                            List<VectorSearch.Filter> filters) {
        for (GalleryIndex index : List.of(lucene, elasticsearch)) {
            List<IndexHit> hits = index.search(collection, new VectorSearch(target, query, filters, 10, 200));
            if (index == elasticsearch && target == VectorSearch.Target.REGIONS && collection.endsWith("int8")) {
                // Elasticsearch picks each image's region by its int8 score and rescores that one region only (README):
                // the score is that region's exact cosine, but it need not be the image's best region
                assertThat(hits).hasSize(exact.size());
                for (IndexHit hit : hits) {
                    IndexItem item = fixture.items.stream().filter(i -> i.id().equals(hit.id())).findFirst().orElseThrow();
                    assertThat(hit.cosine()).isCloseTo(GalleryFixture.dot(query, item.regions().get(hit.region().index()).embedding()), within(1e-5));
                }
                continue;
            }
            assertThat(hits).extracting(IndexHit::id).as("%s %s %s", index.getClass().getSimpleName(), target, filters)
                    .containsExactlyElementsOf(exact.stream().map(GalleryFixture.Expected::id).toList());
            for (int i = 0; i < hits.size(); i++) {
                assertThat(hits.get(i).cosine()).isCloseTo(exact.get(i).cosine(), within(1e-5));
                if (target == VectorSearch.Target.REGIONS) {
                    assertThat(hits.get(i).region().index()).isEqualTo(exact.get(i).region());
                }
            }
        }
    }

    @Test
    void elasticsearchStoresReplacesDeletesAndDropsLikeTheEmbeddedIndex() {
        GalleryFixture fixture = new GalleryFixture(10, 16, 3);
        CollectionSpec spec = GalleryFixture.spec("crud", 16, true);
        elasticsearch.create(spec);
        assertThat(new ElasticsearchGalleryIndex(new ElasticsearchSettings(List.of(node.url()), null, null, "fgclip2-test-", Duration.ofSeconds(30)), HNSW)
                .describe("crud")).as("the spec is read back from the mapping").contains(spec);
        assertThat(elasticsearch.list()).extracting(CollectionSpec::name).contains("crud");
        elasticsearch.upsert("crud", fixture.items);
        var replaced = new ai.fgclip2.server.index.IndexItem("item-3", Metadata.EMPTY, fixture.items.get(4).embedding(), List.of());
        elasticsearch.upsert("crud", List.of(replaced));
        assertThat(elasticsearch.count("crud")).isEqualTo(10);
        assertThat(elasticsearch.get("crud", "item-3").orElseThrow().boxes()).isEmpty();
        assertThat(elasticsearch.get("crud", "item-2").orElseThrow().boxes()).hasSize(2);
        assertThat(elasticsearch.delete("crud", "item-3")).isTrue();
        assertThat(elasticsearch.delete("crud", "item-3")).isFalse();
        assertThat(elasticsearch.present("crud", List.of("item-1", "item-3", "zzz"))).isEqualTo(Set.of("item-1"));
        elasticsearch.optimize("crud"); // a force merge the cluster runs as a task
        assertThat(elasticsearch.count("crud")).isEqualTo(9);
        elasticsearch.drop("crud");
        assertThat(elasticsearch.describe("crud")).isEmpty();

        // dropped by another process while this one holds its spec: "gone", not a backend failure, and forgotten
        elasticsearch.create(GalleryFixture.spec("gone", 16, false));
        new ElasticsearchGalleryIndex(new ElasticsearchSettings(List.of(node.url()), null, null, "fgclip2-test-", Duration.ofSeconds(30)), HNSW).drop("gone");
        assertThat(elasticsearch.describe("gone")).as("still cached").isPresent();
        assertThatThrownBy(() -> elasticsearch.upsert("gone", fixture.items)).isInstanceOf(ai.fgclip2.server.index.CollectionMissingException.class);
        assertThat(elasticsearch.describe("gone")).as("forgotten once the cluster said so").isEmpty();
        GalleryIndex unreachable = new ElasticsearchGalleryIndex(new ElasticsearchSettings(List.of(URI.create("http://127.0.0.1:1/")), null, null,
                "x-", Duration.ofSeconds(2)), HNSW);
        assertThatThrownBy(() -> unreachable.describe("any")).isInstanceOf(IndexException.class).hasMessageContaining("No Elasticsearch endpoint");
    }

    private static Gallery.SearchCommand search(Gallery.Query query, String target, Map<String, Object> filter, int topK, int offset) {
        return new Gallery.SearchCommand(query, target, filter, topK, offset, null, null);
    }
}
