package ai.fgclip2.bench;

import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.GraphSessions;
import ai.fgclip2.server.engine.ModelFiles;
import ai.fgclip2.server.engine.EngineSettings;
import ai.fgclip2.server.engine.onnx.OnnxEngine;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Resident memory from {@code /proc/self/status}, and what loading the text graph alone costs. */
final class MemoryProbe {

    /** VmRSS, VmHWM (peak RSS), RssAnon and RssFile, in bytes. */
    record ProcessMemory(long rss, long peakRss, long rssAnon, long rssFile) {
    }

    /**
     * @param textInitializerBytes every initializer of text.onnx (the token table included)
     * @param tokenTableBytes      vocab x D float32: held once, RSS grows by about textInitializerBytes, not more
     */
    record TextGraphMemory(long textInitializerBytes, long tokenTableBytes, long rssDelta, long rssAnonDelta, long rssFileDelta) {
    }

    private MemoryProbe() {
    }

    static ProcessMemory read() {
        return read("self");
    }

    /** The memory of another process, such as a server under load. */
    static ProcessMemory read(long pid) {
        return read(Long.toString(pid));
    }

    private static ProcessMemory read(String process) {
        try {
            Map<String, Long> kib = new HashMap<>();
            for (String line : Files.readAllLines(Path.of("/proc", process, "status"))) {
                String[] parts = line.split("\\s+");
                if (parts.length == 3 && parts[2].equals("kB")) {
                    kib.put(parts[0].substring(0, parts[0].length() - 1), Long.parseLong(parts[1]));
                }
            }
            return new ProcessMemory(1024 * kib.get("VmRSS"), 1024 * kib.get("VmHWM"), 1024 * kib.get("RssAnon"), 1024 * kib.get("RssFile"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/" + process + "/status", e);
        }
    }

    /**
     * Resets the peak (VmHWM) to the current RSS, so a later peak covers only what follows (Linux 4.0+).
     * Returns false when the kernel refuses.
     */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens only the text graph (before anything else is loaded) and reports how much the process grew. */
    static TextGraphMemory textGraph(ModelFiles model, EngineSettings settings) throws Exception {
        Path graph = model.directory().resolve(model.manifest().graphs().get(Exporter.TEXT).file());
        long initializerBytes = 0;
        for (OnnxMl.TensorProto tensor : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(graph)).getGraph().getInitializerList()) {
            initializerBytes += tensor.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL
                    ? tensor.getExternalDataList().stream().filter(e -> e.getKey().equals("length")).mapToLong(e -> Long.parseLong(e.getValue())).sum()
                    : tensor.getRawData().size();
        }
        var dims = model.manifest().dimensions();
        long tokenTable = 4L * dims.vocabSize() * dims.hiddenSize();
        ProcessMemory before = read();
        try (OrtSession.SessionOptions options = OnnxEngine.cpuSessionOptions(settings);
             OrtSession ignored = GraphSessions.open(OrtEnvironment.getEnvironment(), model.directory(), model.manifest(), Exporter.TEXT, options)) {
            ProcessMemory after = read();
            return new TextGraphMemory(initializerBytes, tokenTable, after.rss() - before.rss(), after.rssAnon() - before.rssAnon(),
                    after.rssFile() - before.rssFile());
        }
    }
}
