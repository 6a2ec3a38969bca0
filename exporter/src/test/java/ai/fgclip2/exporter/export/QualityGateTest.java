package ai.fgclip2.exporter.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.ReferenceFixture;
import ai.fgclip2.exporter.synth.SynthSize;
import ai.fgclip2.exporter.synth.Synthesizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The int8 quality gate: its stored references, its figures, and that it fails when the graphs do not match them. */
class QualityGateTest {
    @TempDir
    static Path work;
    static Path checkpoint;
    static Path int8;

    @BeforeAll
    static void export() {
        checkpoint = ReferenceFixture.load().checkpointCopy(work.resolve("checkpoint"));
        int8 = work.resolve("int8");
        Exporter.export(checkpoint, int8, new Exporter.Options(Exporter.Precision.INT8, false));
    }

    @Test
    void int8ExportNamesItsGateAndPassesIt() throws Exception {
        Manifest manifest = Manifest.read(int8);
        assertThat(manifest.precision()).isEqualTo("int8");
        assertThat(manifest.int8().qualityGate().file()).isEqualTo(QualityGate.FILE);
        assertThat(int8.resolve(QualityGate.FILE)).isRegularFile();
        QualityGate.Report report = QualityGate.check(int8);
        System.out.println("quality gate (fixture, int8): " + report.summary());
        assertThat(report.outputs()).extracting(QualityGate.Agreement::output).containsExactlyElementsOf(QualityGate.OUTPUTS);
        assertThat(report.output("region_embeds").cases()).isEqualTo(3 * manifest.int8().qualityGate().images());
        // the thresholds of Int8QualityTest
        assertThat(report.passes(0.999, 0.97)).isTrue();
        assertThat(report.maxRelativeL2Error()).isLessThan(0.05);
    }

    /** The stored references are the float32 graphs' outputs: the exported fp32 graphs reproduce them. */
    @Test
    void float32GraphsReproduceTheStoredReferences() throws Exception {
        Path fp32 = work.resolve("fp32");
        Manifest full = Exporter.export(checkpoint, fp32, new Exporter.Options(Exporter.Precision.FP32, false));
        assertThat(full.int8()).isNull();
        assertThatThrownBy(() -> QualityGate.check(fp32)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no quality gate");
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession text = GraphSessions.open(environment, fp32, full, Exporter.TEXT, new OrtSession.SessionOptions());
             OrtSession vision = GraphSessions.open(environment, fp32, full, Exporter.VISION, new OrtSession.SessionOptions());
             OrtSession region = GraphSessions.open(environment, fp32, full, Exporter.REGION, new OrtSession.SessionOptions())) {
            QualityGate.Report report = QualityGate.check(int8, Manifest.read(int8), text, vision, region);
            System.out.println("quality gate (fixture, fp32 graphs): " + report.summary());
            assertThat(report.minCosine()).isGreaterThan(0.999999);
            assertThat(report.maxRelativeL2Error()).isLessThan(1e-4);
        }
    }

    /** References of another checkpoint of the same shape: the gate must report disagreement. */
    @Test
    void failsAgainstAnotherCheckpointsReferences() throws Exception {
        Path seed0 = work.resolve("seed0");
        Path seed1 = work.resolve("seed1");
        Synthesizer.write(SynthSize.TINY, 0, seed0);
        Synthesizer.write(SynthSize.TINY, 1, seed1);
        Path export0 = work.resolve("seed0-int8");
        Path export1 = work.resolve("seed1-int8");
        Exporter.export(seed0, export0, new Exporter.Options(Exporter.Precision.INT8, false));
        Exporter.export(seed1, export1, new Exporter.Options(Exporter.Precision.INT8, false));
        assertThat(QualityGate.check(export0).passes(0.999, 0.97)).isTrue();
        Files.copy(export1.resolve(QualityGate.FILE), export0.resolve(QualityGate.FILE), StandardCopyOption.REPLACE_EXISTING);
        QualityGate.Report mismatched = QualityGate.check(export0);
        System.out.println("quality gate (seed 0 graphs, seed 1 references): " + mismatched.summary());
        assertThat(mismatched.passes(0.999, 0.97)).isFalse();
        assertThat(mismatched.minCentredCosine()).isLessThan(0.5);
    }
}
