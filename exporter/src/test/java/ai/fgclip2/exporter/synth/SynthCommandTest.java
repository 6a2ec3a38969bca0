package ai.fgclip2.exporter.synth;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SynthCommandTest {
    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(new SynthCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exitCode = command.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    @Test
    void writesACheckpointThatOpens() {
        Path out = dir.resolve("model");
        Run run = run("--size", "tiny", "--seed", "7", "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("wrote tiny checkpoint (16.7 M parameters, seed 7) to " + out);
        Checkpoint checkpoint = Checkpoint.open(out);
        checkpoint.validate();
        assertThat(checkpoint.config()).isEqualTo(SynthSize.TINY.config());
    }

    @Test
    void rejectsAnUnknownSizeAndMissingOptions() {
        Run unknown = run("--size", "huge", "--out", dir.toString());
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown size 'huge' (expected tiny, base, large, so400m)");
        Run noOut = run("--size", "tiny");
        assertThat(noOut.exitCode()).isEqualTo(2);
        assertThat(noOut.err()).contains("Missing required option: '--out=<out>'");
        assertThat(dir.toFile().list()).isEmpty();
    }
}
