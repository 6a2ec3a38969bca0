package ai.fgclip2.server.config;

import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.TextEncoder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/health}: UP only while the engine actually runs. A one-text inference probes it, at most
 * once per {@link #PROBE_INTERVAL} (probes are cheap but not free); the details say what is served and where.
 */
@Component("model")
public class EngineHealth implements HealthIndicator {
    static final Duration PROBE_INTERVAL = Duration.ofSeconds(30);

    private record Probe(long atNanos, long millis, String failure) {
    }

    private final InferenceEngine engine;
    private final TextEncoder textEncoder;
    private final ImageEncoder imageEncoder;
    private volatile Probe last;

    public EngineHealth(InferenceEngine engine, TextEncoder textEncoder, ImageEncoder imageEncoder) {
        this.engine = engine;
        this.textEncoder = textEncoder;
        this.imageEncoder = imageEncoder;
    }

    @Override
    public Health health() {
        Probe probe = probe();
        ModelFiles files = engine.model();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("id", files.id());
        details.put("revision", files.revision());
        details.put("variant", files.manifest().variant());
        details.put("precision", files.manifest().precision());
        details.put("provider", engine.provider());
        if (engine.providerFallback() != null) {
            details.put("providerFallback", engine.providerFallback());
        }
        details.put("demo", files.demo());
        if (engine.quantizationAgreement() != null) {
            details.put("int8Agreement", engine.quantizationAgreement());
        }
        details.put("textQueueDepth", textEncoder.queueDepth());
        details.put("imageQueueDepth", imageEncoder.queueDepth());
        details.put("probeMillis", probe.millis());
        if (probe.failure() != null) {
            return Health.down().withDetails(details).withDetail("failure", probe.failure()).build();
        }
        return Health.up().withDetails(details).build();
    }

    private Probe probe() {
        Probe probe = last;
        long now = System.nanoTime();
        if (probe != null && now - probe.atNanos() < PROBE_INTERVAL.toNanos()) {
            return probe;
        }
        synchronized (this) {
            if (last != probe) {
                return last;
            }
            long[] eosOnly = new long[engine.model().manifest().textLengths().shortLength()];
            eosOnly[0] = engine.model().manifest().textLengths().eosId();
            String failure = null;
            try {
                engine.text(List.of(eosOnly), InferenceEngine.TextHead.SHORT);
            } catch (RuntimeException e) {
                failure = "the text graph did not run: " + e.getClass().getSimpleName();
            }
            last = new Probe(now, (System.nanoTime() - now) / 1_000_000, failure);
            return last;
        }
    }
}
