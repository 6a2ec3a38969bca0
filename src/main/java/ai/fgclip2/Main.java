package ai.fgclip2;

import ai.fgclip2.bench.BenchCommand;
import ai.fgclip2.bench.LoadCommand;
import ai.fgclip2.bench.IndexBenchCommand;
import ai.fgclip2.exporter.cli.ExportCommand;
import ai.fgclip2.exporter.synth.SynthCommand;
import ai.fgclip2.offline.RescoreCommand;
import ai.fgclip2.offline.VocabularyCommand;
import ai.fgclip2.server.ServeCommand;
import ai.fgclip2.server.bulk.BulkIndexCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * One artifact, several subcommands: {@code serve} (the default), {@code export}, {@code synth}, {@code bench}, {@code load},
 * {@code bench-index}, {@code index} (bulk gallery indexing), {@code rescore} and {@code vocabulary} (offline detector
 * rescoring and vocabulary builds).
 */
@Command(name = "fgclip2-server", mixinStandardHelpOptions = true, version = "fgclip2-server 0.1.0",
        description = "FG-CLIP 2 inference service and pure-Java ONNX exporter.",
        subcommands = {ServeCommand.class, ExportCommand.class, SynthCommand.class, BenchCommand.class, LoadCommand.class, IndexBenchCommand.class,
                BulkIndexCommand.class, RescoreCommand.class, VocabularyCommand.class})
public final class Main {

    public static void main(String[] args) {
        keepLibrariesOffline();
        boolean noSubcommand = args.length == 0 || args[0].startsWith("--") && !args[0].equals("--help") && !args[0].equals("--version");
        String[] effective = noSubcommand ? prepend("serve", args) : args;
        int exit = new CommandLine(new Main()).execute(effective);
        if (exit != 0 || !effective[0].equals("serve")) {
            System.exit(exit);
        }
    }

    /**
     * DJL reads DJL_OFFLINE / OPT_OUT_TRACKING from system properties too, so they are set here when the
     * environment lacks them. ONNX Runtime reads ORT_DISABLE_TELEMETRY only from the environment, before any
     * Java code can act: say so when it is missing (the image, CI, the tests and spring-boot:run set it).
     */
    private static void keepLibrariesOffline() {
        for (String flag : new String[] {"DJL_OFFLINE", "OPT_OUT_TRACKING"}) {
            if (System.getenv(flag) == null && System.getProperty(flag) == null) {
                System.setProperty(flag, "true");
            }
        }
        if (!"1".equals(System.getenv("ORT_DISABLE_TELEMETRY"))) {
            System.err.println("WARNING: ORT_DISABLE_TELEMETRY=1 is not set: ONNX Runtime's telemetry stays on "
                    + "(and ONNX Runtime 1.29 crashes at start when the JVM command line exceeds about 4 KB).");
        }
    }

    private static String[] prepend(String first, String[] rest) {
        String[] out = new String[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
