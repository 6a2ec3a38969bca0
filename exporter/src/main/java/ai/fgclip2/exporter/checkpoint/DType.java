package ai.fgclip2.exporter.checkpoint;

/** Safetensors element types the project reads or writes. */
public enum DType {
    F32(4), F16(2), BF16(2), I64(8), I32(4), U8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16;
    }

    static DType parse(String name, String where) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": unsupported dtype '" + name + "' (expected F32, F16, BF16, I64, I32 or U8)");
        }
    }
}
