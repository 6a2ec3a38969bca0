package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.DType;
import ai.fgclip2.exporter.checkpoint.TensorInfo;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small typed builder for one ONNX graph. Values are referred to by name; every {@code op} call adds one
 * node and returns its (first) output name. Checkpoint weights become initializers whose data stays in the
 * safetensors file (external data), cast once to the graph's compute type. Values computed by the exporter
 * (int8 weights, their scales, migrated LayerNorm gains) are held inside the graph itself.
 */
public final class GraphBuilder {
    public static final String MS_DOMAIN = "com.microsoft";
    static final int ONNX_OPSET = 20;
    static final int IR_VERSION = 10;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final ElementType computeType;
    private final WeightStore weightStore;
    private final LinearPrecision linears;
    private final Map<String, String> weights = new HashMap<>();
    private int counter;

    /**
     * @param computeType      FLOAT or FLOAT16: the type activations and weights are computed in
     * @param weightStore where initializer data lives (the checkpoint itself, or a data file beside the graph)
     */
    public GraphBuilder(String name, ElementType computeType, WeightStore weightStore) {
        this(name, computeType, weightStore, LinearPrecision.FLOAT);
    }

    /** @param linears whether the encoder blocks' Linear layers are int8 (compute type FLOAT then) */
    public GraphBuilder(String name, ElementType computeType, WeightStore weightStore, LinearPrecision linears) {
        if (linears.int8() && computeType != ElementType.FLOAT) {
            throw new IllegalArgumentException("int8 Linear layers need a float32 graph, not " + computeType);
        }
        this.computeType = computeType;
        this.weightStore = weightStore;
        this.linears = linears;
        graph.setName(name);
    }

    public ElementType computeType() {
        return computeType;
    }

    public LinearPrecision linears() {
        return linears;
    }

    /** A graph input; dims are Long (fixed) or String (symbolic). */
    public String input(String name, ElementType type, Object... dims) {
        graph.addInput(valueInfo(name, type, dims));
        return name;
    }

    /** Exposes {@code value} as graph output {@code name}. */
    public void output(String value, String name, ElementType type, Object... dims) {
        if (!value.equals(name)) {
            graph.addNode(NodeProto.newBuilder().setOpType("Identity").addInput(value).addOutput(name).setName(name + "_out"));
        }
        graph.addOutput(valueInfo(name, type, dims));
    }

    /** Exposes {@code value} as a float32 graph output, casting from the compute type when needed. */
    public void outputFloat32(String value, String name, Object... dims) {
        output(toFloat32(value), name, ElementType.FLOAT, dims);
    }

    public String toFloat32(String value) {
        return computeType == ElementType.FLOAT ? value : op("Cast", List.of(value), Attr.i("to", ElementType.FLOAT.code()));
    }

    /** A graph input in float32, cast to the compute type. */
    public String inputFloat32(String name, Object... dims) {
        input(name, ElementType.FLOAT, dims);
        return computeType == ElementType.FLOAT ? name : op("Cast", List.of(name), Attr.i("to", computeType.code()));
    }

    /** Rows [from, to) along axis 0. */
    public String sliceRows(String tensor, long from, long to) {
        return op("Slice", List.of(tensor, vector(from), vector(to), vector(0)));
    }

    /** A checkpoint tensor as an external initializer, cast to the compute type (folded by ONNX Runtime at load). */
    public String weight(TensorInfo info) {
        return weight(info, computeType);
    }

