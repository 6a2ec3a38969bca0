package ai.fgclip2.server.web;

import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.cors.DefaultCorsProcessor;

/** Spring's CORS checks, with a refused cross-origin request answered as a 403 problem instead of plain text. */
public class ProblemCorsProcessor extends DefaultCorsProcessor {
    @Override
    protected void rejectRequest(ServerHttpResponse response) throws IOException {
        response.setStatusCode(HttpStatus.FORBIDDEN);
        response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        response.getBody().write(ProblemResponses.json(ProblemAdvice.body(ProblemType.FORBIDDEN,
                "This origin, method or header is not allowed to call the API from a browser (fgclip2.security.cors.*).", null, null)));
        response.flush();
    }
}
