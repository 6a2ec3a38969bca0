package ai.fgclip2.exporter.synth;

import ai.fgclip2.exporter.checkpoint.ModelConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Model sizes that {@code synth} can generate: the published ones (docs/model.md, "Sizes and configuration") and a tiny one
 * shaped like the test fixture but with the real 256k vocabulary, so the bundled Gemma tokenizer fits.
 */
public enum SynthSize {
    TINY(64, 176, 2, 4),
    BASE(768, 3072, 12, 12),
    LARGE(1024, 4096, 24, 16),
    SO400M(1152, 4304, 27, 16);

    private final int hiddenSize;
    private final int intermediateSize;
    private final int numLayers;
    private final int numHeads;

    SynthSize(int hiddenSize, int intermediateSize, int numLayers, int numHeads) {
        this.hiddenSize = hiddenSize;
        this.intermediateSize = intermediateSize;
        this.numLayers = numLayers;
        this.numHeads = numHeads;
    }

    /** The name on the command line: tiny, base, large, so400m. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SynthSize fromCliName(String name) {
        for (SynthSize size : values()) {
            if (size.cliName().equals(name)) {
                return size;
            }
        }
        throw new IllegalArgumentException("unknown size '" + name + "' (expected "
                + Arrays.stream(values()).map(SynthSize::cliName).collect(Collectors.joining(", ")) + ")");
    }

    public ModelConfig config() {
        // both towers share the sizes; projection = hidden, 64/196 text positions, keep_len 20, 16x16 grid of 16px patches
        ModelConfig.TowerConfig tower = new ModelConfig.TowerConfig(hiddenSize, intermediateSize, numLayers, numHeads, 1e-6, "gelu_pytorch_tanh");
        return new ModelConfig(tower, tower, BundledTokenizer.VOCAB_SIZE, hiddenSize, 64, 20, 196, 16, 3, 16);
    }
}
