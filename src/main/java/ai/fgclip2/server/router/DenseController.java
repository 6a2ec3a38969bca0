package ai.fgclip2.server.router;

import ai.fgclip2.server.backends.OnnxEngine;
import ai.fgclip2.server.core.ImageEncoder;
import ai.fgclip2.server.core.ImageEncoder.EncodedImage;
import ai.fgclip2.server.core.TextEncoder;
import ai.fgclip2.server.core.TextEncoder.EncodedText;
import ai.fgclip2.server.core.image.PreprocessedImage;
import ai.fgclip2.server.core.image.RgbImage;
import ai.fgclip2.server.core.text.TextWalk;
import ai.fgclip2.server.router.ApiModels.DenseMap;
import ai.fgclip2.server.router.ApiModels.DenseRequest;
import ai.fgclip2.server.router.ApiModels.DenseResponse;
import ai.fgclip2.server.scoring.Scoring;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/dense/similarity}: cosine of every dense-map cell with box-walk text, as JSON maps or as a
 * heatmap PNG over the (resized) image, to see where a phrase is.
 */
@RestController
public class DenseController {
    private final TextEncoder textEncoder;
    private final ImageEncoder imageEncoder;
    private final OnnxEngine engine;
    private final RequestChecks checks;
    private final ApiModels.ModelRef modelRef;

    public DenseController(TextEncoder textEncoder, ImageEncoder imageEncoder, OnnxEngine engine, RequestChecks checks) {
        this.textEncoder = textEncoder;
        this.imageEncoder = imageEncoder;
        this.engine = engine;
        this.checks = checks;
        this.modelRef = ApiModels.ModelRef.of(engine.model());
    }

    @PostMapping(path = "/v1/dense/similarity", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<?> similarity(@RequestBody DenseRequest request) {
        String format = request.format() == null ? "json" : request.format();
        if (!format.equals("json") && !format.equals("png")) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'format' must be json or png; got '" + format + "'.", "/format");
        }
        byte[] image = checks.imageBytes(request.image(), "/image");
        List<String> texts = checks.texts(request.texts(), "texts", checks.limits().maxDenseTexts());
        if (format.equals("png") && texts.size() != 1) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "format=png draws one heatmap: send exactly one text.", "/texts");
        }
        Integer budget = checks.maxNumPatches(request.maxNumPatches());
        CompletableFuture<List<EncodedText>> textFuture = textEncoder.encode(texts, TextWalk.BOX);
        PreprocessedImage prepared = ItemPointer.at("/image", () -> imageEncoder.preprocess(image, budget));
        EncodedImage encoded = Futures.await(imageEncoder.encode(prepared, true));
        int rows = prepared.grid().rows();
        int cols = prepared.grid().cols();
        float[] fullImageBox = {0, 0, prepared.originalWidth(), prepared.originalHeight()};
        float[] dense = Futures.call(() -> engine.regions(encoded.hiddenState(), rows, cols, prepared.originalHeight(), prepared.originalWidth(),
                new float[][] {fullImageBox})).dense();
        int hidden = engine.hiddenSize();
        List<DenseMap> maps = new ArrayList<>();
        List<EncodedText> encodedTexts = Futures.await(textFuture);
        for (int t = 0; t < texts.size(); t++) {
            float[] textUnit = Scoring.normalize(encodedTexts.get(t).embedding());
            float[][] map = new float[rows][cols];
            float[] cell = new float[hidden];
            for (int p = 0; p < rows * cols; p++) {
                System.arraycopy(dense, p * hidden, cell, 0, hidden);
                map[p / cols][p % cols] = (float) Scoring.cosine(cell, textUnit);
            }
            maps.add(new DenseMap(t, texts.get(t), map));
        }
        if (format.equals("png")) {
            return ResponseEntity.ok().contentType(MediaType.IMAGE_PNG).body(heatmap(prepared.resized(), maps.get(0).similarity()));
        }
        return ResponseEntity.ok(new DenseResponse(modelRef, new int[] {rows, cols}, maps));
    }

    /** The resized image, half-blended with a blue-to-red ramp of the min-max scaled map (one patch per cell). */
    static byte[] heatmap(RgbImage background, float[][] map) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float[] row : map) {
            for (float v : row) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        float range = max > min ? max - min : 1;
        int width = background.width();
        int height = background.height();
        int cellHeight = height / map.length;
        int cellWidth = width / map[0].length;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        byte[] pixels = background.pixels();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float heat = (map[Math.min(y / cellHeight, map.length - 1)][Math.min(x / cellWidth, map[0].length - 1)] - min) / range;
                int i = 3 * (y * width + x);
                int r = ((pixels[i] & 0xff) + Math.round(255 * heat)) / 2;
                int g = ((pixels[i + 1] & 0xff) + Math.round(255 * (1 - Math.abs(2 * heat - 1)))) / 2;
                int b = ((pixels[i + 2] & 0xff) + Math.round(255 * (1 - heat))) / 2;
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        try (ByteArrayOutputStream png = new ByteArrayOutputStream()) {
            ImageIO.write(out, "png", png);
            return png.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
