package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up failures as a user meets them: {@code Main} in its own JVM, as {@code java -jar} runs it. Each must
 * end with one line {@code fgclip2-server failed to start: <cause>. <what to do>}, print no stack trace, and exit
 * non-zero; the cheap checks (configuration, port) come before the model is looked at.
 */
class StartupFailureTest {
    private static final String PREFIX = "fgclip2-server failed to start: ";
    private static final String ANY_PORT = "--server.port=0";

    @TempDir
    Path temp;

    record Run(int exitCode, List<String> lines) {
        String lastLine() {
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        }
    }

    @Test
    void aMissingModelFolderSaysItDoesNotExist() throws Exception {
        Path missing = temp.resolve("no-such-model");
        Run run = serve(ANY_PORT, "--fgclip2.model.dir=" + missing);
        assertFailedWith(run, "fgclip2.model.dir=" + missing + ": the folder does not exist. Point fgclip2.model.dir");
    }

    @Test
    void anEmptyConfigJsonSaysItIsEmpty() throws Exception {
        Path checkpoint = Files.createDirectories(temp.resolve("checkpoint"));
        Files.writeString(checkpoint.resolve("config.json"), "");
        Run run = serve(ANY_PORT, "--fgclip2.model.dir=" + checkpoint);
        assertFailedWith(run, "config.json is empty: download the checkpoint again");
    }

    @Test
    void aBusyPortIsReportedBeforeTheModelIsLoaded() throws Exception {
        try (ServerSocket busy = new ServerSocket()) {
            busy.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            // the model folder does not exist either: the port must be the first thing that fails
            Run run = serve("--server.port=" + busy.getLocalPort(), "--fgclip2.model.dir=" + temp.resolve("absent"));
            assertFailedWith(run, "port " + busy.getLocalPort() + " is already in use. Stop the process");
        }
    }

    @Test
    void anInvalidSettingIsNamedBeforeTheModelIsLoaded() throws Exception {
        Run run = serve(ANY_PORT, "--fgclip2.engine.provider=gpu", "--fgclip2.model.dir=" + temp.resolve("absent"));
        assertFailedWith(run, "fgclip2.engine.provider='gpu' is not valid (");
        assertThat(run.lastLine()).contains("README's Configuration table");
    }

    @Test
    void structuredLogsAreOneJsonObjectPerLineUpToTheFailureLine() throws Exception {
        Run run = serve(ANY_PORT, "--logging.structured.format.console=ecs", "--spring.main.banner-mode=off",
                "--fgclip2.model.dir=" + temp.resolve("absent"));
        assertFailedWith(run, "the folder does not exist");
        List<String> logLines = run.lines().subList(0, run.lines().size() - 1).stream().filter(l -> !l.startsWith("WARNING: ")).toList();
        assertThat(logLines).isNotEmpty().allSatisfy(line -> assertThat(ServerTestSupport.JSON.readTree(line).isObject()).as(line).isTrue());
    }

    private static void assertFailedWith(Run run, String expected) {
        assertThat(run.exitCode()).as("exit code; output:%n%s", String.join("\n", run.lines())).isNotZero();
        assertThat(run.lastLine()).as("last line of:%n%s", String.join("\n", run.lines())).startsWith(PREFIX).contains(expected);
        assertThat(run.lines()).as("no stack trace at the default log level").noneMatch(line -> line.startsWith("\tat ") || line.contains("Exception:"));
        assertThat(run.lines().stream().filter(line -> line.startsWith(PREFIX))).as("the failure is reported once").hasSize(1);
    }

    /** {@code java ai.fgclip2.Main serve ARGS} on this test's classpath, on loopback, output merged. */
    private Run serve(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "ai.fgclip2.Main", "serve", "--server.address=127.0.0.1",
                "--fgclip2.cache.dir=" + temp.resolve("cache")));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().put("OPT_OUT_TRACKING", "true");
        builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
        Process process = builder.start();
        List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the server exits after a failed start").isTrue();
        return new Run(process.exitValue(), lines);
    }
}
