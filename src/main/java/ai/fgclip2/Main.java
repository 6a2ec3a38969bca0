package ai.fgclip2;

import ai.fgclip2.bench.BenchCommand;
import ai.fgclip2.exporter.cli.ExportCommand;
import ai.fgclip2.exporter.synth.SynthCommand;
import ai.fgclip2.server.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** One artifact, several subcommands: {@code serve} (the default), {@code export}, {@code synth}, {@code bench}. */
@Command(name = "fgclip2-server", mixinStandardHelpOptions = true, version = "fgclip2-server 0.1.0",
        description = "FG-CLIP 2 inference service and pure-Java ONNX exporter.",
        subcommands = {ServeCommand.class, ExportCommand.class, SynthCommand.class, BenchCommand.class})
public final class Main {

    public static void main(String[] args) {
        boolean noSubcommand = args.length == 0 || args[0].startsWith("--") && !args[0].equals("--help") && !args[0].equals("--version");
        String[] effective = noSubcommand ? prepend("serve", args) : args;
        int exit = new CommandLine(new Main()).execute(effective);
        if (exit != 0 || !effective[0].equals("serve")) {
            System.exit(exit);
        }
    }

    private static String[] prepend(String first, String[] rest) {
        String[] out = new String[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
