package ai.fgclip2.server.index;

/** The index backend failed (I/O, a collection locked by another process, an unreachable or refusing cluster). */
public class IndexException extends RuntimeException {
    public IndexException(String message, Throwable cause) {
        super(message, cause);
    }

    public IndexException(String message) {
        super(message);
    }
}
