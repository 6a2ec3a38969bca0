package ai.fgclip2.server.index;

import java.util.List;

/**
 * A nearest-neighbour search: over image vectors, or over region vectors with one hit per image (its best region).
 * The filters are applied inside the graph search, so a selective filter still yields {@code window} hits when the
 * collection has that many matching items.
 *
 * @param window        hits wanted (offset + page size)
 * @param numCandidates candidates explored per segment/shard (at least window); with quantized vectors, also how many
 *                      are rescored exactly
 */
public record VectorSearch(Target target, float[] vector, List<Filter> filters, int window, int numCandidates) {

    public enum Target {
        IMAGES,
        REGIONS
    }

    /** All filters must hold. */
    public sealed interface Filter permits KeywordFilter, RangeFilter {
        String field();
    }

    /** The item has at least one of these values. */
    public record KeywordFilter(String field, List<String> anyOf) implements Filter {
    }

    /** min <= value <= max; a null bound is open. */
    public record RangeFilter(String field, Double min, Double max) implements Filter {
    }
}
