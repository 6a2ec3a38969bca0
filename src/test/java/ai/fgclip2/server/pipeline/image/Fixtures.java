package ai.fgclip2.server.pipeline.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locations of the reference fixtures and test images. */
final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    /** {@code fgclip2-tiny}: the directory named by {@code $FGCLIP2_FIXTURES} when set, else the copy in the repository. */
    static Path tiny() {
        return ai.fgclip2.exporter.ReferenceFixture.location();
    }

    /** The hand-made and converted images of {@code src/test/resources/images}. */
    static Path images() {
        return basedir().resolve("src/test/resources/images");
    }

    static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path basedir() {
        String basedir = System.getProperty("basedir");
        return Path.of(basedir != null ? basedir : System.getProperty("user.dir"));
    }
}
