package ai.fgclip2.server.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * API-key authentication: a request must carry one of the configured keys as {@code Authorization: Bearer KEY}
 * or {@code X-API-Key: KEY}, else it gets 401 {@code unauthenticated} with {@code WWW-Authenticate}. The health
 * probes ({@code /actuator/health/**}) and the static pages (playground, API docs) stay open; a request with a valid key there is authenticated, which is
 * what lets it see health details. Keys are compared by their SHA-256 digests in constant time, every key
 * every time, so neither a key's length nor its prefix leaks through timing.
 */
public class ApiKeyFilter extends OncePerRequestFilter {
    static final String API_KEY_HEADER = "X-API-Key";
    private static final String BEARER = "Bearer ";
    private final List<byte[]> keyDigests;

    public ApiKeyFilter(List<String> keys) {
        this.keyDigests = keys.stream().map(ApiKeyFilter::sha256).toList();
    }

    /** The body arrives on an async dispatch (see {@link RequestBodyFilter}): that request is authenticated again. */
    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return false;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        String presented = presentedKey(request);
        if (presented != null && matches(presented)) {
            chain.doFilter(new Authenticated(request), response);
            return;
        }
        String path = request.getRequestURI();
        if (path.equals("/actuator/health") || path.startsWith("/actuator/health/") || isStaticPage(request, path)) {
            chain.doFilter(request, response);
            return;
        }
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"fgclip2\"");
        String detail = presented == null
                ? "An API key is required: send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'."
                : "The API key is not valid.";
        ProblemResponses.write(response, ProblemAdvice.body(ProblemType.UNAUTHENTICATED, detail, null, path), false);
    }

    /** The playground, the API docs and their assets hold no data: a browser may load them before it has a key. */
    private static boolean isStaticPage(HttpServletRequest request, String path) {
        return "GET".equals(request.getMethod()) && !path.startsWith("/v1/") && !path.startsWith("/actuator/");
    }

    private static String presentedKey(HttpServletRequest request) {
        String header = request.getHeader(API_KEY_HEADER);
        if (header != null) {
            return header.trim();
        }
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return authorization.substring(BEARER.length()).trim();
        }
        return null;
    }

    private boolean matches(String presented) {
        byte[] digest = sha256(presented);
        boolean match = false;
        for (byte[] key : keyDigests) {
            match |= MessageDigest.isEqual(digest, key);
        }
        return match;
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** The request of a client that presented a valid key: an authenticated principal, as actuator checks for health details. */
    private static final class Authenticated extends HttpServletRequestWrapper {
        private static final Principal CLIENT = () -> "api-key";

        Authenticated(HttpServletRequest request) {
            super(request);
        }

        @Override
        public Principal getUserPrincipal() {
            return CLIENT;
        }

        @Override
        public String getRemoteUser() {
            return CLIENT.getName();
        }
    }
}
