package ai.fgclip2.server.engine;

/**
 * How an engine runs its graphs.
 *
 * @param provider       auto tries CUDA and falls back to CPU; cuda fails when CUDA is unavailable
 * @param intraOpThreads threads per graph; 0 = one per core
 * @param cudaDevice     CUDA device id
 */
public record EngineSettings(Provider provider, int intraOpThreads, int cudaDevice) {

    public enum Provider { AUTO, CUDA, CPU }

    /** CPU only, the given thread count: benchmarks and offline jobs. */
    public static EngineSettings cpu(int intraOpThreads) {
        return new EngineSettings(Provider.CPU, intraOpThreads, 0);
    }
}
