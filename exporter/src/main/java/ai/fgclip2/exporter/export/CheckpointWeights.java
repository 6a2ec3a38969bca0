package ai.fgclip2.exporter.export;

import ai.fgclip2.exporter.checkpoint.TensorInfo;
import ai.fgclip2.exporter.graph.WeightStore;
import java.nio.file.Path;

/** Initializers point straight into the checkpoint's safetensors files: nothing is copied. */
final class CheckpointWeights implements WeightStore {
    private final Path checkpointDirectory;

    CheckpointWeights(Path checkpointDirectory) {
        this.checkpointDirectory = checkpointDirectory;
    }

    @Override
    public Location locate(TensorInfo tensor) {
        return new Location(checkpointDirectory.relativize(tensor.file()).toString(), tensor.fileOffset());
    }
}
