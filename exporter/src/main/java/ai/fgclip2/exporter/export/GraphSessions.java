package ai.fgclip2.exporter.export;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens an exported graph in ONNX Runtime. The graph is passed as bytes with the weights folder named in the
 * session config, because initializers may point into a checkpoint that lives elsewhere (ORT 1.22+); the folder
 * must be a real path, since ORT 1.24+ refuses locations that leave it through symlinks.
 */
public final class GraphSessions {
    static final String EXTERNAL_FOLDER_KEY = "session.model_external_initializers_file_folder_path";

    private GraphSessions() {
    }

    public static OrtSession open(OrtEnvironment environment, Path exportDirectory, Manifest manifest, String graph,
                                  OrtSession.SessionOptions options) throws OrtException {
        Manifest.GraphFile file = manifest.graphs().get(graph);
        if (file == null) {
            throw new IllegalArgumentException(exportDirectory + ": manifest lists no graph '" + graph + "'");
        }
        try {
            return open(environment, Files.readAllBytes(exportDirectory.resolve(file.file())), manifest.weightsDirectory(exportDirectory).toRealPath(), options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read graph " + file.file() + " or its weights folder", e);
        }
    }

    /** A serialized graph whose external data lives in {@code weightsFolder} (a real path). */
    static OrtSession open(OrtEnvironment environment, byte[] model, Path weightsFolder, OrtSession.SessionOptions options) throws OrtException {
        options.addConfigEntry(EXTERNAL_FOLDER_KEY, weightsFolder.toString());
        // ORT's Linux build records telemetry unless told not to (ORT_DISABLE_TELEMETRY=1 covers the start-up)
        environment.setTelemetry(false);
        return environment.createSession(model, options);
    }
}
