package ai.fgclip2.exporter;

import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A reference fixture directory produced by the official FG-CLIP 2 code (see fixtures/PROVENANCE.md): the
 * bundled copy, or the directory named by FGCLIP2_FIXTURES (same schema, other sizes/images/texts).
 */
public record ReferenceFixture(Path directory, JsonNode modelCases, SafetensorsFile expected) {
    public static final String ENV = "FGCLIP2_FIXTURES";

    /** The fixture directory itself (holding model_cases.json, preprocess_cases.json, ...). */
    public static Path location() {
        String override = System.getenv(ENV);
        return override != null && !override.isBlank()
                ? Path.of(override)
                : Path.of(System.getProperty("user.dir"), "exporter/src/test/resources/fixtures/fgclip2-tiny");
    }

    public static ReferenceFixture load() {
        Path directory = location();
        try {
            JsonNode cases = new ObjectMapper().readTree(Files.readString(directory.resolve("model_cases.json")));
            return new ReferenceFixture(directory, cases, SafetensorsFile.open(directory.resolve("expected.safetensors")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the reference fixture in " + directory, e);
        }
    }

    public Path modelDirectory() {
        return directory.resolve("model");
    }

    /** A copy of the fixture's checkpoint with the bundled tokenizer added, as the exporter expects. */
    public Path checkpointCopy(Path target) {
        try {
            Files.createDirectories(target);
            try (var files = Files.list(modelDirectory())) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            if (!Files.exists(target.resolve("tokenizer.json"))) {
                ai.fgclip2.exporter.synth.BundledTokenizer.writeTo(target.resolve("tokenizer.json"));
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public float[] floats(String tensor) {
        return expected.floats(tensor);
    }

    public long[] longs(String tensor) {
        return expected.longs(tensor);
    }

    public long[] shape(String tensor) {
        return expected.info(tensor).shape();
    }
}
