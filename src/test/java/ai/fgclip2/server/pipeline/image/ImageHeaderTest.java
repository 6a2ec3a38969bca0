package ai.fgclip2.server.pipeline.image;

import static ai.fgclip2.server.pipeline.image.HostileImages.anmf;
import static ai.fgclip2.server.pipeline.image.HostileImages.chunk;
import static ai.fgclip2.server.pipeline.image.HostileImages.riff;
import static ai.fgclip2.server.pipeline.image.HostileImages.vp8lHeader;
import static ai.fgclip2.server.pipeline.image.HostileImages.vp8x;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fgclip2.server.pipeline.image.ImageDecodeException.Reason;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The declared sizes of each format, read before any decoder runs, and the disagreements that are refused. */
class ImageHeaderTest {

    /** Against the sizes ImageIO's readers report for the reference files. */
    @ParameterizedTest
    @ValueSource(strings = {"source.png", "progressive.jpg", "cmyk.jpg", "ycck.jpg", "grey.jpg", "lossless.webp", "lossy.webp", "lossless_alpha.webp"})
    void referenceFilesDeclareTheirDecodedSize(String file) {
        byte[] data = Fixtures.bytes(Fixtures.images().resolve(file));
        RgbImage decoded = new ImageDecoder(1_000_000).decode(data);
        ImageHeader header = ImageHeader.read(data);
        assertThat(header.width()).isEqualTo(decoded.width());
        assertThat(header.height()).isEqualTo(decoded.height());
    }

