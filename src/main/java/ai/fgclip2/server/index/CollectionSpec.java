package ai.fgclip2.server.index;

import java.util.Map;

/**
 * What a collection was built with, recorded when it is created: the model its vectors come from (vectors of
 * another revision or precision are not comparable), their dimension, the metadata fields and their types, and
 * whether its vectors are scalar-quantized.
 */
public record CollectionSpec(String name, String modelId, String modelRevision, String precision, int dimensions,
                             Map<String, FieldType> fields, boolean quantized) {

    public enum FieldType {
        /** exact-match strings, one or several per item */
        KEYWORD,
        /** one double per item, filtered by range */
        NUMBER
    }
}
