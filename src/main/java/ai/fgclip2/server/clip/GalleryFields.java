package ai.fgclip2.server.clip;

import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.CollectionSpec.FieldType;
import ai.fgclip2.server.index.Metadata;
import ai.fgclip2.server.index.VectorSearch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A collection's metadata fields: their declaration, an item's values checked against it, and search filters.
 * A keyword field takes a string or an array of strings (returned as an array); a number field one finite number.
 */
final class GalleryFields {
    static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    static final int MAX_FIELDS = 64;
    static final int MAX_KEYWORD_CHARS = 256;
    static final int MAX_KEYWORDS = 64;

    private GalleryFields() {
    }

    /** {@code {"year": "number", "tags": "keyword"}} as declared when a collection is created. */
    static Map<String, FieldType> declare(Map<String, String> fields) {
        Map<String, FieldType> out = new LinkedHashMap<>();
        if (fields == null) {
            return out;
        }
        if (fields.size() > MAX_FIELDS) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "A collection has at most " + MAX_FIELDS + " metadata fields; got " + fields.size() + ".", "/fields");
        }
        fields.forEach((name, type) -> {
            String pointer = "/fields/" + name;
            if (!FIELD_NAME.matcher(name).matches()) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Field name '" + name + "' must match " + FIELD_NAME.pattern() + ".", pointer);
            }
            if (!"keyword".equals(type) && !"number".equals(type)) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Field '" + name + "' must be of type keyword or number; got '" + type + "'.", pointer);
            }
            out.put(name, FieldType.valueOf(type.toUpperCase(Locale.ROOT)));
        });
        return out;
    }

    /** An item's metadata; {@code pointer} names its metadata object in the request. */
    static Metadata metadata(CollectionSpec spec, Map<String, Object> values, String pointer) {
        if (values == null || values.isEmpty()) {
            return Metadata.EMPTY;
        }
        Map<String, List<String>> keywords = new LinkedHashMap<>();
        Map<String, Double> numbers = new LinkedHashMap<>();
        values.forEach((field, value) -> {
            String at = pointer + "/" + field;
            FieldType type = declared(spec, field, at);
            if (type == FieldType.NUMBER) {
                numbers.put(field, number(field, value, at));
            } else {
                keywords.put(field, keywords(field, value, at));
            }
        });
        return new Metadata(keywords, numbers);
    }

    /**
     * Filters by field: a keyword field matches a string or any of an array of strings; a number field matches a
     * number exactly or a range {@code {"gte": a, "lte": b}} (either bound may be left out).
     */
    static List<VectorSearch.Filter> filters(CollectionSpec spec, Map<String, Object> filter) {
        List<VectorSearch.Filter> out = new ArrayList<>();
        if (filter == null) {
            return out;
        }
        filter.forEach((field, value) -> {
            String at = "/filter/" + field;
            if (declared(spec, field, at) == FieldType.KEYWORD) {
                out.add(new VectorSearch.KeywordFilter(field, keywords(field, value, at)));
            } else if (value instanceof Map<?, ?> range) {
                for (Object bound : range.keySet()) {
                    if (!"gte".equals(bound) && !"lte".equals(bound)) {
                        throw new ProblemException(Problem.INVALID_REQUEST, "A range on '" + field + "' takes 'gte' and 'lte'; got '" + bound + "'.", at + "/" + bound);
                    }
                }
                Double min = range.get("gte") == null ? null : number(field, range.get("gte"), at + "/gte");
                Double max = range.get("lte") == null ? null : number(field, range.get("lte"), at + "/lte");
                out.add(new VectorSearch.RangeFilter(field, min, max));
            } else {
                double exact = number(field, value, at);
                out.add(new VectorSearch.RangeFilter(field, exact, exact));
            }
        });
        return out;
    }

    /** Metadata as the API shows it: keyword fields as arrays, number fields as numbers. */
    static Map<String, Object> view(Metadata metadata) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.putAll(metadata.keywords());
        out.putAll(metadata.numbers());
        return out;
    }

    private static FieldType declared(CollectionSpec spec, String field, String pointer) {
        FieldType type = spec.fields().get(field);
        if (type == null) {
            throw new ProblemException(Problem.INVALID_REQUEST, "Collection '" + spec.name() + "' has no field '" + field + "'; its fields: "
                    + spec.fields().keySet() + " (declared when the collection is created).", pointer);
        }
        return type;
    }

    private static double number(String field, Object value, String pointer) {
        if (!(value instanceof Number number) || !Double.isFinite(number.doubleValue())) {
            throw new ProblemException(Problem.INVALID_REQUEST, "Field '" + field + "' is a number field; got " + describe(value) + ".", pointer);
        }
        return number.doubleValue();
    }

    private static List<String> keywords(String field, Object value, String pointer) {
        List<?> values = value == null ? List.of() : value instanceof List<?> list ? list : List.of(value);
        if (values.isEmpty() || values.size() > MAX_KEYWORDS) {
            throw new ProblemException(Problem.INVALID_REQUEST, "Field '" + field + "' takes 1 to " + MAX_KEYWORDS + " strings; got " + describe(value) + ".", pointer);
        }
        List<String> out = new ArrayList<>(values.size());
        for (Object v : values) {
            if (!(v instanceof String s)) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Field '" + field + "' is a keyword field (a string or an array of strings); got "
                        + describe(value) + ".", pointer);
            }
            if (s.length() > MAX_KEYWORD_CHARS) {
                throw new ProblemException(Problem.LIMIT_EXCEEDED, "A value of field '" + field + "' has " + s.length() + " characters; the limit is "
                        + MAX_KEYWORD_CHARS + ".", pointer);
            }
            out.add(s);
        }
        return out;
    }

    private static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
        }
        if (value instanceof Number) {
            return "the number " + value;
        }
        if (value instanceof Boolean) {
            return "the boolean " + value;
        }
        return value instanceof List<?> ? "an array" : "an object";
    }
}
