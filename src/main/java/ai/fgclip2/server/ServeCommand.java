package ai.fgclip2.server;

import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the HTTP service (the default). Spring options pass through, e.g. --server.port=8081 --fgclip2.model.dir=/models/base.")
public final class ServeCommand implements Callable<Integer> {
    @Unmatched
    String[] springArguments = new String[0];

    @Override
    public Integer call() {
        SpringApplication.run(ServerApplication.class, springArguments);
        return 0;
    }
}
