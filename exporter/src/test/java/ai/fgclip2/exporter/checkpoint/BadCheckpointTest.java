package ai.fgclip2.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSpec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each broken checkpoint fails with a message that names the file and, where there is one, the tensor. */
class BadCheckpointTest {
    @TempDir
    Path dir;

    private static List<TensorSpec> tinySpecsWith(String name, TensorSpec replacement) {
        List<TensorSpec> specs = new ArrayList<>();
        for (TensorSpec spec : TestCheckpoints.specsOf(TestCheckpoints.tinyWeights())) {
            if (!spec.name().equals(name)) {
                specs.add(spec);
            } else if (replacement != null) {
                specs.add(replacement);
            }
        }
        return specs;
    }

    private Path weights() {
        return dir.toAbsolutePath().resolve(Checkpoint.WEIGHTS);
    }

    @Test
    void missingTensor() {
        Checkpoint checkpoint = Checkpoint.open(TestCheckpoints.tinyCheckpoint(dir, tinySpecsWith("vision_model.head.probe", null)));
        assertThatThrownBy(checkpoint::validate).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": missing tensor 'vision_model.head.probe'");
    }

    @Test
    void wrongShape() {
        String name = "text_model.encoder.layers.1.mlp.fc1.weight";
        Checkpoint checkpoint = Checkpoint.open(TestCheckpoints.tinyCheckpoint(dir,
                tinySpecsWith(name, new TensorSpec(name, DType.F32, new long[] {64, 176}))));
        assertThatThrownBy(checkpoint::validate).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": tensor '" + name + "' has shape [64, 176], expected [176, 64]");
    }

    @Test
    void wrongDtype() {
        Checkpoint checkpoint = Checkpoint.open(TestCheckpoints.tinyCheckpoint(dir,
                tinySpecsWith("logit_scale", new TensorSpec("logit_scale", DType.I64, new long[] {1}))));
        assertThatThrownBy(checkpoint::validate).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": tensor 'logit_scale' has dtype I64, expected F32, F16 or BF16");
    }

    @Test
    void truncatedFile() throws IOException {
        Path model = TestCheckpoints.tinyCheckpoint(dir, TestCheckpoints.specsOf(TestCheckpoints.tinyWeights()));
        try (RandomAccessFile file = new RandomAccessFile(weights().toFile(), "rw")) {
            file.setLength(file.length() - 100);
        }
        // the last tensor written is the last one of the fixture's header
        List<TensorSpec> specs = TestCheckpoints.specsOf(TestCheckpoints.tinyWeights());
        String last = specs.get(specs.size() - 1).name();
        assertThatThrownBy(() -> Checkpoint.open(model)).isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(weights() + ": tensor '" + last + "': data_offsets")
                .hasMessageContaining("point past the end of the file").hasMessageContaining("truncated file?");
    }

    @Test
    void headerPointingPastTheEnd() {
        TestCheckpoints.rawFile(weights(), 80, String.format("%-80s",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}"), 8);
        assertThatThrownBy(() -> SafetensorsFile.open(weights())).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": tensor 'w': data_offsets [0,16] point past the end of the file (data section is 8 bytes; truncated file?)");
    }

    @Test
    void offsetsThatDoNotHoldTheShape() {
        TestCheckpoints.rawFile(weights(), 80, String.format("%-80s",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}"), 16);
        assertThatThrownBy(() -> SafetensorsFile.open(weights())).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": tensor 'w': 12 bytes do not hold shape [4] of F32");
    }

    @Test
    void headerLengthLargerThanTheFile() {
        TestCheckpoints.rawFile(weights(), 4096, "{}", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(weights())).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": header length 4096 points past the end of the file (10 bytes)");
    }

    @Test
    void fileTooShortForAHeaderLength() throws IOException {
        Files.write(weights(), new byte[5]);
        assertThatThrownBy(() -> SafetensorsFile.open(weights())).isInstanceOf(CheckpointException.class)
                .hasMessage(weights() + ": truncated file (5 bytes, no header length)");
    }

    @Test
    void headerThatIsNotJson() {
        TestCheckpoints.rawFile(weights(), 16, "not JSON at all!", 0);
        assertThatThrownBy(() -> SafetensorsFile.open(weights())).isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(weights() + ": header is not valid JSON");
    }

    @Test
    void unknownModelType() throws IOException {
        Path model = TestCheckpoints.tinyCheckpoint(dir, TestCheckpoints.specsOf(TestCheckpoints.tinyWeights()));
        Path config = model.resolve(Checkpoint.CONFIG);
        Files.writeString(config, Files.readString(config).replace("\"model_type\": \"fgclip2\"", "\"model_type\": \"siglip\""));
        assertThatThrownBy(() -> Checkpoint.open(model)).isInstanceOf(CheckpointException.class)
                .hasMessage(config.toAbsolutePath() + ": unknown model_type 'siglip' (expected 'fgclip2')");
    }

    @Test
    void missingConfig() throws IOException {
        Path model = TestCheckpoints.tinyCheckpoint(dir, TestCheckpoints.specsOf(TestCheckpoints.tinyWeights()));
        Files.delete(model.resolve(Checkpoint.CONFIG));
        assertThatThrownBy(() -> Checkpoint.open(model)).isInstanceOf(CheckpointException.class)
                .hasMessage(model.resolve(Checkpoint.CONFIG).toAbsolutePath() + ": missing config.json");
    }

    @Test
    void missingWeights() throws IOException {
        Path model = TestCheckpoints.tinyCheckpoint(dir, TestCheckpoints.specsOf(TestCheckpoints.tinyWeights()));
        Files.delete(weights());
        assertThatThrownBy(() -> Checkpoint.open(model)).isInstanceOf(CheckpointException.class)
                .hasMessage(dir.toAbsolutePath() + ": missing model.safetensors (or model.safetensors.index.json for shards)");
    }

    @Test
    void missingShard() throws IOException {
        Files.copy(Fixtures.TINY_MODEL.resolve(Checkpoint.CONFIG), dir.resolve(Checkpoint.CONFIG));
        Files.copy(Fixtures.TINY_MODEL.resolve(Checkpoint.WEIGHTS), dir.resolve("model-00001-of-00002.safetensors"));
        Files.writeString(dir.resolve(Checkpoint.WEIGHTS_INDEX), """
                {"metadata": {}, "weight_map": {
                  "logit_scale": "model-00001-of-00002.safetensors",
                  "text_model.head.weight": "model-00002-of-00002.safetensors"}}
                """);
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessage(dir.toAbsolutePath().resolve("model-00002-of-00002.safetensors") + ": shard named by model.safetensors.index.json is missing");
    }

    @Test
    void tensorMissingFromAShardedCheckpointNamesTheIndex() throws IOException {
        Files.copy(Fixtures.TINY_MODEL.resolve(Checkpoint.CONFIG), dir.resolve(Checkpoint.CONFIG));
        Files.copy(Fixtures.TINY_MODEL.resolve(Checkpoint.WEIGHTS), dir.resolve("model-00001-of-00001.safetensors"));
        Files.writeString(dir.resolve(Checkpoint.WEIGHTS_INDEX), """
                {"weight_map": {"logit_scale": "model-00001-of-00001.safetensors"}}
                """);
        Checkpoint checkpoint = Checkpoint.open(dir);
        assertThatThrownBy(checkpoint::validate).isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(dir.toAbsolutePath().resolve(Checkpoint.WEIGHTS_INDEX) + ": missing tensor '");
    }
}
