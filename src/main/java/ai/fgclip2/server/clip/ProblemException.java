package ai.fgclip2.server.clip;

/**
 * A use case refuses its input (or cannot serve it): the {@link Problem}, a detail for humans, and where in the
 * input it went wrong as a JSON pointer ({@code /images/2}, {@code /detections/0/box}; null for the whole input).
 */
public class ProblemException extends RuntimeException {
    private final Problem problem;
    private final String pointer;

    public ProblemException(Problem problem, String detail, String pointer) {
        super(detail);
        this.problem = problem;
        this.pointer = pointer;
    }

    public ProblemException(Problem problem, String detail) {
        this(problem, detail, null);
    }

    public Problem problem() {
        return problem;
    }

    public String pointer() {
        return pointer;
    }

    /** The first array index in the pointer (3 in /images/3, 2 in /detections/2/box), or null. */
    public Integer index() {
        return indexIn(pointer);
    }

    public static Integer indexIn(String pointer) {
        if (pointer == null) {
            return null;
        }
        for (String segment : pointer.split("/")) {
            if (!segment.isEmpty() && segment.chars().allMatch(Character::isDigit)) {
                return Integer.valueOf(segment);
            }
        }
        return null;
    }
}
