package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A registered vocabulary survives a restart: the second server serves it and rescoring with it without running
 * the text graph once ({@code fgclip2.inference{graph=text}} stays at zero).
 */
class VocabularyRestartTest {
    private static final E2eFixture FIXTURE = E2eFixture.load();

    @Test
    void aRestartReusesThePersistedVocabularyWithoutTextInference() throws Exception {
        Path checkpoint = FIXTURE.checkpointCopy(ServerTestSupport.SHARED_CACHE.resolve("e2e-checkpoint-restart"));
        Path vocabularies = Files.createTempDirectory("fgclip2-vocabularies");
        String[] args = {"--server.address=127.0.0.1", "--server.port=0", "--fgclip2.model.dir=" + checkpoint,
                "--fgclip2.cache.dir=" + ServerTestSupport.SHARED_CACHE.resolve("exports"), "--fgclip2.cache.vocabularies=" + vocabularies,
                "--fgclip2.engine.warmup=false"};
        JsonNode rescore = FIXTURE.cases().path("rescore").get(0);
        List<String> labels = new java.util.ArrayList<>();
        rescore.path("vocabulary").forEach(l -> labels.add(l.asString()));
        String image = null;
        for (JsonNode i : FIXTURE.cases().path("images")) {
            if (i.path("name").asString().equals(rescore.path("image").asString())) {
                image = FIXTURE.imageBase64(i.path("file").asString());
            }
        }
        Map<String, Object> request = Map.of("image", image, "detections", rescore.path("detections"), "vocabulary", "kitchen");

        JsonNode firstAnswer;
        try (ConfigurableApplicationContext first = new SpringApplicationBuilder(ServerApplication.class).run(args)) {
            int port = port(first);
            var created = ServerTestSupport.send(port, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/vocabularies/kitchen"))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(ServerTestSupport.JSON.writeValueAsString(Map.of("labels", labels)))).build());
            assertThat(created.status()).as(created.body()).isEqualTo(202);
            awaitReady(port, "kitchen");
            assertThat(textRuns(first)).as("building ran the text graph").isPositive();
            firstAnswer = ServerTestSupport.post(port, "/v1/detections/rescore", request).json();
        }
        try (ConfigurableApplicationContext second = new SpringApplicationBuilder(ServerApplication.class).run(args)) {
            int port = port(second);
            assertThat(ServerTestSupport.get(port, "/v1/vocabularies/kitchen").json().path("state").asString()).isEqualTo("ready");
            var answer = ServerTestSupport.post(port, "/v1/detections/rescore", request);
            assertThat(answer.status()).as(answer.body()).isEqualTo(200);
            JsonNode rows = answer.json().path("detections");
            for (int d = 0; d < rows.size(); d++) {
                assertThat(rows.get(d).path("alignProbability").asDouble()).isEqualTo(firstAnswer.path("detections").get(d).path("alignProbability").asDouble());
            }
            assertThat(textRuns(second)).as("no text inference after the restart").isZero();
        }
    }

    private static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    private static long textRuns(ConfigurableApplicationContext context) {
        Timer timer = context.getBean(MeterRegistry.class).find("fgclip2.inference").tag("graph", "text").timer();
        return timer == null ? 0 : timer.count();
    }

    private static void awaitReady(int port, String name) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            if (ServerTestSupport.get(port, "/v1/vocabularies/" + name).json().path("state").asString().equals("ready")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + " not ready");
    }
}
