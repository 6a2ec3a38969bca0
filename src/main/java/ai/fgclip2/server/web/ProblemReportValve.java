package ai.fgclip2.server.web;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;

/**
 * Tomcat's error report for errors raised before or outside the application (a malformed request line, URI,
 * header or Content-Length, an encoded slash in the path, headers too large): a problem+json answer
 * instead of Tomcat's HTML page. Errors inside the application reach {@code /error} ({@link ProblemErrorController}).
 */
public class ProblemReportValve extends ErrorReportValve {

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        // as Tomcat's own report: only for errors, only once, only when nothing was written and the connection can carry it
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean ioAllowed = new AtomicBoolean(true);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        ProblemType type = ProblemType.forStatus(status);
        // a request line too long or too broken to read has no path: the problem names the root then
        String path = request.getRequestURI() == null || request.getRequestURI().isEmpty() ? "/" : request.getRequestURI();
        try {
            response.resetBuffer(true);
            ProblemResponses.write(response, ProblemAdvice.body(type, ProblemErrorController.containerDetail(status), null, path), false);
        } catch (IOException | IllegalStateException e) {
            // the connection is gone or the response is committed: nothing more can be said
        }
    }
}
