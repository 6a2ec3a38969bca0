package ai.fgclip2.exporter.synth;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.CheckpointLayout;
import ai.fgclip2.exporter.checkpoint.CheckpointLayout.ExpectedTensor;
import ai.fgclip2.exporter.checkpoint.DType;
import ai.fgclip2.exporter.checkpoint.ModelConfig;
import ai.fgclip2.exporter.checkpoint.SafetensorsWriter;
import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSink;
import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSpec;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Writes a random-weight FG-CLIP 2 checkpoint in the published layout ({@code config.json}, F32
 * {@code model.safetensors}, {@code tokenizer.json}). The weights keep activations O(1) and varied through
 * every layer, so numeric mistakes in an exported graph show up; the bytes depend only on size and seed.
 */
public final class Synthesizer {
    private static final int CHUNK_FLOATS = 1 << 16;
    private static final double BIAS_STD = 0.1;
    private static final double NORM_STD = 0.1;
    /** SigLIP's initial temperature and bias: exp(logit_scale) = 10, logit_bias = -10. */
    private static final float INITIAL_LOGIT_SCALE = (float) Math.log(10);
    private static final float INITIAL_LOGIT_BIAS = -10f;

    private Synthesizer() {
    }

    /**
     * LayerNorm gains with a few large outlier channels, as trained ViTs and CLIP encoders have: the same
     * {@code channels} of every encoder block's layer_norm1 and layer_norm2 get their gain multiplied by
     * {@code gain}, and the input columns of the Linear layers reading them (q/k/v_proj, mlp.fc1) are divided by
     * it, as training pairs outlier activations with small weights. The float model then computes about what the
     * plain random one does, while the activations entering those Linear layers carry a few channels {@code gain}
     * times larger than the rest: the case that per-tensor activation quantization handles worst.
     * {@link #NONE} leaves the gains N(1, 0.1).
     */
    public record Outliers(int channels, double gain) {
        public static final Outliers NONE = new Outliers(0, 1);

        /** About one channel in 200 (4 of 768 in base, 2 in tiny) at 20x the others' gain. */
        public static Outliers typical(int hiddenSize) {
            return new Outliers(Math.max(2, hiddenSize / 192), 20);
        }

        /** The factor for the outlier channels of {@code tensor}: the gain, its inverse, or 1 for an unaffected tensor. */
        float factor(String tensor) {
            if (channels == 0 || !tensor.contains("encoder.layers.")) {
                return 1;
            }
            if (tensor.endsWith(".layer_norm1.weight") || tensor.endsWith(".layer_norm2.weight")) {
                return (float) gain;
            }
            boolean readsNorm = tensor.endsWith("_proj.weight") && !tensor.endsWith("out_proj.weight") || tensor.endsWith("mlp.fc1.weight");
            return readsNorm ? (float) (1 / gain) : 1;
        }
    }

    public static void write(SynthSize size, long seed, Path outDir) {
        write(size, seed, outDir, Outliers.NONE);
    }

    public static void write(SynthSize size, long seed, Path outDir, Outliers outliers) {
        ModelConfig config = size.config();
        try {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve(Checkpoint.CONFIG),
                    new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(config.toJson()) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + outDir.resolve(Checkpoint.CONFIG), e);
        }
        writeWeights(config, seed, outDir.resolve(Checkpoint.WEIGHTS), outliers);
        BundledTokenizer.writeTo(outDir.resolve(Checkpoint.TOKENIZER));
    }

    static void writeWeights(ModelConfig config, long seed, Path file) {
        writeWeights(config, seed, file, Outliers.NONE);
    }

    static void writeWeights(ModelConfig config, long seed, Path file, Outliers outliers) {
        List<ExpectedTensor> expected = CheckpointLayout.expectedTensors(config);
        List<TensorSpec> specs = expected.stream().map(t -> new TensorSpec(t.name(), DType.F32, t.shape())).toList();
        SplittableRandom random = new SplittableRandom(seed);
        float[] chunk = new float[CHUNK_FLOATS];
        Map<String, ExpectedTensor> byName = expected.stream().collect(Collectors.toMap(ExpectedTensor::name, Function.identity()));
        // the outlier channels are drawn from their own stream, so the other weights stay those of the same seed
        int[] outlierChannels = new SplittableRandom(seed ^ 0x5EED_0071E5L).ints(0, config.hiddenSize()).distinct().limit(outliers.channels()).toArray();
        SafetensorsWriter.write(file, specs, (spec, sink) -> {
            ExpectedTensor tensor = byName.get(spec.name());
            float factor = outliers.factor(tensor.name());
            fill(tensor, random, chunk, factor == 1 ? sink : new ChannelScalingSink(sink, config.hiddenSize(), outlierChannels, factor));
        });
    }

    /** Multiplies the values of the outlier channels (the last dimension, of size {@code width}) as they pass. */
    private static final class ChannelScalingSink implements TensorSink {
        private final TensorSink target;
        private final boolean[] scaled;
        private final float factor;
        private long position;

        ChannelScalingSink(TensorSink target, int width, int[] channels, float factor) {
            this.target = target;
            this.scaled = new boolean[width];
            for (int channel : channels) {
                scaled[channel] = true;
            }
            this.factor = factor;
        }

        @Override
        public void putFloats(float[] values, int offset, int length) throws IOException {
            float[] copy = java.util.Arrays.copyOfRange(values, offset, offset + length);
            for (int i = 0; i < length; i++) {
                if (scaled[(int) ((position + i) % scaled.length)]) {
                    copy[i] *= factor;
                }
            }
            position += length;
            target.putFloats(copy, 0, length);
        }

        @Override
        public void putBytes(java.nio.ByteBuffer raw) {
            throw new UnsupportedOperationException("random weights arrive as floats");
        }
    }

    private static void fill(ExpectedTensor tensor, SplittableRandom random, float[] chunk, TensorSink sink) throws IOException {
        switch (tensor.role()) {
            case LOGIT_SCALE -> sink.putFloats(new float[] {INITIAL_LOGIT_SCALE});
            case LOGIT_BIAS -> sink.putFloats(new float[] {INITIAL_LOGIT_BIAS});
            default -> {
                double mean = tensor.role() == CheckpointLayout.Role.NORM_WEIGHT ? 1 : 0;
                double std = switch (tensor.role()) {
                    // N(0, 1/fan_in) keeps each projection's output variance near its input's
                    case LINEAR_WEIGHT -> 1 / Math.sqrt(tensor.shape()[1]);
                    case BIAS -> BIAS_STD;
                    case NORM_WEIGHT, NORM_BIAS -> NORM_STD;
                    case EMBEDDING -> 1;
                    default -> throw new AssertionError(tensor.role());
                };
                for (long left = tensor.elementCount(); left > 0; ) {
                    int count = (int) Math.min(left, chunk.length);
                    for (int i = 0; i < count; i++) {
                        chunk[i] = (float) (mean + std * random.nextGaussian());
                    }
                    sink.putFloats(chunk, 0, count);
                    left -= count;
                }
            }
        }
    }
}
