package ai.fgclip2.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import ai.fgclip2.server.ServerTestSupport;
import ai.fgclip2.server.pipeline.image.HostileImages;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 items 2 and 10 over HTTP: images whose header sizes disagree are refused, a request's images may not buy
 * more than the work budget (checked from the headers: the images here have no pixel data, so any decoding would
 * answer 422 for the first of them), and a tiny lossless WebP of many pixels is served at the cost of its pixels.
 */
class ImageWorkBudgetTest extends E2eServerTest {

    private static String b64(byte[] data) {
        return Base64.getEncoder().encodeToString(data);
    }

    /** Four images of 36 megapixels fit the default 160 million pixels per request; the fifth goes over. */
    @Test
    void requestPixelsAreBudgetedBeforeDecoding() {
        String image = b64(HostileImages.pngHeader(6000, 6000));
        ServerTestSupport.Response response = post("/v1/embeddings/image", Map.of("images", Collections.nCopies(5, image)));
        assertProblem(response, 413, "limit-exceeded", "/images/4");
        assertThat(response.json().path("detail").asString()).contains("180000000 pixels").contains("160000000");
    }

    /** 16 images at maxNumPatches 4096 fit the default 65536 patches per request; the seventeenth goes over. */
    @Test
    void requestPatchesAreBudgetedBeforeDecoding() {
        String image = b64(HostileImages.pngHeader(512, 512));
        ServerTestSupport.Response response = post("/v1/embeddings/image", Map.of("images", Collections.nCopies(17, image), "maxNumPatches", 4096));
        assertProblem(response, 413, "limit-exceeded", "/images/16");
        assertThat(response.json().path("detail").asString()).contains("69632 patches").contains("65536");
    }

    /** The budget covers rank candidates too, whatever comes between them. */
    @Test
    void rankCandidatesShareTheBudget() {
        String image = b64(HostileImages.pngHeader(6000, 6000));
        List<Map<String, String>> candidates = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            candidates.add(Map.of("text", "a cat"));
            candidates.add(Map.of("image", image));
        }
        ServerTestSupport.Response response = post("/v1/rank", Map.of("query", Map.of("text", "cat"), "candidates", candidates));
        assertProblem(response, 413, "limit-exceeded", "/candidates/9/image");
    }

    /** Issue 9 item 10: was decoded as 16383x16383 and served with 200. */
    @Test
    void webpCanvasWrappingALargerImageIsRefused() {
        byte[] webp = HostileImages.riff(HostileImages.vp8x(0, 1, 1), HostileImages.vp8lSolid(16383, 16383, 9, 9, 9));
        ServerTestSupport.Response response = post("/v1/embeddings/image", Map.of("images", List.of(b64(webp))));
        assertProblem(response, 422, "invalid-image", "/images/0");
        assertThat(response.json().path("detail").asString()).contains("1x1").contains("16383x16383");
    }

    @Test
    void progressiveJpegWithTooManyScansIsRefused() {
        ServerTestSupport.Response response = post("/v1/classify", Map.of("image", b64(HostileImages.jpegMarkers(64, 64, 1, 1000)), "labels", List.of("cat")));
        assertProblem(response, 422, "invalid-image", "/image");
        assertThat(response.json().path("detail").asString()).contains("1000 scans");
    }

    /** 34 bytes, 2000x2000 pixels: legal (libwebp decodes it), so served; it took 15 s before the fix, now 0.15 s. */
    @Test
    void zeroCostLosslessWebpIsServed() {
        byte[] webp = HostileImages.solidLosslessWebp(2000, 2000, 200, 100, 50);
        assertThat(webp).hasSizeLessThan(40);
        ServerTestSupport.Response response = post("/v1/embeddings/image", Map.of("images", List.of(b64(webp))));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
    }

    private static void assertProblem(ServerTestSupport.Response response, int status, String type, String pointer) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().path("type").asString()).isEqualTo("urn:fgclip2:problem:" + type);
        assertThat(response.json().path("pointer").asString()).isEqualTo(pointer);
    }
}
