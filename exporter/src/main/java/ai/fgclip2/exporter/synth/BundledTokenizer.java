package ai.fgclip2.exporter.synth;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.tukaani.xz.XZInputStream;

/**
 * The Gemma 256k tokenizer shipped inside the jar (xz-compressed, see src/main/resources/demo), used by
 * {@code synth} checkpoints and the built-in demo model.
 */
public final class BundledTokenizer {
    public static final String RESOURCE = "/demo/tokenizer.json.xz";
    public static final int VOCAB_SIZE = 256000;

    private BundledTokenizer() {
    }

    /** Writes the decompressed {@code tokenizer.json} to {@code target} (atomically, via a temporary file). */
    public static void writeTo(Path target) {
        try (InputStream compressed = BundledTokenizer.class.getResourceAsStream(RESOURCE)) {
            if (compressed == null) {
                throw new IllegalStateException("bundled tokenizer " + RESOURCE + " is missing from the classpath");
            }
            Path temporary = Files.createTempFile(target.toAbsolutePath().getParent(), "tokenizer", ".json.tmp");
            try (InputStream json = new XZInputStream(compressed)) {
                Files.copy(json, temporary, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the bundled tokenizer to " + target, e);
        }
    }
}
