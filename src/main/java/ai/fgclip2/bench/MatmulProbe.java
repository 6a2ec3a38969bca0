package ai.fgclip2.bench;

import ai.fgclip2.exporter.graph.ElementType;
import ai.fgclip2.exporter.graph.GraphBuilder;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.fgclip2.server.engine.EngineSettings;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The machine's own fp32 matrix-product rate through ONNX Runtime: a one-node graph multiplying a 2048 x 2048
 * input by a constant 2048 x 2048 matrix, run with the engine's session settings. The right-hand side is an
 * initializer, as the model's weights are, so ONNX Runtime pre-packs it the same way. It is the ceiling the
 * engine figures are compared with.
 */
final class MatmulProbe implements AutoCloseable {
    static final int SIDE = 2048;
    static final double FLOPS = 2.0 * SIDE * SIDE * SIDE;

    private final OrtSession session;
    private final OnnxTensor left;

    MatmulProbe(EngineSettings settings) throws OrtException {
        SplittableRandom random = new SplittableRandom(1);
        GraphBuilder g = new GraphBuilder("matmul_probe", ElementType.FLOAT, tensor -> {
            throw new UnsupportedOperationException("the probe has no checkpoint weights");
        });
        String a = g.input("a", ElementType.FLOAT, (long) SIDE, (long) SIDE);
        float[] weights = new float[SIDE * SIDE];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) (random.nextDouble() * 2 - 1);
        }
        g.output(g.op("MatMul", List.of(a, g.constant(weights, SIDE, SIDE))), "c", ElementType.FLOAT, (long) SIDE, (long) SIDE);
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = OnnxEngine.cpuSessionOptions(settings)) {
            session = environment.createSession(g.build("fp32 matrix-product probe").toByteArray(), options);
        }
        left = OnnxTensor.createTensor(environment, randomMatrix(random), new long[] {SIDE, SIDE});
    }

    record Rate(Timing.Latency latency, double gflops) {
    }

    Rate measure(Timing.Budget budget) throws Exception {
        Timing.Latency latency = Timing.measure(budget, this::runOnce);
        return new Rate(latency, FLOPS / (latency.medianMs() / 1e3) / 1e9);
    }

    /** One product, for pairing with another measurement. */
    void runOnce() throws OrtException {
        try (OrtSession.Result ignored = session.run(Map.of("a", left))) {
            // only the time counts
        }
    }

    private static FloatBuffer randomMatrix(SplittableRandom random) {
        FloatBuffer values = ByteBuffer.allocateDirect(4 * SIDE * SIDE).order(ByteOrder.nativeOrder()).asFloatBuffer();
        while (values.hasRemaining()) {
            values.put((float) (random.nextDouble() * 2 - 1));
        }
        return values.flip();
    }

    @Override
    public void close() throws OrtException {
        left.close();
        session.close();
    }
}
