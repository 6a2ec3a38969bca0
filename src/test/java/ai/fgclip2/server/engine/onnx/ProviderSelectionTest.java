package ai.fgclip2.server.engine.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.exporter.ReferenceFixture;
import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.EngineSettings.Provider;
import ai.fgclip2.server.engine.ModelFiles;
import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider selection with ONNX Runtime's CPU build (what CI has): auto falls back to the CPU and says why,
 * cuda refuses to start, cpu never tries CUDA.
 */
class ProviderSelectionTest {
    @TempDir
    static Path work;
    static ModelFiles model;

    @BeforeAll
    static void export() {
        ReferenceFixture fixture = ReferenceFixture.load();
        Manifest manifest = Exporter.export(fixture.checkpointCopy(work.resolve("checkpoint")), work.resolve("export"),
                new Exporter.Options(Exporter.Precision.FP32, false));
        model = new ModelFiles(work.resolve("export"), manifest, "tiny", "test", false);
    }

    private static OnnxEngine engine(Provider provider) throws OrtException {
        return new OnnxEngine(model, new EngineSettings(provider, 0, 0), new SimpleMeterRegistry());
    }

    @Test
    void autoFallsBackToCpuAndSaysWhy() throws Exception {
        try (OnnxEngine engine = engine(Provider.AUTO)) {
            assertThat(engine.provider()).isEqualTo("cpu");
            assertThat(engine.providerFallback()).contains("CUDA not available");
        }
    }

    @Test
    void cudaRefusesToStartWithoutCuda() {
        assertThatThrownBy(() -> engine(Provider.CUDA)).isInstanceOf(OrtException.class).hasMessageContaining("provider=cuda");
    }

    @Test
    void cpuDoesNotTryCuda() throws Exception {
        try (OnnxEngine engine = engine(Provider.CPU)) {
            assertThat(engine.provider()).isEqualTo("cpu");
            assertThat(engine.providerFallback()).isNull();
        }
    }
}
