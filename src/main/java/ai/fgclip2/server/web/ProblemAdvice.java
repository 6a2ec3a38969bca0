package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.ProblemException;
import ai.fgclip2.server.pipeline.batch.DeadlineExceededException;
import ai.fgclip2.server.index.CollectionMissingException;
import ai.fgclip2.server.index.IndexException;
import ai.fgclip2.server.pipeline.batch.QueueFullException;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.multipart.support.MissingServletRequestPartException;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import tools.jackson.core.JacksonException;

/** Every failure becomes an RFC 9457 {@code application/problem+json} answer; nothing leaks a stack trace. */
@RestControllerAdvice
public class ProblemAdvice {
    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    @ExceptionHandler(ProblemException.class)
    ResponseEntity<ProblemDetail> problem(ProblemException e, HttpServletRequest request) {
        return problem(ProblemType.of(e.problem()), e.getMessage(), e.pointer(), request);
    }

    @ExceptionHandler(QueueFullException.class)
    ResponseEntity<ProblemDetail> overloaded(QueueFullException e, HttpServletRequest request) {
        ResponseEntity<ProblemDetail> response = problem(ProblemType.OVERLOADED, e.getMessage(), null, request);
        long seconds = Math.max(1, (e.retryAfter().toMillis() + 999) / 1000);
        return ResponseEntity.status(response.getStatusCode()).headers(response.getHeaders())
                .header(HttpHeaders.RETRY_AFTER, Long.toString(seconds)).body(response.getBody());
    }