    /** A checkpoint tensor cast to {@code type}; each (tensor, type) pair is added once. */
    public String weight(TensorInfo info, ElementType type) {
        String stored = weights.computeIfAbsent(info.name(), name -> {
            WeightStore.Location location = weightStore.locate(info);
            TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(storedType(info.dtype()).code())
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL);
            for (long dim : info.shape()) {
                tensor.addDims(dim);
            }
            tensor.addExternalData(entry("location", location.file()));
            tensor.addExternalData(entry("offset", Long.toString(location.offset())));
            tensor.addExternalData(entry("length", Long.toString(info.byteLength())));
            graph.addInitializer(tensor);
            return name;
        });
        if (storedType(info.dtype()) == type) {
            return stored;
        }
        return weights.computeIfAbsent(info.name() + "#" + type, key -> op("Cast", List.of(stored), Attr.i("to", type.code())));
    }

    /** A float constant in the compute type. */
    public String constant(float[] values, long... shape) {
        String name = fresh("const");
        graph.addInitializer(floatTensor(name, computeType, values, shape));
        return name;
    }

    /** A float32 constant regardless of the compute type (for float32 islands such as RoIAlign). */
    public String constantFloat32(float[] values, long... shape) {
        String name = fresh("const");
        graph.addInitializer(floatTensor(name, ElementType.FLOAT, values, shape));
        return name;
    }

    /**
     * An int8 weight and its per-column scales as initializers held inside the graph itself (they are computed
     * here, not stored in the checkpoint). Returns the names of the [in, out] int8 matrix and the [out] scales.
     */
    public Int8Names int8Weight(String name, Int8Weight weight) {
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(ElementType.INT8.code())
                .addDims(weight.in()).addDims(weight.out()).setRawData(ByteString.copyFrom(weight.values()));
        graph.addInitializer(tensor);
        String scales = name + "_scale";
        graph.addInitializer(floatTensor(scales, ElementType.FLOAT, weight.scales(), weight.out()));
        return new Int8Names(name, scales);
    }

    public record Int8Names(String values, String scales) {
    }

    public String constantLongs(long[] values, long... shape) {
        String name = fresh("const");
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(ElementType.INT64.code());
        for (long dim : shape) {
            tensor.addDims(dim);
        }
        ByteBuffer data = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long value : values) {
            data.putLong(value);
        }
        graph.addInitializer(tensor.setRawData(ByteString.copyFrom(data.flip())));
        return name;
    }

    /** A 0-d int64 constant (Range bounds). */
    public String scalarLong(long value) {
        return constantLongs(new long[] {value});
    }

    /** A 1-d int64 constant (Slice bounds, axes, shapes). */
    public String vector(long... values) {
        return constantLongs(values, values.length);
    }

    public String op(String opType, List<String> inputs, Attr... attrs) {
        return ops(opType, "", inputs, 1, attrs)[0];
    }

    public String msOp(String opType, List<String> inputs, Attr... attrs) {
        return ops(opType, MS_DOMAIN, inputs, 1, attrs)[0];
    }

    /** A node with several outputs; an empty input name marks an omitted optional input. */
    public String[] ops(String opType, String domain, List<String> inputs, int outputCount, Attr... attrs) {
        String base = fresh(opType);
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(opType).setName(base).setDomain(domain).addAllInput(inputs);
        String[] outputs = new String[outputCount];
        for (int i = 0; i < outputCount; i++) {
            outputs[i] = base + "_" + i;
            node.addOutput(outputs[i]);
        }
        for (Attr attr : attrs) {
            node.addAttribute(attr.proto());
        }
        graph.addNode(node);
        return outputs;
    }

    public ModelProto build(String docString) {
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("fgclip2-server exporter")
                .setDocString(docString)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(ONNX_OPSET))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1))
                .setGraph(graph)
                .build();
    }

    private String fresh(String prefix) {
        return prefix + "_" + (counter++);
    }

    private static ElementType storedType(DType dtype) {
        return switch (dtype) {
            case F32 -> ElementType.FLOAT;
            case F16 -> ElementType.FLOAT16;
            case BF16 -> ElementType.BFLOAT16;
            case I64 -> ElementType.INT64;
            case I32 -> ElementType.INT32;
            case U8 -> throw new IllegalArgumentException("uint8 weights are not supported");
        };
    }

    private static TensorProto floatTensor(String name, ElementType type, float[] values, long... shape) {
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(type.code());
        for (long dim : shape) {
            tensor.addDims(dim);
        }
        boolean half = type == ElementType.FLOAT16;
        ByteBuffer data = ByteBuffer.allocate((half ? 2 : 4) * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            if (half) {
                data.putShort(ai.fgclip2.exporter.checkpoint.HalfFloats.floatToHalf(value));
            } else {
                data.putFloat(value);
            }
        }
        return tensor.setRawData(ByteString.copyFrom(data.flip())).build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    private static ValueInfoProto valueInfo(String name, ElementType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object dim : dims) {
            if (dim instanceof String symbol) {
                shape.addDimBuilder().setDimParam(symbol);
            } else {
                shape.addDimBuilder().setDimValue(((Number) dim).longValue());
            }
        }
        TypeProto typeProto = TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.code()).setShape(shape)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(typeProto).build();
    }
}
