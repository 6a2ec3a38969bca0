package ai.fgclip2.exporter.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Writes a {@code .safetensors} file tensor by tensor: the tensors are declared up front (the header needs
 * every offset), then a {@link TensorFiller} streams each one's values through a small buffer, so a
 * multi-gigabyte checkpoint never sits in memory. The file appears atomically when complete.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BUFFER_BYTES = 1 << 20;

    /** One tensor to write. */
    public record TensorSpec(String name, DType dtype, long[] shape) {
        public long elementCount() {
            long count = 1;
            for (long dim : shape) {
                count *= dim;
            }
            return count;
        }

        public long byteLength() {
            return elementCount() * dtype.bytes();
        }
    }

    /** Supplies the values of one tensor; called once per declared tensor, in declaration order. */
    @FunctionalInterface
    public interface TensorFiller {
        void fill(TensorSpec tensor, TensorSink sink) throws IOException;
    }

    /** Receives the values of the current tensor; exactly {@link TensorSpec#byteLength()} bytes must arrive. */
    public interface TensorSink {
        /** Appends values converted to the tensor's floating-point dtype (F16/BF16 round to nearest even). */
        void putFloats(float[] values, int offset, int length) throws IOException;

        default void putFloats(float[] values) throws IOException {
            putFloats(values, 0, values.length);
        }

        /** Appends raw little-endian bytes already in the tensor's dtype (any dtype). */
        void putBytes(ByteBuffer raw) throws IOException;
    }

    private SafetensorsWriter() {
    }

    public static void write(Path file, List<TensorSpec> tensors, TensorFiller filler) {
        byte[] header = header(file, tensors);
        Path temporary = null;
        try {
            // not Files.createTempFile: its owner-only permissions would stick to the finished file
            temporary = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + ".tmp");
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer start = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
                start.putLong(header.length).put(header).flip();
                while (start.hasRemaining()) {
                    channel.write(start);
                }
                ChannelSink sink = new ChannelSink(channel);
                for (TensorSpec tensor : tensors) {
                    sink.begin(tensor);
                    filler.fill(tensor, sink);
                    sink.end(file);
                }
                sink.flush();
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            temporary = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // the original failure is the one worth reporting
                }
            }
        }
    }

    /** The JSON header, padded with spaces so the data section starts 8-byte aligned. */
    private static byte[] header(Path file, List<TensorSpec> tensors) {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("__metadata__").put("format", "pt");
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (TensorSpec tensor : tensors) {
            if (tensor.name().isEmpty() || tensor.name().equals("__metadata__") || !names.add(tensor.name())) {
                throw new IllegalArgumentException(file + ": invalid or duplicate tensor name '" + tensor.name() + "'");
            }
            if (Arrays.stream(tensor.shape()).anyMatch(dim -> dim < 0)) {
                throw new IllegalArgumentException(file + ": tensor '" + tensor.name() + "' has a negative dimension " + Arrays.toString(tensor.shape()));
            }
            ObjectNode entry = root.putObject(tensor.name());
            entry.put("dtype", tensor.dtype().name());
            Arrays.stream(tensor.shape()).forEach(entry.putArray("shape")::add);
            entry.putArray("data_offsets").add(offset).add(offset + tensor.byteLength());
            offset += tensor.byteLength();
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) & ~7);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static final class ChannelSink implements TensorSink {
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private TensorSpec current;
        private long remaining;

        ChannelSink(FileChannel channel) {
            this.channel = channel;
        }

        void begin(TensorSpec tensor) {
            current = tensor;
            remaining = tensor.byteLength();
        }

        void end(Path file) {
            if (remaining != 0) {
                throw new IllegalStateException(file + ": tensor '" + current.name() + "' received "
                        + (current.byteLength() - remaining) + " of " + current.byteLength() + " bytes");
            }
        }

        @Override
        public void putFloats(float[] values, int offset, int length) throws IOException {
            DType dtype = current.dtype();
            if (!dtype.isFloatingPoint()) {
                throw new IllegalArgumentException("tensor '" + current.name() + "' is " + dtype + ", not a floating-point dtype");
            }
            claim((long) length * dtype.bytes());
            int end = offset + length;
            int i = offset;
            while (i < end) {
                if (buffer.remaining() < dtype.bytes()) {
                    flush();
                }
                int count = Math.min(end - i, buffer.remaining() / dtype.bytes());
                switch (dtype) {
                    case F32 -> {
                        buffer.asFloatBuffer().put(values, i, count);
                        buffer.position(buffer.position() + 4 * count);
                    }
                    case F16 -> {
                        for (int k = i; k < i + count; k++) {
                            buffer.putShort(HalfFloats.floatToHalf(values[k]));
                        }
                    }
                    case BF16 -> {
                        for (int k = i; k < i + count; k++) {
                            buffer.putShort(HalfFloats.floatToBfloat16(values[k]));
                        }
                    }
                    default -> throw new AssertionError(dtype);
                }
                i += count;
            }
        }

        @Override
        public void putBytes(ByteBuffer raw) throws IOException {
            claim(raw.remaining());
            while (raw.hasRemaining()) {
                if (!buffer.hasRemaining()) {
                    flush();
                }
                int count = Math.min(raw.remaining(), buffer.remaining());
                buffer.put(raw.slice().limit(count));
                raw.position(raw.position() + count);
            }
        }

        private void claim(long bytes) {
            if (bytes > remaining) {
                throw new IllegalStateException("tensor '" + current.name() + "' received more than its " + current.byteLength() + " bytes");
            }
            remaining -= bytes;
        }

        void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }
    }
}
