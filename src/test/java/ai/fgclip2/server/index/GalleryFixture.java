package ai.fgclip2.server.index;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** A synthetic gallery of random unit vectors with regions and metadata, and brute-force answers to compare with. */
public final class GalleryFixture {
    public static final String[] COLORS = {"red", "green", "blue", "rare"};

    public final int dimensions;
    public final List<IndexItem> items = new ArrayList<>();

    /** Every 50th item is "rare"; item i has year 1900 + i % 100 and i % 4 regions. */
    public GalleryFixture(int count, int dimensions, long seed) {
        this.dimensions = dimensions;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            String color = i % 50 == 0 ? "rare" : COLORS[i % 3];
            List<IndexItem.Region> regions = new ArrayList<>();
            for (int r = 0; r < i % 4; r++) {
                regions.add(new IndexItem.Region(new float[] {r, r, r + 10, r + 20}, unit(random, dimensions)));
            }
            items.add(new IndexItem("item-" + i, new Metadata(Map.of("color", List.of(color)), Map.of("year", 1900.0 + i % 100)),
                    unit(random, dimensions), regions));
        }
    }

    public static float[] unit(SplittableRandom random, int dimensions) {
        float[] v = new float[dimensions];
        double norm = 0;
        for (int d = 0; d < dimensions; d++) {
            v[d] = (float) random.nextGaussian();
            norm += v[d] * v[d];
        }
        float inverse = (float) (1 / Math.sqrt(norm));
        for (int d = 0; d < dimensions; d++) {
            v[d] *= inverse;
        }
        return v;
    }

    public static CollectionSpec spec(String name, int dimensions, boolean quantized) {
        return new CollectionSpec(name, "test-model", "rev-a", "fp32", dimensions,
                Map.of("color", CollectionSpec.FieldType.KEYWORD, "year", CollectionSpec.FieldType.NUMBER), quantized);
    }

    public record Expected(String id, double cosine, int region) {
    }

    /** Exact top-k by brute force, over images or (best region per image) over regions, among items passing {@code keep}. */
    public List<Expected> exact(float[] query, boolean regions, int k, java.util.function.Predicate<IndexItem> keep) {
        List<Expected> all = new ArrayList<>();
        for (IndexItem item : items) {
            if (!keep.test(item)) {
                continue;
            }
            if (!regions) {
                all.add(new Expected(item.id(), dot(query, item.embedding()), -1));
            } else if (!item.regions().isEmpty()) {
                int best = 0;
                for (int r = 1; r < item.regions().size(); r++) {
                    if (dot(query, item.regions().get(r).embedding()) > dot(query, item.regions().get(best).embedding())) {
                        best = r;
                    }
                }
                all.add(new Expected(item.id(), dot(query, item.regions().get(best).embedding()), best));
            }
        }
        all.sort((a, b) -> Double.compare(b.cosine(), a.cosine()));
        return all.subList(0, Math.min(k, all.size()));
    }

    public static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }
}
