package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.Problem;
import java.net.URI;
import org.springframework.http.HttpStatus;

/** The stable {@code type} of every RFC 9457 problem the API returns; clients switch on these. */
public enum ProblemType {
    INVALID_REQUEST(HttpStatus.BAD_REQUEST, "Invalid request"),
    UNAUTHENTICATED(HttpStatus.UNAUTHORIZED, "Authentication required"),
    FORBIDDEN(HttpStatus.FORBIDDEN, "Forbidden"),
    REQUEST_TIMEOUT(HttpStatus.REQUEST_TIMEOUT, "Request timeout"),
    INVALID_IMAGE(HttpStatus.UNPROCESSABLE_CONTENT, "Invalid image"),
    UNSUPPORTED_IMAGE_FORMAT(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported image format"),
    IMAGE_TOO_LARGE(HttpStatus.CONTENT_TOO_LARGE, "Image too large"),
    INVALID_BOX(HttpStatus.UNPROCESSABLE_CONTENT, "Invalid box"),
    LIMIT_EXCEEDED(HttpStatus.CONTENT_TOO_LARGE, "Request limit exceeded"),
    UNSUPPORTED_PARAMETER(HttpStatus.BAD_REQUEST, "Unsupported parameter"),
    UNSUPPORTED_MEDIA_TYPE(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    NOT_FOUND(HttpStatus.NOT_FOUND, "Not found"),
    CONFLICT(HttpStatus.CONFLICT, "Conflict"),
    METHOD_NOT_ALLOWED(HttpStatus.METHOD_NOT_ALLOWED, "Method not allowed"),
    NOT_ACCEPTABLE(HttpStatus.NOT_ACCEPTABLE, "Not acceptable"),
    OVERLOADED(HttpStatus.TOO_MANY_REQUESTS, "Server busy"),
    UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable"),
    INTERNAL(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error");

    private final HttpStatus status;
    private final String title;

    ProblemType(HttpStatus status, String title) {
        this.status = status;
        this.title = title;
    }

    public HttpStatus status() {
        return status;
    }

    public String title() {
        return title;
    }

    /** The problem type of a use case's {@link Problem} (same names). */
    public static ProblemType of(Problem problem) {
        return valueOf(problem.name());
    }

    /**
     * The type of an error status raised outside our handlers (by the servlet container, for instance); a status
     * without a type of its own is {@code invalid-request} (4xx, and 501/505: a method, transfer encoding or HTTP
     * version the client should not have used) or {@code internal} (other 5xx).
     */
    public static ProblemType forStatus(int status) {
        return switch (status) {
            case 401 -> UNAUTHENTICATED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 408 -> REQUEST_TIMEOUT;
            case 413 -> LIMIT_EXCEEDED;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 429 -> OVERLOADED;
            case 503 -> UNAVAILABLE;
            default -> status < 500 || status == 501 || status == 505 ? INVALID_REQUEST : INTERNAL;
        };
    }

    public URI uri() {
        return URI.create("urn:fgclip2:problem:" + name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
    }
}
