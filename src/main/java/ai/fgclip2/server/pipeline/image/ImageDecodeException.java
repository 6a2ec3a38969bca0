package ai.fgclip2.server.pipeline.image;

/**
 * The request's image bytes cannot be turned into an RGB image. {@link #reason()} is stable, so that the HTTP
 * layer can map it to a problem type; the message is for humans.
 */
public final class ImageDecodeException extends RuntimeException {
    public enum Reason {
        /** No bytes at all. */
        EMPTY,
        /** Not one of the accepted formats (JPEG, PNG, WebP, GIF, BMP), or a variant of them that is not supported. */
        UNSUPPORTED_FORMAT,
        /** Looks like an accepted format but cannot be decoded (truncated, damaged, inconsistent header). */
        CORRUPT,
        /** The header declares more pixels than the configured limit; refused before decoding. */
        TOO_LARGE
    }

    private final Reason reason;

    public ImageDecodeException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ImageDecodeException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
