package ai.fgclip2.server.index;

/**
 * The HNSW graph of both backends (Lucene's maxConn/beamWidth, Elasticsearch's m/ef_construction), so that they
 * build comparable graphs from the same settings.
 */
public record HnswSettings(int maxConnections, int beamWidth) {
}
