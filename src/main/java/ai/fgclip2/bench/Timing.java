package ai.fgclip2.bench;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Warm-up, then timed iterations bounded in count and time. */
final class Timing {

    /**
     * Warm-up runs until {@code warmupIterations} or {@code warmupTime}, whichever comes first; timed runs until
     * {@code maxIterations}, or {@code maxTime} once {@code minIterations} are done.
     */
    record Budget(int warmupIterations, Duration warmupTime, int minIterations, int maxIterations, Duration maxTime) {
        static Budget engine(boolean quick) {
            return quick ? new Budget(1, Duration.ZERO, 2, 10, Duration.ofSeconds(2))
                    : new Budget(2, Duration.ofSeconds(3), 5, 100, Duration.ofSeconds(12));
        }

        /** A short engine figure between HTTP rounds. */
        static Budget reference(boolean warmUp) {
            return new Budget(warmUp ? 1 : 0, Duration.ZERO, 2, 2, Duration.ZERO);
        }

        static Budget exactly(int iterations) {
            return new Budget(0, Duration.ZERO, iterations, iterations, Duration.ZERO);
        }
    }

    /** Latency over {@code samples} timed runs; p99 is the nearest-rank value, so with under 100 samples it is the slowest. */
    record Latency(int samples, double medianMs, double p99Ms, double meanMs, double minMs, double maxMs) {
        static Latency of(List<Double> millis) {
            double[] sorted = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = sorted.length;
            return new Latency(n, median(millis), sorted[(int) Math.ceil(0.99 * n) - 1], millis.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
                    sorted[0], sorted[n - 1]);
        }
    }

    interface Step {
        void run() throws Exception;
    }

    interface Sample<T> {
        T take() throws Exception;
    }

    private static final com.sun.management.OperatingSystemMXBean PROCESS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private Timing() {
    }

    /** The samples of the timed runs (warm-up samples are dropped). */
    static <T> List<T> repeat(Budget budget, Sample<T> sample) throws Exception {
        long warmupEnd = System.nanoTime() + budget.warmupTime().toNanos();
        for (int i = 0; i < budget.warmupIterations() && (i == 0 || System.nanoTime() < warmupEnd); i++) {
            sample.take();
        }
        List<T> samples = new ArrayList<>();
        long end = System.nanoTime() + budget.maxTime().toNanos();
        while (samples.size() < budget.maxIterations() && (samples.size() < budget.minIterations() || System.nanoTime() < end)) {
            samples.add(sample.take());
        }
        return samples;
    }

    static Latency measure(Budget budget, Step step) throws Exception {
        return Latency.of(repeat(budget, () -> millis(step)));
    }

    /** Wall time and the whole process's CPU time (every thread, ONNX Runtime's native ones included) of one run. */
    record Run(double wallMs, double cpuMs) {
    }

    static Run run(Step step) throws Exception {
        long cpuStart = PROCESS.getProcessCpuTime();
        long start = System.nanoTime();
        step.run();
        return new Run((System.nanoTime() - start) / 1e6, (PROCESS.getProcessCpuTime() - cpuStart) / 1e6);
    }

    static double millis(Step step) throws Exception {
        long start = System.nanoTime();
        step.run();
        return (System.nanoTime() - start) / 1e6;
    }

    static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
