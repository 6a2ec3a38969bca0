package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.DenseSimilarity;
import ai.fgclip2.server.clip.Problem;
import ai.fgclip2.server.clip.ProblemException;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.image.RgbImage;
import ai.fgclip2.server.web.ApiModels.DenseMap;
import ai.fgclip2.server.web.ApiModels.DenseRequest;
import ai.fgclip2.server.web.ApiModels.DenseResponse;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
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
    private final DenseSimilarity dense;
    private final ApiModels.ModelRef modelRef;

    public DenseController(DenseSimilarity dense, InferenceEngine engine) {
        this.dense = dense;
        this.modelRef = ApiModels.ModelRef.of(engine.model());
    }

    @PostMapping(path = "/v1/dense/similarity", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<?> similarity(@RequestBody DenseRequest request) {
        String format = request.format() == null ? "json" : request.format();
        if (!format.equals("json") && !format.equals("png")) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'format' must be json or png; got '" + format + "'.", "/format");
        }
        if (format.equals("png") && request.texts() != null && request.texts().size() != 1) {
            throw new ProblemException(Problem.INVALID_REQUEST, "format=png draws one heatmap: send exactly one text.", "/texts");
        }
        DenseSimilarity.Maps result = dense.similarity(new DenseSimilarity.Command(ImageStrings.decode(request.image(), "/image"),
                request.texts(), request.maxNumPatches()));
        if (format.equals("png")) {
            return ResponseEntity.ok().contentType(MediaType.IMAGE_PNG).body(heatmap(result.image().resized(), result.maps().get(0).similarity()));
        }
        List<DenseMap> maps = new ArrayList<>(result.maps().size());
        for (int t = 0; t < result.maps().size(); t++) {
            maps.add(new DenseMap(t, result.maps().get(t).text(), result.maps().get(t).similarity()));
        }
        return ResponseEntity.ok(new DenseResponse(modelRef, EmbeddingController.grid(result.image().grid()), maps));
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
