package ai.fgclip2.exporter.checkpoint;

/** A checkpoint that cannot be used; the message names the file and, where there is one, the tensor. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
