package ai.fgclip2.server;

import java.nio.file.Path;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the HTTP tests: one server (the Spring context is shared by every subclass) serving the e2e fixture's
 * checkpoint, which the service exports itself on first start, as it does for users.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.batching.max-wait=20ms"})
public abstract class E2eServerTest {
    protected static final E2eFixture FIXTURE = E2eFixture.load();
    private static final Path CHECKPOINT = FIXTURE.checkpointCopy(ServerTestSupport.SHARED_CACHE.resolve("e2e-checkpoint"));

    @LocalServerPort
    protected int port;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.model.dir", CHECKPOINT::toString);
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("exports").toString());
    }

    protected ServerTestSupport.Response post(String path, Object body) {
        return ServerTestSupport.post(port, path, body);
    }

    protected ServerTestSupport.Response get(String path) {
        return ServerTestSupport.get(port, path);
    }
}
