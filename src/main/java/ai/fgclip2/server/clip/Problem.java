package ai.fgclip2.server.clip;

/**
 * Why a use case refused its input or could not serve it, independent of the transport: the HTTP layer maps
 * each to a status and a stable problem type, a CLI prints it with the item's pointer.
 */
public enum Problem {
    INVALID_REQUEST,
    INVALID_IMAGE,
    UNSUPPORTED_IMAGE_FORMAT,
    IMAGE_TOO_LARGE,
    INVALID_BOX,
    LIMIT_EXCEEDED,
    UNSUPPORTED_PARAMETER,
    /** no such collection, item or vocabulary */
    NOT_FOUND,
    /** the state of a stored resource forbids it: a name taken, a vocabulary being built, a resource of another model */
    CONFLICT,
    UNAVAILABLE
}
