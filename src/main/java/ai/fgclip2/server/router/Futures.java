package ai.fgclip2.server.router;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.web.multipart.MultipartFile;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Small request-thread helpers: bounded waits on pipeline futures, multipart bytes, box lists from form fields. */
final class Futures {
    /** No request waits forever: a stuck pipeline answers 503 instead of hanging the client. */
    static final long TIMEOUT_SECONDS = 120;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Futures() {
    }

    static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(ProblemType.UNAVAILABLE, "The request was interrupted (the server is shutting down).");
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new ApiException(ProblemType.UNAVAILABLE, "Inference did not finish within " + TIMEOUT_SECONDS + " s.");
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        }
    }

    static <T> T call(Callable<T> work) {
        try {
            return work.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new CompletionException(e);
        }
    }

    static byte[] bytes(MultipartFile file) {
        try {
            return file.getBytes();
        } catch (IOException e) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "The upload '" + file.getOriginalFilename() + "' could not be read.");
        }
    }

    /** The {@code boxes} form field of a multipart request: a JSON array of [x1, y1, x2, y2]. */
    static List<List<Double>> parseBoxes(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            if (!root.isArray()) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "'boxes' must be a JSON array of [x1, y1, x2, y2].", "/boxes");
            }
            List<List<Double>> boxes = new ArrayList<>();
            for (JsonNode box : root) {
                List<Double> coordinates = new ArrayList<>();
                box.forEach(v -> coordinates.add(v.isNumber() ? v.asDouble() : null));
                boxes.add(coordinates);
            }
            return boxes;
        } catch (tools.jackson.core.JacksonException e) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'boxes' is not valid JSON.", "/boxes");
        }
    }
}
