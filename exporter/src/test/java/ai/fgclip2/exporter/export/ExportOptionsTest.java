package ai.fgclip2.exporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.ReferenceFixture;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fp16 graphs against fp32 graphs on the same inputs, and self-contained exports. */
class ExportOptionsTest {
    @TempDir
    Path work;

    @Test
    void fp16GraphsAgreeWithFp32ByCosine() throws Exception {
        ReferenceFixture fixture = ReferenceFixture.load();
        Path checkpoint = fixture.checkpointCopy(work.resolve("checkpoint"));
        Exporter.export(checkpoint, work.resolve("fp32"), new Exporter.Options(Exporter.Precision.FP32, false));
        Manifest half = Exporter.export(checkpoint, work.resolve("fp16"), new Exporter.Options(Exporter.Precision.FP16, false));
        assertThat(half.precision()).isEqualTo("fp16");
        try (ExportedGraphs full = new ExportedGraphs(work.resolve("fp32")); ExportedGraphs reduced = new ExportedGraphs(work.resolve("fp16"))) {
            double worst = 1;
            for (JsonNode image : fixture.modelCases().path("vision")) {
                ExportedGraphs.VisionOutput a = ParityTest.runVision(full, fixture, image);
                ExportedGraphs.VisionOutput b = ParityTest.runVision(reduced, fixture, image);
                worst = Math.min(worst, cosine(a.imageEmbeds(), b.imageEmbeds()));
                ExportedGraphs.RegionOutput ra = ParityTest.runRegion(full, fixture, image, a.lastHiddenState());
                ExportedGraphs.RegionOutput rb = ParityTest.runRegion(reduced, fixture, image, a.lastHiddenState());
                int hidden = full.manifest.dimensions().hiddenSize();
                for (int box = 0; box < ra.regionEmbeds().length / hidden; box++) {
                    worst = Math.min(worst, cosine(slice(ra.regionEmbeds(), box, hidden), slice(rb.regionEmbeds(), box, hidden)));
                }
            }
            for (JsonNode textCase : fixture.modelCases().path("text")) {
                long[] ids = fixture.longs(textCase.path("name").asText() + ".input_ids");
                String walk = textCase.path("walk_type").asText();
                worst = Math.min(worst, cosine(full.text(ids, walk), reduced.text(ids, walk)));
            }
            System.out.printf("fp16 vs fp32: lowest cosine %.6f%n", worst);
            assertThat(worst).isGreaterThanOrEqualTo(0.999);
        }
    }

    @Test
    void selfContainedExportNeedsNoCheckpoint() throws Exception {
        ReferenceFixture fixture = ReferenceFixture.load();
        Path checkpoint = fixture.checkpointCopy(work.resolve("checkpoint"));
        Manifest manifest = Exporter.export(checkpoint, work.resolve("out"), new Exporter.Options(Exporter.Precision.FP32, true));
        assertThat(manifest.weights().mode()).isEqualTo("self-contained");
        for (Manifest.GraphFile graph : manifest.graphs().values()) {
            assertThat(work.resolve("out").resolve(graph.file() + ".data")).isRegularFile();
        }
        try (Stream<Path> files = Files.walk(checkpoint)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertThat(checkpoint).doesNotExist();
        JsonNode image = fixture.modelCases().path("vision").get(0);
        String name = image.path("name").asText();
        try (ExportedGraphs graphs = new ExportedGraphs(work.resolve("out"))) {
            ExportedGraphs.VisionOutput out = ParityTest.runVision(graphs, fixture, image);
            ParityTest.assertClose(name + ".image_embeds (self-contained)", out.imageEmbeds(), fixture.floats(name + ".image_embeds"));
        }
    }

    private static float[] slice(float[] rows, int row, int width) {
        return java.util.Arrays.copyOfRange(rows, row * width, (row + 1) * width);
    }

    private static double cosine(float[] a, float[] b) {
        return ParityTest.dot(a, b) / Math.sqrt(ParityTest.dot(a, a) * ParityTest.dot(b, b));
    }
}
