package ai.fgclip2.exporter.checkpoint;

import ai.fgclip2.exporter.checkpoint.SafetensorsWriter.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Builds checkpoint files for tests from the tiny fixture. */
final class TestCheckpoints {
    private TestCheckpoints() {
    }

    static SafetensorsFile tinyWeights() {
        return SafetensorsFile.open(Fixtures.TINY_MODEL.resolve(Checkpoint.WEIGHTS));
    }

    static List<TensorSpec> specsOf(SafetensorsFile file) {
        return file.tensors().values().stream().map(info -> new TensorSpec(info.name(), info.dtype(), info.shape())).toList();
    }

    /** Writes {@code specs}; a tensor declared as in {@code source} gets its bytes, any other one zeros. */
    static void writeFrom(SafetensorsFile source, List<TensorSpec> specs, Path target) {
        SafetensorsWriter.write(target, specs, (spec, sink) -> {
            TensorInfo original = source.tensors().get(spec.name());
            if (original != null && original.dtype() == spec.dtype() && Arrays.equals(original.shape(), spec.shape())) {
                sink.putBytes(source.bytes(original));
            } else {
                sink.putBytes(ByteBuffer.allocate(Math.toIntExact(spec.byteLength())));
            }
        });
    }

    /** A checkpoint directory with the tiny fixture's config and the given tensors. */
    static Path tinyCheckpoint(Path dir, List<TensorSpec> specs) {
        try {
            Files.createDirectories(dir);
            Files.copy(Fixtures.TINY_MODEL.resolve(Checkpoint.CONFIG), dir.resolve(Checkpoint.CONFIG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        writeFrom(tinyWeights(), specs, dir.resolve(Checkpoint.WEIGHTS));
        return dir;
    }

    /** A hand-made file: 8-byte little-endian header length, header text, data bytes. */
    static void rawFile(Path file, long headerLength, String header, int dataBytes) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(headerLength).put(json);
        try {
            Files.write(file, bytes.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
