package ai.fgclip2.exporter.graph;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;

/** ONNX element types used by the graphs. */
public enum ElementType {
    FLOAT(DataType.FLOAT), FLOAT16(DataType.FLOAT16), BFLOAT16(DataType.BFLOAT16), INT64(DataType.INT64), INT32(DataType.INT32), INT8(DataType.INT8);

    private final DataType onnx;

    ElementType(DataType onnx) {
        this.onnx = onnx;
    }

    public int code() {
        return onnx.getNumber();
    }

    public String manifestName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
