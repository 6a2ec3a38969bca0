package ai.fgclip2.exporter.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One memory-mapped {@code .safetensors} file. The header is validated up front (length, JSON, dtypes,
 * offsets inside the file, byte length equal to shape times element size), so later reads cannot run off
 * the end. Tensor data is read lazily through the mapping.
 */
public final class SafetensorsFile {
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final long dataStart;
    private final FileChannel channel;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                return read(path, channel);
            } catch (RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static SafetensorsFile read(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new CheckpointException(path + ": truncated file (" + fileSize + " bytes, no header length)");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
            throw new CheckpointException(path + ": header length " + headerLength + " points past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        channel.read(headerBytes, 8);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointException(path + ": header is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(path + ": header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            JsonNode node = entry.getValue();
            if (name.equals("__metadata__")) {
                node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String where = path + ": tensor '" + name + "'";
            DType dtype = DType.parse(node.path("dtype").asText(""), where);
            JsonNode shapeNode = node.path("shape");
            JsonNode offsets = node.path("data_offsets");
            if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new CheckpointException(where + ": header entry lacks shape or data_offsets");
            }
            long[] shape = new long[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw new CheckpointException(where + ": negative or non-numeric dimension in shape " + shapeNode);
                }
                elements *= shape[i];
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            if (begin < 0 || end < begin) {
                throw new CheckpointException(where + ": invalid data_offsets " + offsets);
            }
            if (end > dataSize) {
                throw new CheckpointException(where + ": data_offsets " + offsets + " point past the end of the file (data section is " + dataSize + " bytes; truncated file?)");
            }
            if (end - begin != elements * dtype.bytes()) {
                throw new CheckpointException(where + ": " + (end - begin) + " bytes do not hold shape " + shapeNode + " of " + dtype);
            }
            tensors.put(name, new TensorInfo(name, path, dtype, shape, dataStart + begin, end - begin));
        }
        return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new CheckpointException(path + ": missing tensor '" + name + "'");
        }
        return info;
    }

    /** The raw little-endian bytes of a tensor, mapped, not copied. */
    public ByteBuffer bytes(TensorInfo info) {
        try {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, info.fileOffset(), info.byteLength());
            return mapped.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot map tensor '" + info.name() + "' (" + e.getMessage() + ")", e);
        }
    }

    /** A floating-point tensor widened to float32. */
    public float[] floats(String name) {
        TensorInfo info = info(name);
        ByteBuffer data = bytes(info);
        float[] out = new float[Math.toIntExact(info.elementCount())];
        switch (info.dtype()) {
            case F32 -> data.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.halfToFloat(data.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.bfloat16ToFloat(data.getShort(2 * i));
                }
            }
            default -> throw new CheckpointException(path + ": tensor '" + name + "' is " + info.dtype() + ", expected a floating-point dtype");
        }
        return out;
    }

    public long[] longs(String name) {
        TensorInfo info = info(name);
        ByteBuffer data = bytes(info);
        long[] out = new long[Math.toIntExact(info.elementCount())];
        switch (info.dtype()) {
            case I64 -> data.asLongBuffer().get(out);
            case I32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = data.getInt(4 * i);
                }
            }
            default -> throw new CheckpointException(path + ": tensor '" + name + "' is " + info.dtype() + ", expected an integer dtype");
        }
        return out;
    }

    public byte[] uint8(String name) {
        TensorInfo info = info(name);
        if (info.dtype() != DType.U8) {
            throw new CheckpointException(path + ": tensor '" + name + "' is " + info.dtype() + ", expected U8");
        }
        byte[] out = new byte[Math.toIntExact(info.elementCount())];
        bytes(info).get(out);
        return out;
    }
}
