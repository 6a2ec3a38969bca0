package ai.fgclip2.server.engine.onnx;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import sun.misc.Unsafe;

/**
 * The direct input buffers of one graph run (ONNX Runtime reads direct buffers without a copy), freed when the
 * run ends. Left to the garbage collector, one buffer per batch grew resident memory by gigabytes between full
 * collections, while the heap stayed small. Close it after the tensors that wrap its buffers.
 */
final class RunBuffers implements AutoCloseable {
    private static final Unsafe UNSAFE = unsafe();
    private final List<ByteBuffer> buffers = new ArrayList<>();

    FloatBuffer floats(long count) {
        return allocate(4 * count).asFloatBuffer();
    }

    LongBuffer longs(long count) {
        return allocate(8 * count).asLongBuffer();
    }

    IntBuffer ints(long count) {
        return allocate(4 * count).asIntBuffer();
    }

    private ByteBuffer allocate(long bytes) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
        buffers.add(buffer);
        return buffer;
    }

    @Override
    public void close() {
        if (UNSAFE != null) {
            buffers.forEach(UNSAFE::invokeCleaner);
        }
        buffers.clear();
    }

    /** The JDK's supported way (jdk.unsupported) to free a direct buffer now; null leaves it to the collector. */
    private static Unsafe unsafe() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
