package ai.fgclip2.server;

import ai.fgclip2.exporter.checkpoint.CheckpointException;
import ai.onnxruntime.OrtException;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.web.server.PortInUseException;

/** A failed start as one line a newcomer can act on: {@code <cause>. <what to do>}. */
final class StartupFailure {
    static final String PREFIX = "fgclip2-server failed to start: ";
    private static final String MODEL_HELP = "Point fgclip2.model.dir (or FGCLIP2_MODEL_DIR) at a FG-CLIP 2 checkpoint folder "
            + "(config.json, model.safetensors, tokenizer.json) or an export (manifest.json); see \"Use a real model\" in the README";

    private StartupFailure() {
    }

    static String line(Throwable failure) {
        return PREFIX + describe(failure);
    }

    private static String describe(Throwable failure) {
        PortInUseException port = find(failure, PortInUseException.class);
        if (port != null) {
            return "port " + port.getPort() + " is already in use. Stop the process that listens on it, or choose another port "
                    + "with --server.port=N (SERVER_PORT)";
        }
        BindException binding = find(failure, BindException.class);
        if (binding != null) {
            String value = binding.getProperty() == null ? "" : "='" + binding.getProperty().getValue() + "'";
            return binding.getName() + value + " is not valid (" + sentence(rootCause(binding).getMessage()) + "). Fix it: the README's "
                    + "Configuration table lists every knob with its allowed values";
        }
        CheckpointException checkpoint = find(failure, CheckpointException.class);
        if (checkpoint != null) {
            return sentence(checkpoint.getMessage()) + ". " + MODEL_HELP;
        }
        OrtException ort = find(failure, OrtException.class);
        if (ort != null && ort.getMessage() != null && ort.getMessage().contains("CUDA")) {
            return sentence(ort.getMessage()) + ". On a GPU host use the CUDA build (./mvnw -Pgpu package, or the :gpu image) "
                    + "with CUDA 12 and cuDNN 9; elsewhere set fgclip2.engine.provider=auto or cpu";
        }
        Throwable root = rootCause(failure);
        String cause = root.getMessage() == null ? root.getClass().getSimpleName() : sentence(root.getMessage());
        return cause + ". Start with --logging.level.ai.fgclip2=debug to see the full trace";
    }

    private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static Throwable rootCause(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** The first line, without a closing full stop (the line adds its own punctuation). */
    private static String sentence(String message) {
        String first = message.lines().findFirst().orElse("").strip();
        return first.endsWith(".") ? first.substring(0, first.length() - 1) : first;
    }
}
