package ai.fgclip2.server.web;

import ai.fgclip2.server.config.Fgclip2Properties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.util.FastByteArrayOutputStream;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Receives every request body without holding a request thread, within bounds, before any handler sees it.
 * The body is read non-blocking (a {@link ReadListener} on an async request) into memory: at most
 * {@code max-request-bytes} whatever the transfer encoding (Content-Length, chunked, multipart), within
 * {@code request-read-timeout}, and at most {@code max-buffered-request-bytes} for all requests together. Then
 * the request is dispatched again with the buffered body, so a slow or stalled client costs a connection and
 * its bytes, never a thread. Refusals: 413 {@code limit-exceeded}, 408 {@code request-timeout}, 429
 * {@code overloaded}, each closing the connection (the rest of the body is never read).
 */
@Component
@Order(RequestBodyFilter.ORDER)
public class RequestBodyFilter extends OncePerRequestFilter {
    /** After CORS and authentication: an unauthenticated client cannot make the server receive its body. */
    static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 30;
    /** Multipart parts beyond the images: the form fields (boxes, maxNumPatches, normalize) with room to spare. */
    static final int FORM_FIELD_PARTS = 8;
    private static final String BODY = RequestBodyFilter.class.getName() + ".body";
    private static final int READ_CHUNK = 16 * 1024;
    public static final String BUFFERED_METRIC = "fgclip2.http.buffered.bytes";
    private static final String OVER_BUDGET = "The server is receiving too many request bodies at once "
            + "(fgclip2.limits.max-buffered-request-bytes); retry later.";

    private final long maxBytes;
    private final Duration readTimeout;
    private final long maxBuffered;
    private final int maxParts;
    private final AtomicLong buffered = new AtomicLong();

    public RequestBodyFilter(Fgclip2Properties properties, MeterRegistry registry) {
        Fgclip2Properties.Limits limits = properties.limits();
        this.maxBytes = limits.maxRequestBytes();
        this.readTimeout = limits.requestReadTimeout();
        this.maxBuffered = limits.maxBufferedRequestBytes();
        this.maxParts = limits.maxItems() + FORM_FIELD_PARTS;
        Gauge.builder(BUFFERED_METRIC, buffered, AtomicLong::get).baseUnit("bytes")
                .description("Request body bytes held in memory: being received or in use by their request").register(registry);
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return false;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        if (request.getAttribute(BODY) instanceof FastByteArrayOutputStream body) {
            chain.doFilter(new BufferedRequest(request, body, maxParts), response);
            return;
        }
        if (request.getDispatcherType() != DispatcherType.REQUEST || !hasBody(request)) {
            chain.doFilter(request, response);
            return;
        }
        long declared = request.getContentLengthLong();
        if (declared > maxBytes) {
            ProblemResponses.write(response, ProblemAdvice.body(ProblemType.LIMIT_EXCEEDED, "The request body has " + declared
                    + " bytes; the limit is " + maxBytes + " (fgclip2.limits.max-request-bytes).", null, request.getRequestURI()), true);
            return;
        }
        // a declared length is reserved whole before a byte is read: of two bodies that cannot both fit, the later
        // is refused at once (not after part of it was read, and never both at the threshold)
        if (declared > 0 && !take(declared)) {
            response.setHeader(HttpHeaders.RETRY_AFTER, "1");
            ProblemResponses.write(response, ProblemAdvice.body(ProblemType.OVERLOADED, OVER_BUDGET, null, request.getRequestURI()), true);
            return;
        }
        AsyncContext async = request.startAsync();
        async.setTimeout(readTimeout.toMillis());
        BodyReader reader = new BodyReader(request, response, async, Math.max(declared, 0));
        async.addListener(reader);
        reader.input.setReadListener(reader);
    }

    /** Takes bytes of the shared budget, or nothing when they would not fit. */
    private boolean take(long bytes) {
        if (buffered.addAndGet(bytes) > maxBuffered) {
            buffered.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    private static boolean hasBody(HttpServletRequest request) {
        return request.getContentLengthLong() > 0 || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
    }

    /** Reads one body as its bytes arrive; answers, or dispatches the request with the body, exactly once. */
    private final class BodyReader implements ReadListener, AsyncListener {
        private final HttpServletRequest request;
        private final HttpServletResponse response;
        private final AsyncContext async;
        private final ServletInputStream input;
        private final FastByteArrayOutputStream body = new FastByteArrayOutputStream(READ_CHUNK);
        private final AtomicBoolean answered = new AtomicBoolean();
        private final AtomicBoolean released = new AtomicBoolean();
        private final byte[] chunk = new byte[READ_CHUNK];
        /** Bytes this body holds of the shared budget: its declared length, or what a chunked body has received. */
        private final AtomicLong held;
        private final boolean reserved;

        BodyReader(HttpServletRequest request, HttpServletResponse response, AsyncContext async, long declared) throws IOException {
            this.request = request;
            this.response = response;
            this.async = async;
            this.input = request.getInputStream();
            this.held = new AtomicLong(declared);
            this.reserved = declared > 0;
        }

        @Override
        public void onDataAvailable() throws IOException {
            while (!answered.get() && input.isReady()) {
                int n = input.read(chunk);
                if (n < 0) {
                    return;
                }
                if (body.size() + (long) n > maxBytes) {
                    refuse(ProblemType.LIMIT_EXCEEDED, "The request body is larger than " + maxBytes + " bytes (fgclip2.limits.max-request-bytes).");
                    return;
                }
                if (!reserved) {
                    if (!take(n)) {
                        response.setHeader(HttpHeaders.RETRY_AFTER, "1");
                        refuse(ProblemType.OVERLOADED, OVER_BUDGET);
                        return;
                    }
                    held.addAndGet(n);
                }
                body.write(chunk, 0, n);
            }
        }

        @Override
        public void onAllDataRead() {
            if (answered.compareAndSet(false, true)) {
                request.setAttribute(BODY, body);
                async.dispatch();
            }
        }

        /** The connection failed (the client went away): nobody is left to answer. */
        @Override
        public void onError(Throwable failure) {
            if (answered.compareAndSet(false, true)) {
                async.complete();
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            refuse(ProblemType.REQUEST_TIMEOUT, "The request body did not arrive within " + readTimeout.toSeconds()
                    + " s (fgclip2.limits.request-read-timeout); " + body.size() + " bytes were received.");
        }

        @Override
        public void onComplete(AsyncEvent event) {
            release();
        }

        private void release() {
            if (released.compareAndSet(false, true)) {
                buffered.addAndGet(-held.get());
            }
        }

        @Override
        public void onError(AsyncEvent event) {
        }

        /** A handler went async again on the dispatched request: stay registered to release the body at its end. */
        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this);
        }

        private void refuse(ProblemType type, String detail) {
            if (!answered.compareAndSet(false, true)) {
                return;
            }
            release(); // a refused body is garbage now: give its bytes back before the answer reaches the client
            try {
                ProblemResponses.write(response, ProblemAdvice.body(type, detail, null, request.getRequestURI()), true);
            } catch (IOException e) {
                // the client is gone; there is nobody to tell
            } finally {
                async.complete();
            }
        }
    }
}
