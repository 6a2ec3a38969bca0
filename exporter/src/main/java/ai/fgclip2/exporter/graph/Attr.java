package ai.fgclip2.exporter.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;

/** One node attribute, typed. */
public record Attr(AttributeProto proto) {

    public static Attr i(String name, long value) {
        return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build());
    }

    public static Attr f(String name, float value) {
        return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(value).build());
    }

    public static Attr s(String name, String value) {
        return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(value)).build());
    }

    public static Attr tensor(String name, ai.onnx.proto.OnnxMl.TensorProto value) {
        return new Attr(AttributeProto.newBuilder().setName(name).setType(AttributeType.TENSOR).setT(value).build());
    }

    public static Attr ints(String name, long... values) {
        AttributeProto.Builder builder = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long value : values) {
            builder.addInts(value);
        }
        return new Attr(builder.build());
    }
}
