package ai.fgclip2.packaging;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * What the packaging must agree with: the flattened {@code application.yaml} plus, when the build generated it,
 * the configuration metadata of the typed properties class (so a property that only has a Java default still
 * counts as known).
 *
 * @param properties    flattened {@code application.yaml}, keys as written ({@code fgclip2.model-dir})
 * @param metadataNames property names from {@code META-INF/spring-configuration-metadata.json}, empty if absent
 */
record ApplicationConfig(Map<String, String> properties, Set<String> metadataNames) {
    static final Path APPLICATION_YAML = Path.of("src/main/resources/application.yaml");
    static final Path METADATA = Path.of("target/classes/META-INF/spring-configuration-metadata.json");

    static ApplicationConfig load() throws Exception {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", new YAMLMapper().readTree(APPLICATION_YAML), flat);
        Set<String> metadata = Set.of();
        if (Files.exists(METADATA)) {
            metadata = new JsonMapper().readTree(METADATA).path("properties").values().stream()
                    .map(property -> property.path("name").asString())
                    .collect(Collectors.toUnmodifiableSet());
        }
        return new ApplicationConfig(Map.copyOf(flat), metadata);
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> into) {
        if (node.isObject()) {
            node.properties().forEach(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), into));
        } else if (node.isArray()) {
            into.put(prefix, node.values().stream().map(JsonNode::asString).collect(Collectors.joining(",")));
        } else {
            into.put(prefix, node.isNull() ? "" : node.asString());
        }
    }

    String required(String key) {
        String value = properties.get(key);
        if (value == null) {
            throw new AssertionError(APPLICATION_YAML + " must set " + key);
        }
        return value;
    }

    int serverPort() {
        return Integer.parseInt(required("server.port"));
    }

    /** Path of an Actuator endpoint, honouring a changed base path or path mapping. */
    String actuatorPath(String endpoint) {
        String base = properties.getOrDefault("management.endpoints.web.base-path", "/actuator");
        return base + "/" + properties.getOrDefault("management.endpoints.web.path-mapping." + endpoint, endpoint);
    }

    /** {@code /actuator/health/liveness} or {@code /actuator/health/readiness}. */
    String probePath(String group) {
        return actuatorPath("health") + "/" + group;
    }

    boolean probesEnabled() {
        return Boolean.parseBoolean(properties.get("management.endpoint.health.probes.enabled"));
    }

    List<String> exposedEndpoints() {
        return Arrays.stream(properties.getOrDefault("management.endpoints.web.exposure.include", "health").split(","))
                .map(String::trim).toList();
    }

    /** The drain time: how long graceful shutdown waits for in-flight requests. */
    Duration shutdownTimeout() {
        return parseDuration(properties.getOrDefault("spring.lifecycle.timeout-per-shutdown-phase", "30s"));
    }

    /**
     * Whether an environment variable sets a property of the application under Spring's relaxed binding
     * (FGCLIP2_MODEL_DIR for fgclip2.model-dir or fgclip2.model.dir): compared without separators and case.
     */
    boolean bindsEnvironmentVariable(String name) {
        String wanted = canonical(name);
        return Stream.concat(properties.keySet().stream(), metadataNames.stream())
                .anyMatch(property -> canonical(property).equals(wanted));
    }

    private static String canonical(String name) {
        return name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "");
    }

    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ns|us|ms|s|m|h|d)?");

    /** Spring Boot's duration formats: {@code 30s}, {@code 500ms}, {@code 2m}, plain milliseconds, ISO-8601. */
    static Duration parseDuration(String text) {
        Matcher simple = SIMPLE_DURATION.matcher(text.trim());
        if (!simple.matches()) {
            return Duration.parse(text.trim());
        }
        long amount = Long.parseLong(simple.group(1));
        String unit = simple.group(2) == null ? "ms" : simple.group(2);
        return switch (unit) {
            case "ns" -> Duration.ofNanos(amount);
            case "us" -> Duration.ofNanos(amount * 1000);
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }
}
