package ai.fgclip2.server.web;

import java.util.Collection;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.PropertyBindingException;

/** Jackson's failures in the API's words: a JSON pointer and what was expected there, never a Java class name. */
final class JsonErrors {
    private JsonErrors() {
    }

    /** The JSON pointer of the failing value ({@code /boxes/0/1}), or null when the failure is not at a value (broken JSON). */
    static String pointer(JacksonException e) {
        if (e instanceof StreamReadException || e.getPath().isEmpty()) {
            return null;
        }
        StringBuilder pointer = new StringBuilder();
        for (JacksonException.Reference reference : e.getPath()) {
            pointer.append('/');
            if (reference.getPropertyName() != null) {
                pointer.append(reference.getPropertyName().replace("~", "~0").replace("/", "~1"));
            } else {
                pointer.append(reference.getIndex());
            }
        }
        return pointer.toString();
    }

    static String detail(JacksonException e, String pointer) {
        if (e instanceof PropertyBindingException unknown) {
            return "Unknown field '" + unknown.getPropertyName() + "'" + (pointer == null ? "" : " at " + pointer)
                    + "; see openapi.yaml for the fields of this endpoint.";
        }
        if (e instanceof MismatchedInputException mismatch) {
            String where = pointer == null ? "The request body" : "The value at " + pointer;
            return where + " must be " + expected(mismatch.getTargetType()) + " (values are not converted between JSON types).";
        }
        if (e instanceof StreamReadException) {
            TokenStreamLocation at = e.getLocation();
            return "The request body is not valid JSON" + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")") + ".";
        }
        return "The request body is not valid JSON for this endpoint (see openapi.yaml).";
    }

    /** What a value of {@code type} looks like in JSON. */
    static String expected(Class<?> type) {
        if (type == null) {
            return "of another JSON type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "an object";
        }
        return "of another JSON type";
    }
}
