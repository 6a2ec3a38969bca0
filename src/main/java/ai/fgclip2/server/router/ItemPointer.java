package ai.fgclip2.server.router;

import java.util.function.Supplier;

/**
 * Which request item is being processed, so failures thrown deep in the pipeline (an undecodable image)
 * are reported with their JSON pointer. Scoped to the request thread.
 */
final class ItemPointer {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    private ItemPointer() {
    }

    static <T> T at(String pointer, Supplier<T> work) {
        String previous = CURRENT.get();
        CURRENT.set(pointer);
        try {
            return work.get();
        } finally {
            CURRENT.set(previous);
        }
    }

    static String current() {
        return CURRENT.get();
    }

    /** The first array index in a pointer such as /images/3 or /detections/2/box. */
    static Integer index(String pointer) {
        for (String segment : pointer.split("/")) {
            if (!segment.isEmpty() && segment.chars().allMatch(Character::isDigit)) {
                return Integer.valueOf(segment);
            }
        }
        return null;
    }
}
