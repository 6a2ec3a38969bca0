package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits on pipeline futures until the request's deadline: no caller waits forever on a stuck pipeline. */
final class Await {
    private Await() {
    }

    /** The result; a pipeline failure is rethrown as a {@link CompletionException} around its cause. */
    static <T> T result(CompletableFuture<T> future, Admission admission) {
        try {
            return future.get(Math.max(0, admission.remaining().toNanos()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProblemException(Problem.UNAVAILABLE, "The request was interrupted (the server is shutting down).");
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new ProblemException(Problem.UNAVAILABLE, "Inference did not finish before the request's deadline (fgclip2.limits.inference-deadline).");
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        }
    }
}
