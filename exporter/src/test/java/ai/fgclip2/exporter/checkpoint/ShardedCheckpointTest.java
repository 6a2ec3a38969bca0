package ai.fgclip2.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSpec;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void twoShardsReadLikeTheSingleFile() throws IOException {
        SafetensorsFile whole = TestCheckpoints.tinyWeights();
        List<TensorSpec> specs = TestCheckpoints.specsOf(whole);
        List<TensorSpec> first = specs.subList(0, specs.size() / 2);
        List<TensorSpec> second = specs.subList(specs.size() / 2, specs.size());
        String firstName = "model-00001-of-00002.safetensors";
        String secondName = "model-00002-of-00002.safetensors";
        TestCheckpoints.writeFrom(whole, first, dir.resolve(firstName));
        TestCheckpoints.writeFrom(whole, second, dir.resolve(secondName));
        ObjectNode index = new ObjectMapper().createObjectNode();
        index.putObject("metadata").put("total_size", specs.stream().mapToLong(TensorSpec::byteLength).sum());
        ObjectNode weightMap = index.putObject("weight_map");
        first.forEach(spec -> weightMap.put(spec.name(), firstName));
        second.forEach(spec -> weightMap.put(spec.name(), secondName));
        Files.writeString(dir.resolve(Checkpoint.WEIGHTS_INDEX), index.toString());
        Files.copy(Fixtures.TINY_MODEL.resolve(Checkpoint.CONFIG), dir.resolve(Checkpoint.CONFIG));

        Set<String> inFirst = new HashSet<>();
        first.forEach(spec -> inFirst.add(spec.name()));
        Checkpoint sharded = Checkpoint.open(dir);
        Checkpoint single = Checkpoint.open(Fixtures.TINY_MODEL);
        sharded.validate();
        Set<Path> shardFiles = new HashSet<>();
        sharded.files().forEach(file -> shardFiles.add(file.path().getFileName()));
        assertThat(shardFiles).containsExactlyInAnyOrder(Path.of(firstName), Path.of(secondName));
        for (TensorSpec spec : specs) {
            assertThat(sharded.tensor(spec.name(), spec.shape()).file().getFileName())
                    .isEqualTo(Path.of(inFirst.contains(spec.name()) ? firstName : secondName));
            assertThat(sharded.floats(spec.name(), spec.shape())).as(spec.name()).isEqualTo(single.floats(spec.name(), spec.shape()));
        }
    }
}
