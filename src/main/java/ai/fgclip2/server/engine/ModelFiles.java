package ai.fgclip2.server.engine;

import ai.fgclip2.exporter.export.Manifest;
import java.nio.file.Path;

/**
 * An exported model ready to load: its folder and manifest, the id and revision every response names, and
 * whether it is the built-in untrained demo model.
 */
public record ModelFiles(Path directory, Manifest manifest, String id, String revision, boolean demo) {

    public Path tokenizer() {
        return directory.resolve(manifest.tokenizer());
    }
}
