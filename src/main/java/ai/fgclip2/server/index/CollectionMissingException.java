package ai.fgclip2.server.index;

/** The collection is gone from the backend (dropped by another process or directly on the cluster). */
public class CollectionMissingException extends IndexException {
    public CollectionMissingException(String message) {
        super(message);
    }
}
