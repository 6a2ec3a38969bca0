package ai.fgclip2.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.checkpoint.CheckpointLayout.ExpectedTensor;
import ai.fgclip2.exporter.checkpoint.CheckpointLayout.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckpointLayoutTest {

    private static ModelConfig published(int hidden, int mlp, int layers, int heads) {
        ModelConfig.TowerConfig tower = new ModelConfig.TowerConfig(hidden, mlp, layers, heads, 1e-6, "gelu_pytorch_tanh");
        return new ModelConfig(tower, tower, 256000, hidden, 64, 20, 196, 16, 3, 16);
    }

    @Test
    void parameterCountsMatchThePublishedCheckpoints() {
        // docs/model.md, "Sizes and configuration": base 383.8 M, large 896.6 M parameters
        assertThat(Math.round(CheckpointLayout.parameterCount(published(768, 3072, 12, 12)) / 1e5)).isEqualTo(3838);
        assertThat(Math.round(CheckpointLayout.parameterCount(published(1024, 4096, 24, 16)) / 1e5)).isEqualTo(8966);
    }

    @Test
    void rolesFollowTheTensorKind() {
        List<ExpectedTensor> tensors = CheckpointLayout.expectedTensors(published(64, 176, 2, 4));
        assertThat(tensors).filteredOn(t -> t.role() == Role.LINEAR_WEIGHT).allSatisfy(t -> assertThat(t.name()).endsWith("weight"));
        assertThat(tensors).filteredOn(t -> t.name().contains("layer_norm") || t.name().contains("layernorm"))
                .allSatisfy(t -> assertThat(t.role()).isIn(Role.NORM_WEIGHT, Role.NORM_BIAS));
        assertThat(tensors).filteredOn(t -> t.role() == Role.EMBEDDING).extracting(ExpectedTensor::name).containsExactlyInAnyOrder(
                "text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight",
                "text_model.embeddings.position_embedding_ori.weight", "text_model.embeddings.position_embedding_res.weight",
                "vision_model.embeddings.position_embedding.weight", "vision_model.head.probe", "dense_feature_head.probe");
    }
}
