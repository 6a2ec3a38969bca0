package ai.fgclip2.exporter.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.ModelConfig;
import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import ai.fgclip2.exporter.checkpoint.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthesizerTest {
    /** The reference checkpoint made by the official code: same sizes as tiny, but vocab 1024. */
    private static final Path FIXTURE = Path.of("exporter/src/test/resources/fixtures/fgclip2-tiny/model");
    private static final String TOKEN_EMBEDDING = "text_model.embeddings.token_embedding.weight";

    @TempDir
    static Path dir;
    static Path tiny;

    @BeforeAll
    static void synthesizeTiny() {
        tiny = dir.resolve("tiny");
        Synthesizer.write(SynthSize.TINY, 0, tiny);
    }

    private static Map<String, String> shapes(Checkpoint checkpoint) {
        Map<String, String> shapes = new TreeMap<>();
        for (SafetensorsFile file : checkpoint.files()) {
            file.tensors().values().forEach(info -> shapes.put(info.name(), info.dtype() + info.shapeString()));
        }
        return shapes;
    }

    @Test
    void tinyHasTheFixturesTensorsWithTheRealVocabulary() {
        Checkpoint synthetic = Checkpoint.open(tiny);
        synthetic.validate();
        Map<String, String> expected = shapes(Checkpoint.open(FIXTURE));
        expected.put(TOKEN_EMBEDDING, "F32[256000, 64]");
        assertThat(shapes(synthetic)).isEqualTo(expected);
        assertThat(Files.isRegularFile(synthetic.tokenizerFile())).isTrue();
    }

    @Test
    void configRoundTripsAndMatchesTheFixtureApartFromTheVocabulary() {
        ModelConfig read = ModelConfig.read(tiny.resolve(Checkpoint.CONFIG));
        assertThat(read).isEqualTo(SynthSize.TINY.config());
        ModelConfig fixture = ModelConfig.read(FIXTURE.resolve(Checkpoint.CONFIG));
        assertThat(read).usingRecursiveComparison().ignoringFields("vocabSize").isEqualTo(fixture);
        assertThat(read.vocabSize()).isEqualTo(256000);
    }

    @Test
    void publishedSizes() {
        ModelConfig so400m = SynthSize.SO400M.config();
        assertThat(so400m.hiddenSize()).isEqualTo(1152);
        assertThat(so400m.text().intermediateSize()).isEqualTo(4304);
        assertThat(so400m.vision().numLayers()).isEqualTo(27);
        assertThat(so400m.text().headDim()).isEqualTo(72);
        assertThat(SynthSize.LARGE.config().vision().headDim()).isEqualTo(64);
        assertThat(SynthSize.BASE.config().text().numHeads()).isEqualTo(12);
        assertThat(SynthSize.fromCliName("so400m")).isEqualTo(SynthSize.SO400M);
    }

    @Test
    void weightsHaveTheIntendedScales() {
        Checkpoint checkpoint = Checkpoint.open(tiny);
        assertThat(checkpoint.floats("logit_scale", 1)).containsExactly((float) Math.log(10));
        assertThat(checkpoint.floats("logit_bias", 1)).containsExactly(-10f);
        assertMoments(checkpoint.floats(TOKEN_EMBEDDING, 256000, 64), 0, 1);
        assertMoments(checkpoint.floats("text_model.encoder.layers.1.mlp.fc2.weight", 64, 176), 0, 1 / Math.sqrt(176));
        assertMoments(checkpoint.floats("vision_model.embeddings.patch_embedding.weight", 64, 768), 0, 1 / Math.sqrt(768));
        assertMoments(checkpoint.floats("dense_feature_head.attention.in_proj_weight", 192, 64), 0, 1 / Math.sqrt(64));
        float[] norm = checkpoint.floats("vision_model.encoder.layers.0.layer_norm1.weight", 64);
        assertThat(mean(norm)).isCloseTo(1, within(0.05));
        assertThat(Arrays.stream(toDoubles(checkpoint.floats("text_model.head.bias", 64))).filter(v -> v != 0).count()).isEqualTo(64);
    }

    @Test
    void sameSeedGivesIdenticalBytesAndAnotherSeedDifferentWeights() throws IOException {
        Path again = dir.resolve("again.safetensors");
        Path otherSeed = dir.resolve("seed1.safetensors");
        Synthesizer.writeWeights(SynthSize.TINY.config(), 0, again);
        Synthesizer.writeWeights(SynthSize.TINY.config(), 1, otherSeed);
        assertThat(Files.mismatch(tiny.resolve(Checkpoint.WEIGHTS), again)).isEqualTo(-1);
        assertThat(Files.size(otherSeed)).isEqualTo(Files.size(again));
        SafetensorsFile zero = SafetensorsFile.open(again);
        SafetensorsFile one = SafetensorsFile.open(otherSeed);
        for (TensorInfo info : zero.tensors().values()) {
            boolean constant = info.name().startsWith("logit_");
            assertThat(Arrays.equals(zero.floats(info.name()), one.floats(info.name()))).as(info.name()).isEqualTo(constant);
        }
    }

    /** Outlier channels: the same few channels of every block's LayerNorm gains, compensated in the weights reading them. */
    @Test
    void outliersScaleTheSameChannelsOfTheGainsAndTheirReaders() throws IOException {
        Path plainFile = dir.resolve("plain.safetensors");
        Path outlierFile = dir.resolve("outliers.safetensors");
        Synthesizer.Outliers outliers = Synthesizer.Outliers.typical(64);
        Synthesizer.writeWeights(SynthSize.TINY.config(), 3, plainFile);
        Synthesizer.writeWeights(SynthSize.TINY.config(), 3, outlierFile, outliers);
        SafetensorsFile plain = SafetensorsFile.open(plainFile);
        SafetensorsFile scaled = SafetensorsFile.open(outlierFile);
        java.util.Set<Integer> channels = null;
        for (String tower : new String[] {"text_model.", "vision_model."}) {
            for (int layer = 0; layer < 2; layer++) {
                String prefix = tower + "encoder.layers." + layer + ".";
                for (String norm : new String[] {"layer_norm1.weight", "layer_norm2.weight"}) {
                    java.util.Set<Integer> found = scaledChannels(plain.floats(prefix + norm), scaled.floats(prefix + norm), 64, (float) outliers.gain());
                    assertThat(found).as(prefix + norm).hasSize(outliers.channels());
                    if (channels == null) {
                        channels = found;
                    }
                    assertThat(found).as(prefix + norm).isEqualTo(channels);
                }
                for (String reader : new String[] {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "mlp.fc1.weight"}) {
                    assertThat(scaledChannels(plain.floats(prefix + reader), scaled.floats(prefix + reader), 64, (float) (1 / outliers.gain())))
                            .as(prefix + reader).isEqualTo(channels);
                }
                assertThat(scaled.floats(prefix + "mlp.fc2.weight")).isEqualTo(plain.floats(prefix + "mlp.fc2.weight"));
                assertThat(scaled.floats(prefix + "self_attn.out_proj.weight")).isEqualTo(plain.floats(prefix + "self_attn.out_proj.weight"));
            }
        }
        assertThat(scaled.floats("vision_model.post_layernorm.weight")).isEqualTo(plain.floats("vision_model.post_layernorm.weight"));
    }

    /** The channels (positions modulo width) where scaled = plain * factor; everywhere else they must be equal. */
    private static java.util.Set<Integer> scaledChannels(float[] plain, float[] scaled, int width, float factor) {
        java.util.Set<Integer> channels = new java.util.TreeSet<>();
        for (int i = 0; i < plain.length; i++) {
            if (scaled[i] != plain[i]) {
                assertThat(scaled[i]).isEqualTo(plain[i] * factor);
                channels.add(i % width);
            }
        }
        return channels;
    }

    private static void assertMoments(float[] values, double expectedMean, double expectedStd) {
        double mean = mean(values);
        double variance = Arrays.stream(toDoubles(values)).map(v -> (v - mean) * (v - mean)).sum() / values.length;
        assertThat(mean).isCloseTo(expectedMean, within(0.05 * expectedStd + 5 / Math.sqrt(values.length) * expectedStd));
        assertThat(Math.sqrt(variance)).isCloseTo(expectedStd, within(0.03 * expectedStd));
    }

    private static double mean(float[] values) {
        return Arrays.stream(toDoubles(values)).sum() / values.length;
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
