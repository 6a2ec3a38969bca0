package ai.fgclip2.server.clip;

/** Encoded image bytes (any accepted format) and the pointer that names them in the request. */
public record ImageInput(byte[] bytes, String pointer) {
}
