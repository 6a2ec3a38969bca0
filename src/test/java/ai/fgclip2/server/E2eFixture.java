package ai.fgclip2.server;

import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import ai.fgclip2.exporter.synth.BundledTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole-request fixture of the official code (src/test/resources/fixtures/PROVENANCE.md), or the directory
 * named by FGCLIP2_E2E_FIXTURES (same schema).
 */
public record E2eFixture(Path directory, JsonNode cases, SafetensorsFile expected) {
    public static final String ENV = "FGCLIP2_E2E_FIXTURES";

    public static E2eFixture load() {
        String override = System.getenv(ENV);
        Path directory = override != null && !override.isBlank()
                ? Path.of(override)
                : Path.of(System.getProperty("user.dir"), "src/test/resources/fixtures/fgclip2-e2e");
        try {
            JsonNode cases = JsonMapper.builder().build().readTree(Files.readString(directory.resolve("cases.json")));
            return new E2eFixture(directory, cases, SafetensorsFile.open(directory.resolve("expected.safetensors")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixture's checkpoint copied to {@code target}, with the bundled Gemma tokenizer when it has none. */
    public Path checkpointCopy(Path target) {
        try {
            Files.createDirectories(target);
            try (var files = Files.list(directory.resolve("model"))) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            if (!Files.exists(target.resolve("tokenizer.json"))) {
                BundledTokenizer.writeTo(target.resolve("tokenizer.json"));
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String imageBase64(String file) {
        try {
            return Base64.getEncoder().encodeToString(Files.readAllBytes(directory.resolve(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public float[] floats(String tensor) {
        return expected.floats(tensor);
    }
}
