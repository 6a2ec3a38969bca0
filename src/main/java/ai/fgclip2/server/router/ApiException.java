package ai.fgclip2.server.router;

/**
 * A request the API refuses: its problem type, a human detail, and where in the request it went wrong
 * ({@code pointer}, a JSON pointer such as {@code /images/2} or {@code /boxes/0}; null when it is the whole request).
 */
public class ApiException extends RuntimeException {
    private final ProblemType type;
    private final String pointer;

    public ApiException(ProblemType type, String detail, String pointer) {
        super(detail);
        this.type = type;
        this.pointer = pointer;
    }

    public ApiException(ProblemType type, String detail) {
        this(type, detail, null);
    }

    public ProblemType type() {
        return type;
    }

    public String pointer() {
        return pointer;
    }
}
