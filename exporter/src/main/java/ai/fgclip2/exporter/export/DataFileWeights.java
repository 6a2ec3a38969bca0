package ai.fgclip2.exporter.export;

import ai.fgclip2.exporter.checkpoint.SafetensorsFile;
import ai.fgclip2.exporter.checkpoint.TensorInfo;
import ai.fgclip2.exporter.graph.WeightStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Self-contained export: each tensor a graph uses is copied once into {@code <graph>.onnx.data}, page-aligned
 * so ONNX Runtime can memory-map it.
 */
final class DataFileWeights implements WeightStore, AutoCloseable {
    private static final int ALIGNMENT = 4096;

    private final String fileName;
    private final FileChannel out;
    private final Map<Path, SafetensorsFile> sources;

    DataFileWeights(Path dataFile, Map<Path, SafetensorsFile> sources) {
        this.fileName = dataFile.getFileName().toString();
        this.sources = sources;
        try {
            this.out = FileChannel.open(dataFile, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dataFile, e);
        }
    }

    @Override
    public Location locate(TensorInfo tensor) {
        try {
            long offset = (out.size() + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
            ByteBuffer data = sources.get(tensor.file()).bytes(tensor);
            long position = offset;
            while (data.hasRemaining()) {
                position += out.write(data, position);
            }
            return new Location(fileName, offset);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + fileName, e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + fileName, e);
        }
    }
}
