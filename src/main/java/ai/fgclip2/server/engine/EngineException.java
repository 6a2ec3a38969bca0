package ai.fgclip2.server.engine;

/** A graph failed to load or to run; the message says which and why. */
public class EngineException extends RuntimeException {
    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
