package ai.fgclip2.server;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.assembly.ClipServices;
import ai.fgclip2.server.pipeline.DecodeBudget;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Images being decoded share one room of declared pixels (here exactly one 2 MP image): a request whose image
 * finds no room before the deadline gets 429 {@code overloaded} with Retry-After, requests that find room in time
 * wait for it and succeed, and the room is empty again afterwards (gauge {@code fgclip2.decode.pixels}).
 */
@DirtiesContext
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, classes = ServerApplication.class,
        properties = {"server.address=127.0.0.1", "fgclip2.engine.warmup=false", "fgclip2.limits.max-image-pixels=2000000",
                "fgclip2.limits.max-decoding-pixels=1", "fgclip2.limits.inference-deadline=8s"})
class DecodeRoomTest {
    @LocalServerPort
    int port;

    @Autowired
    ClipServices services;

    @DynamicPropertySource
    static void cache(DynamicPropertyRegistry registry) {
        registry.add("fgclip2.cache.dir", () -> ServerTestSupport.SHARED_CACHE.resolve("demo").toString());
    }

    @Test
    void anImageWithoutRoomIsRefusedAsOverloadedAndTheRoomComesBack() throws Exception {
        String image = png(1600, 1250, 1);
        try (DecodeBudget.Lease held = services.decodeBudget().acquire(1, services.decodeBudget().deadlineFromNow())) {
            // the room is max-image-pixels (max-decoding-pixels=1 is raised to it): one more pixel is too many
            assertThat(decodingPixels()).isEqualTo(1);
            ServerTestSupport.Response refused = ServerTestSupport.post(port, "/v1/embeddings/image", Map.of("images", List.of(image)));
            assertThat(refused.status()).as(refused.body()).isEqualTo(429);
            assertThat(refused.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:overloaded");
            assertThat(refused.json().path("detail").asString()).contains("max-decoding-pixels");
            assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();
        }
        assertThat(decodingPixels()).isZero();
        ServerTestSupport.Response served = ServerTestSupport.post(port, "/v1/embeddings/image", Map.of("images", List.of(image)));
        assertThat(served.status()).as(served.body()).isEqualTo(200);
    }

    @Test
    void imagesThatFindRoomInTimeWaitTheirTurn() throws Exception {
        List<CompletableFuture<ServerTestSupport.Response>> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String image = png(1600, 1250, i);
            requests.add(CompletableFuture.supplyAsync(() -> ServerTestSupport.post(port, "/v1/embeddings/image", Map.of("images", List.of(image)))));
        }
        for (CompletableFuture<ServerTestSupport.Response> request : requests) {
            ServerTestSupport.Response response = request.get();
            assertThat(response.status()).as(response.body()).isEqualTo(200);
        }
        assertThat(decodingPixels()).isZero();
    }

    @Test
    void aHeatmapGivesItsRoomBackOnceDrawn() throws Exception {
        String image = png(1600, 1250, 9);
        ServerTestSupport.Response heatmap = ServerTestSupport.post(port, "/v1/dense/similarity",
                Map.of("image", image, "texts", List.of("a red kettle"), "format", "png"));
        assertThat(heatmap.status()).as(heatmap.body()).isEqualTo(200);
        ServerTestSupport.Response maps = ServerTestSupport.post(port, "/v1/dense/similarity", Map.of("image", image, "texts", List.of("a red kettle")));
        assertThat(maps.status()).as(maps.body()).isEqualTo(200);
        assertThat(decodingPixels()).isZero();
    }

    private long decodingPixels() {
        return (long) ServerTestSupport.gauge(port, "fgclip2_decode_pixels ", "");
    }

    private static String png(int width, int height, int seed) throws Exception {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (x * 7 + y * 13 + seed * 101) & 0xffffff);
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(image, "png", bytes);
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
}
