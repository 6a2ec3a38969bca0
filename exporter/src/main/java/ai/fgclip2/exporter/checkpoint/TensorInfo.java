package ai.fgclip2.exporter.checkpoint;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one tensor lives: its file, dtype, shape and byte range. {@code fileOffset} counts from the start of
 * the file (8-byte length + JSON header + data offset), which is what ONNX external data needs.
 */
public record TensorInfo(String name, Path file, DType dtype, long[] shape, long fileOffset, long byteLength) {

    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