    @Test
    void png() {
        assertThat(ImageHeader.read(HostileImages.pngHeader(6000, 5000))).isEqualTo(new ImageHeader(ImageFormat.PNG, 6000, 5000));
        byte[] notIhdrFirst = HostileImages.pngHeader(10, 10);
        notIhdrFirst[12] = 'X';
        assertCorrupt(() -> ImageHeader.read(notIhdrFirst), "IHDR");
        // an unsigned size beyond what any decoder accepts
        assertThatThrownBy(() -> ImageHeader.read(HostileImages.pngHeader(-1, 10))).isInstanceOfSatisfying(ImageDecodeException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE));
    }

    @Test
    void jpegFrameSizeAndScans() {
        assertThat(ImageHeader.read(HostileImages.jpegMarkers(640, 480, 1, ImageHeader.MAX_JPEG_SCANS)))
                .isEqualTo(new ImageHeader(ImageFormat.JPEG, 640, 480));
        assertCorrupt(() -> ImageHeader.read(HostileImages.jpegMarkers(640, 480, 1, ImageHeader.MAX_JPEG_SCANS + 1)), "scans");
        assertCorrupt(() -> ImageHeader.read(HostileImages.jpegMarkers(640, 480, 2, 1)), "second frame header");
        assertCorrupt(() -> ImageHeader.read(HostileImages.jpegMarkers(640, 0, 1, 1)), "empty image");
    }

    @Test
    void gifCanvasIsTheScreenGrownToHoldTheFirstFrame() {
        assertThat(ImageHeader.read(HostileImages.gifHeader(100, 50, 0, 0, 100, 50))).isEqualTo(new ImageHeader(ImageFormat.GIF, 100, 50));
        assertThat(ImageHeader.read(HostileImages.gifHeader(100, 50, 90, 40, 30, 20))).isEqualTo(new ImageHeader(ImageFormat.GIF, 120, 60));
        assertCorrupt(() -> ImageHeader.read(HostileImages.gifHeader(100, 50, 0, 0, 0, 50)), "empty");
    }

    @Test
    void bmpTopDownAndBottomUp() {
        assertThat(ImageHeader.read(HostileImages.bmpHeader(30, 20))).isEqualTo(new ImageHeader(ImageFormat.BMP, 30, 20));
        assertThat(ImageHeader.read(HostileImages.bmpHeader(30, -20))).isEqualTo(new ImageHeader(ImageFormat.BMP, 30, 20));
        assertCorrupt(() -> ImageHeader.read(HostileImages.bmpHeader(-30, 20)), "empty image");
        assertCorrupt(() -> ImageHeader.read(HostileImages.bmpHeader(30, Integer.MIN_VALUE)), "empty image");
    }

    @Test
    void webpSimpleFormats() {
        assertThat(ImageHeader.read(riff(vp8lHeader(16383, 2)))).isEqualTo(new ImageHeader(ImageFormat.WEBP, 16383, 2));
        byte[] lossy = Fixtures.bytes(Fixtures.images().resolve("lossy.webp"));
        assertThat(ImageHeader.read(lossy)).isEqualTo(new ImageHeader(ImageFormat.WEBP, 48, 32));
    }

    /** Issue 9 item 10: a 1x1 canvas wrapping a 16383x16383 bitstream was decoded (268 million pixels) and served. */
    @Test
    void webpCanvasMustMatchItsStillImage() {
        assertCorrupt(() -> ImageHeader.read(riff(vp8x(0, 1, 1), vp8lHeader(16383, 16383))), "the canvas is 1x1 but its image is 16383x16383");
        assertThat(ImageHeader.read(riff(vp8x(0, 300, 200), chunk("ICCP", new byte[3]), vp8lHeader(300, 200))))
                .isEqualTo(new ImageHeader(ImageFormat.WEBP, 300, 200));
        assertCorrupt(() -> ImageHeader.read(riff(vp8x(0, 300, 200))), "no image data");
    }

    @Test
    void webpAnimationFramesMustFitTheCanvasAndMatchTheirBitstreams() {
        byte[] fine = riff(vp8x(0x02, 300, 200), chunk("ANIM", new byte[6]), anmf(0, 0, 300, 200, vp8lHeader(300, 200)),
                anmf(100, 50, 200, 150, vp8lHeader(200, 150)));
        assertThat(ImageHeader.read(fine)).isEqualTo(new ImageHeader(ImageFormat.WEBP, 300, 200));
        assertCorrupt(() -> ImageHeader.read(riff(vp8x(0x02, 300, 200), anmf(0, 0, 300, 200, vp8lHeader(300, 200)),
                anmf(0, 0, 16383, 16383, vp8lHeader(16383, 16383)))), "animation frame 1 (16383x16383 at 0,0) does not fit the 300x200 canvas");
        assertCorrupt(() -> ImageHeader.read(riff(vp8x(0x02, 300, 200), anmf(0, 0, 30, 20, vp8lHeader(16383, 16383)))),
                "animation frame 0 (30x20 at 0,0) holds an image of 16383x16383");
    }

    @Test
    void webpChunksMustStayInsideTheFile() {
        byte[] data = riff(vp8lHeader(10, 10));
        data[16] = 100; // the VP8L chunk claims 100 bytes
        assertCorrupt(() -> ImageHeader.read(data), "overruns");
    }

    @Test
    void decoderRefusesBeforeCreatingAReader() {
        // header-only files: a decoder would fail as CORRUPT; the size check answers first
        ImageDecoder decoder = new ImageDecoder(40_000_000);
        for (byte[] data : new byte[][] {riff(vp8x(0, 16383, 16383), vp8lHeader(16383, 16383)), HostileImages.bmpHeader(7000, 7000),
                HostileImages.jpegMarkers(7000, 7000, 1, 1), HostileImages.gifHeader(7000, 7000, 0, 0, 1, 1)}) {
            assertThatThrownBy(() -> decoder.decode(data)).isInstanceOfSatisfying(ImageDecodeException.class,
                    e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(Reason.TOO_LARGE));
        }
    }

    private static void assertCorrupt(ThrowingCallable call, String detail) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ImageDecodeException.class, e -> {
            assertThat(e.reason()).as(e.getMessage()).isEqualTo(Reason.CORRUPT);
            assertThat(e.getMessage()).contains(detail);
        });
    }
}
