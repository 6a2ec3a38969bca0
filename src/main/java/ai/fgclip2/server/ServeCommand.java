package ai.fgclip2.server;

import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;
import sun.misc.Signal;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the HTTP service (the default). Spring options pass through, e.g. --server.port=8081 --fgclip2.model.dir=/models/base.")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);
    @Unmatched
    String[] springArguments = new String[0];

    /**
     * A failed start ends with one line, {@code fgclip2-server failed to start: <cause>. <what to do>}, on standard
     * error, and exit code 1; the trace is logged at debug level only (Spring's own failure report is silenced in
     * application.yaml, so it is not printed twice).
     */
    @Override
    public Integer call() {
        SpringApplication application = new SpringApplication(ServerApplication.class);
        application.addListeners(new StartupChecks());
        ConfigurableApplicationContext context;
        try {
            context = application.run(springArguments);
        } catch (Throwable failure) {
            log.debug("Start-up failure", failure);
            System.err.println(StartupFailure.line(failure));
            return 1;
        }
        drainBeforeShutdownHooks(context);
        return 0;
    }

    /**
     * ONNX Runtime's Java binding releases its native environment in a JVM shutdown hook, which runs at SIGTERM
     * in parallel with Spring's graceful drain: an in-flight inference could then touch freed native memory and
     * crash the JVM. So SIGTERM/SIGINT first close the context (drain, then close the sessions), and only then
     * exit, which runs the remaining hooks.
     */
    private static void drainBeforeShutdownHooks(ConfigurableApplicationContext context) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> new Thread(() -> {
                context.close();
                System.exit(0);
            }, "fgclip2-shutdown").start());
        }
    }
}
