package ai.fgclip2.exporter.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FloatLayersTest {
    @Test
    void parsesNamesIndicesAndFc2IntoACanonicalSpec() {
        FloatLayers layers = FloatLayers.parse(" last, 5 ,FIRST,fc2,2,5");
        assertThat(layers.spec()).isEqualTo("first,last,2,5,fc2");
        assertThat(FloatLayers.parse(layers.spec())).isEqualTo(layers);
        assertThat(layers.keepsLayer(0, 12)).isTrue();
        assertThat(layers.keepsLayer(11, 12)).isTrue();
        assertThat(layers.keepsLayer(5, 12)).isTrue();
        assertThat(layers.keepsLayer(6, 12)).isFalse();
        assertThat(layers.everyFc2()).isTrue();
        assertThat(FloatLayers.parse("").isEmpty()).isTrue();
        assertThat(FloatLayers.parse("").spec()).isEmpty();
    }

    @Test
    void precisionPerBlock() {
        LinearPrecision precision = LinearPrecision.int8(FloatLayers.parse("last,fc2"), true);
        assertThat(precision.block(0, 4)).isEqualTo(new LinearPrecision.Block(true, true, false));
        assertThat(precision.block(3, 4)).isEqualTo(new LinearPrecision.Block(false, false, false));
        assertThat(LinearPrecision.FLOAT.block(0, 4)).isEqualTo(new LinearPrecision.Block(false, false, false));
    }

    @Test
    void rejectsUnknownWordsAndMissingLayers() {
        assertThatThrownBy(() -> FloatLayers.parse("first,middle")).hasMessageContaining("'middle'");
        assertThatThrownBy(() -> FloatLayers.parse("-1")).hasMessageContaining("'-1'");
        assertThatThrownBy(() -> FloatLayers.parse("3").checkAgainst(2)).hasMessageContaining("layer 3 does not exist");
    }
}
