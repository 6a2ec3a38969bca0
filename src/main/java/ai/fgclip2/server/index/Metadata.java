package ai.fgclip2.server.index;

import java.util.Map;

/** An item's metadata, by the collection's field types: keyword fields hold one or more strings, number fields one number. */
public record Metadata(Map<String, java.util.List<String>> keywords, Map<String, Double> numbers) {
    public static final Metadata EMPTY = new Metadata(Map.of(), Map.of());
}
