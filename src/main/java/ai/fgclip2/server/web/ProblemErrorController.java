package ai.fgclip2.server.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /error}, where the servlet container forwards errors that no handler answered (a TRACE refused by the
 * connector, an exception thrown by a filter, ...): a problem+json answer instead of Spring Boot's default
 * error JSON. Failures of our own handlers never get here; {@link ProblemAdvice} answers them.
 */
@RestController
public class ProblemErrorController implements ErrorController {
    private final ProblemAdvice advice;

    public ProblemErrorController(ProblemAdvice advice) {
        this.advice = advice;
    }

    @RequestMapping("/error")
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer value ? value : 500;
        String path = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri ? uri : request.getRequestURI();
        if (request.getAttribute(RequestDispatcher.ERROR_EXCEPTION) instanceof Throwable failure) {
            return advice.unexpected(failure, request);
        }
        ProblemType type = ProblemType.forStatus(status);
        return ResponseEntity.status(type.status()).contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON)
                .body(ProblemAdvice.body(type, containerDetail(status), null, path));
    }

    /** What the container refused, in the client's terms (the container's own message can name internals). */
    static String containerDetail(int status) {
        return switch (status) {
            case 400 -> "The HTTP request is malformed: its request line, URI (an encoded slash or an invalid escape), a header or Content-Length.";
            case 404 -> "No endpoint at this path; see openapi.yaml.";
            case 405 -> "This method is not allowed here.";
            case 408 -> "The request did not arrive in time.";
            case 413 -> "The request is larger than the server accepts.";
            case 414 -> "The request URI is too long.";
            case 431 -> "The request headers are too large or too many.";
            case 501 -> "The request uses an HTTP feature the server does not implement (a method or transfer encoding).";
            case 505 -> "The HTTP version is not supported; use HTTP/1.1.";
            default -> "The server refused the request (HTTP " + status + ").";
        };
    }
}
