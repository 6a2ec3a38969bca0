package ai.fgclip2.server.clip;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Bounded waits on pipeline futures: no caller waits forever on a stuck pipeline. */
final class Await {
    static final long TIMEOUT_SECONDS = 120;

    private Await() {
    }

    /** The result; a pipeline failure is rethrown as a {@link CompletionException} around its cause. */
    static <T> T result(CompletableFuture<T> future) {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProblemException(Problem.UNAVAILABLE, "The request was interrupted (the server is shutting down).");
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new ProblemException(Problem.UNAVAILABLE, "Inference did not finish within " + TIMEOUT_SECONDS + " s.");
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        }
    }
}
