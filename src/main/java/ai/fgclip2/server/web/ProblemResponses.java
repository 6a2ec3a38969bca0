package ai.fgclip2.server.web;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.json.ProblemDetailJacksonMixin;
import tools.jackson.databind.json.JsonMapper;

/** Writes a problem where no Spring MVC handler is in charge: servlet filters and the container's error valve. */
final class ProblemResponses {
    /** With Spring's mixin, as its message converters write problems: extra properties flattened, not a "properties" object. */
    private static final JsonMapper JSON = JsonMapper.builder().addMixIn(ProblemDetail.class, ProblemDetailJacksonMixin.class).build();

    private ProblemResponses() {
    }

    static byte[] json(ProblemDetail problem) {
        return JSON.writeValueAsBytes(problem);
    }

    /**
     * Answers with {@code problem}; {@code close} ends the connection after it (the rest of the body is not read,
     * so the connection cannot carry another request).
     */
    static void write(HttpServletResponse response, ProblemDetail problem, boolean close) throws IOException {
        byte[] body = json(problem);
        response.setStatus(problem.getStatus());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setContentLength(body.length);
        if (close) {
            response.setHeader("Connection", "close");
        }
        response.getOutputStream().write(body);
        response.flushBuffer();
    }
}
