package ai.fgclip2.server;

import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;
import sun.misc.Signal;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the HTTP service (the default). Spring options pass through, e.g. --server.port=8081 --fgclip2.model.dir=/models/base.")
public final class ServeCommand implements Callable<Integer> {
    @Unmatched
    String[] springArguments = new String[0];

    @Override
    public Integer call() {
        ConfigurableApplicationContext context = SpringApplication.run(ServerApplication.class, springArguments);
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
