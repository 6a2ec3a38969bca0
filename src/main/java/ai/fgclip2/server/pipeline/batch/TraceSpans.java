package ai.fgclip2.server.pipeline.batch;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * OpenTelemetry spans for the steps of a request that do not run in its own call stack (queue wait and the
 * batched inference, on a worker thread) or that the HTTP span alone does not show (image decode). Spans are
 * recorded only inside a request's trace, so warm-up and benchmarks leave none; with no OTLP endpoint
 * configured nothing leaves the process.
 */
public final class TraceSpans {
    public static final TraceSpans NONE = new TraceSpans(OpenTelemetry.noop().getTracer("fgclip2-server"));

    private final Tracer tracer;
    /** nanoTime and epoch time read together, to place nanoTime stamps on the wall clock spans need. */
    private final long anchorNanoTime = System.nanoTime();
    private final long anchorEpochNanos = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());

    public TraceSpans(Tracer tracer) {
        this.tracer = tracer;
    }

    /** The caller's trace context, to parent spans recorded later on another thread. */
    public static Context current() {
        return Context.current();
    }

    /** A finished span from {@code startNanos} to {@code endNanos} ({@link System#nanoTime()}) under {@code parent}. */
    public void record(String name, Context parent, long startNanos, long endNanos, Attributes attributes) {
        if (!Span.fromContext(parent).getSpanContext().isValid()) {
            return;
        }
        tracer.spanBuilder(name).setParent(parent).setAllAttributes(attributes).setStartTimestamp(epochNanos(startNanos), TimeUnit.NANOSECONDS)
                .startSpan().end(epochNanos(endNanos), TimeUnit.NANOSECONDS);
    }

    /** Runs {@code work} on this thread inside a span named {@code name}, when there is a trace to put it in. */
    public <T> T around(String name, Supplier<T> work) {
        if (!Span.current().getSpanContext().isValid()) {
            return work.get();
        }
        Span span = tracer.spanBuilder(name).startSpan();
        try (Scope scope = span.makeCurrent()) {
            return work.get();
        } finally {
            span.end();
        }
    }

    private long epochNanos(long nanoTime) {
        return anchorEpochNanos + (nanoTime - anchorNanoTime);
    }
}
