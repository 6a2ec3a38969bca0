package ai.fgclip2.server.web;

import ai.fgclip2.server.config.Fgclip2Properties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.json.ProblemDetailJacksonMixin;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Refuses bodies over {@code fgclip2.limits.max-request-bytes} by their Content-Length before anything reads
 * them (JSON bodies have no other bound in Spring MVC).
 */
@Component
public class RequestSizeFilter extends OncePerRequestFilter {
    /** With Spring's mixin, as its message converters write problems: extra properties flattened, not a "properties" object. */
    private static final JsonMapper JSON = JsonMapper.builder().addMixIn(ProblemDetail.class, ProblemDetailJacksonMixin.class).build();
    private final long maxBytes;

    public RequestSizeFilter(Fgclip2Properties properties) {
        this.maxBytes = properties.limits().maxRequestBytes();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        long length = request.getContentLengthLong();
        if (length > maxBytes) {
            ResponseEntity<ProblemDetail> problem = ProblemAdvice.problem(ProblemType.LIMIT_EXCEEDED,
                    "The request body has " + length + " bytes; the limit is " + maxBytes + " (fgclip2.limits.max-request-bytes).", null, request);
            response.setStatus(problem.getStatusCode().value());
            response.setContentType("application/problem+json");
            response.setHeader("Connection", "close");
            JSON.writeValue(response.getOutputStream(), problem.getBody());
            return;
        }
        chain.doFilter(request, response);
    }
}
