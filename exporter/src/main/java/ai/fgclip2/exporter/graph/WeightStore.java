package ai.fgclip2.exporter.graph;

import ai.fgclip2.exporter.checkpoint.TensorInfo;

/** Decides where the bytes of an initializer live, as ONNX external data relative to the weights folder. */
public interface WeightStore {

    record Location(String file, long offset) {
    }

    Location locate(TensorInfo tensor);
}
