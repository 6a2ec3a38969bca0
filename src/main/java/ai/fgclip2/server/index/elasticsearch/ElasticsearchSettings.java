package ai.fgclip2.server.index.elasticsearch;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * @param urls          endpoints tried in order until one answers
 * @param apiKey        the encoded API key ({@code Authorization: ApiKey ...}); null for none
 * @param caCertificate PEM CA certificate to trust for https; null = the JVM's trust store
 * @param indexPrefix   each collection is the index {@code indexPrefix + name}
 */
public record ElasticsearchSettings(List<URI> urls, String apiKey, Path caCertificate, String indexPrefix, Duration timeout) {
}