    @ExceptionHandler({CompletionException.class, ExecutionException.class})
    ResponseEntity<ProblemDetail> async(Exception e, HttpServletRequest request) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        if (cause instanceof ProblemException problem) {
            return problem(problem, request);
        }
        if (cause instanceof QueueFullException full) {
            return overloaded(full, request);
        }
        if (cause instanceof DeadlineExceededException) {
            return problem(ProblemType.UNAVAILABLE, "The request's deadline passed before its turn came (fgclip2.limits.inference-deadline).", null, request);
        }
        if (cause instanceof IndexException failed) {
            return index(failed, request);
        }
        return unexpected(cause, request);
    }

    /** The gallery's index backend failed (I/O, a collection locked by another process, an unreachable cluster). */
    @ExceptionHandler(IndexException.class)
    ResponseEntity<ProblemDetail> index(IndexException e, HttpServletRequest request) {
        if (e instanceof CollectionMissingException) {
            return problem(ProblemType.NOT_FOUND, e.getMessage(), null, request);
        }
        log.warn("Gallery index failure on {} {}: {}", request.getMethod(), request.getRequestURI(), e.getMessage());
        return problem(ProblemType.UNAVAILABLE, "The gallery index failed: " + e.getMessage(), null, request);
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ProblemDetail> unreadable(HttpMessageNotReadableException e, HttpServletRequest request) {
        if (e.getMostSpecificCause() instanceof JacksonException json) {
            String pointer = JsonErrors.pointer(json);
            return problem(ProblemType.INVALID_REQUEST, JsonErrors.detail(json, pointer), pointer, request);
        }
        return problem(ProblemType.INVALID_REQUEST, "The request body is missing or unreadable; send a JSON object (see openapi.yaml).", null, request);
    }

    @ExceptionHandler(MissingServletRequestPartException.class)
    ResponseEntity<ProblemDetail> missingPart(MissingServletRequestPartException e, HttpServletRequest request) {
        String name = e.getRequestPartName();
        return problem(ProblemType.INVALID_REQUEST, "The multipart body needs a part named '" + name + "'.", "/" + name, request);
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    ResponseEntity<ProblemDetail> missingField(MissingServletRequestParameterException e, HttpServletRequest request) {
        String name = e.getParameterName();
        return problem(ProblemType.INVALID_REQUEST, "The form field '" + name + "' is required.", "/" + name, request);
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> mismatch(MethodArgumentTypeMismatchException e, HttpServletRequest request) {
        String name = e.getName();
        return problem(ProblemType.INVALID_REQUEST, "The value of '" + name + "' must be " + JsonErrors.expected(e.getRequiredType()) + ".", "/" + name, request);
    }

    @ExceptionHandler(MultipartException.class)
    ResponseEntity<ProblemDetail> multipart(MultipartException e, HttpServletRequest request) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ProblemException problem) {
                return problem(problem, request);
            }
        }
        return problem(ProblemType.INVALID_REQUEST, "The multipart body could not be read; send multipart/form-data with a boundary.", null, request);
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<ProblemDetail> mediaType(HttpMediaTypeNotSupportedException e, HttpServletRequest request) {
        return problem(ProblemType.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + e.getContentType() + " is not supported here; supported: "
                + e.getSupportedMediaTypes(), null, request);
    }

    @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
    ResponseEntity<ProblemDetail> notAcceptable(HttpMediaTypeNotAcceptableException e, HttpServletRequest request) {
        return problem(ProblemType.NOT_ACCEPTABLE, "No acceptable representation; supported: " + e.getSupportedMediaTypes(), null, request);
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ProblemDetail> method(HttpRequestMethodNotSupportedException e, HttpServletRequest request) {
        Set<HttpMethod> allowed = e.getSupportedHttpMethods() == null ? Set.of() : e.getSupportedHttpMethods();
        ResponseEntity<ProblemDetail> response = problem(ProblemType.METHOD_NOT_ALLOWED, "Method " + e.getMethod() + " is not allowed here; allowed: "
                + allowed, null, request);
        // RFC 9110: a 405 names the methods the resource does support
        return ResponseEntity.status(response.getStatusCode()).headers(response.getHeaders()).allow(allowed.toArray(HttpMethod[]::new))
                .body(response.getBody());
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ProblemDetail> notFound(NoResourceFoundException e, HttpServletRequest request) {
        return problem(ProblemType.NOT_FOUND, "No endpoint " + request.getMethod() + " " + request.getRequestURI() + "; see openapi.yaml.", null, request);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Throwable e, HttpServletRequest request) {
        String incident = UUID.randomUUID().toString();
        log.error("Unexpected failure (incident {}) on {} {}", incident, request.getMethod(), request.getRequestURI(), e);
        ResponseEntity<ProblemDetail> response = problem(ProblemType.INTERNAL, "The server failed on this request; incident " + incident + " is in its log.", null, request);
        response.getBody().setProperty("incident", incident);
        return response;
    }

    static ResponseEntity<ProblemDetail> problem(ProblemType type, String detail, String pointer, HttpServletRequest request) {
        return ResponseEntity.status(type.status()).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(body(type, detail, pointer, request.getRequestURI()));
    }

    /** Every problem answer is built here; expected rejections are one DEBUG line (failures are logged by {@link #unexpected}). */
    static ProblemDetail body(ProblemType type, String detail, String pointer, String instance) {
        log.debug("{} {} on {}: {}", type.status().value(), type.uri(), instance, detail);
        ProblemDetail body = ProblemDetail.forStatusAndDetail(type.status(), detail);
        body.setType(type.uri());
        body.setTitle(type.title());
        body.setInstance(instanceUri(instance));
        if (pointer != null) {
            body.setProperty("pointer", pointer);
            Integer index = ProblemException.indexIn(pointer);
            if (index != null) {
                body.setProperty("index", index);
            }
        }
        return body;
    }

    /** The request path as the problem's {@code instance}, percent-encoded where the container refused it as malformed. */
    private static java.net.URI instanceUri(String path) {
        if (path == null) {
            return null;
        }
        try {
            return java.net.URI.create(path);
        } catch (IllegalArgumentException malformed) {
            try {
                return new java.net.URI(null, null, path, null);
            } catch (java.net.URISyntaxException e) {
                return null;
            }
        }
    }
}
