package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.DenseSimilarity;
import ai.fgclip2.server.clip.Heatmap;
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
import java.util.Locale;
import javax.imageio.ImageIO;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/dense/similarity}: cosine of every dense-map cell with box-walk text, as JSON maps or as a
 * heatmap PNG over the image at its original size, to see where a phrase is.
 */
@RestController
public class DenseController {
    /** The colour scale of a PNG (the similarities at blue and at red) and the map's own range, as response headers. */
    static final String SCALE_MIN = "Fgclip2-Scale-Min";
    static final String SCALE_MAX = "Fgclip2-Scale-Max";
    static final String SIMILARITY_MIN = "Fgclip2-Similarity-Min";
    static final String SIMILARITY_MAX = "Fgclip2-Similarity-Max";

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
        Heatmap.Range fixedScale = scale(request.range());
        DenseSimilarity.Command command = new DenseSimilarity.Command(ImageStrings.decode(request.image(), "/image"), request.texts(), request.maxNumPatches());
        // a heatmap keeps the original (and its decoding room) until it is drawn and encoded; the JSON maps do not need it
        try (DenseSimilarity.Maps result = format.equals("png") ? dense.withOriginal(command) : dense.similarity(command)) {
            if (format.equals("png")) {
                float[][] map = result.maps().get(0).similarity();
                Heatmap.Range own = Heatmap.Range.of(map);
                Heatmap.Range used = fixedScale == null ? own : fixedScale;
                return ResponseEntity.ok().contentType(MediaType.IMAGE_PNG)
                        .header(SCALE_MIN, number(used.min())).header(SCALE_MAX, number(used.max()))
                        .header(SIMILARITY_MIN, number(own.min())).header(SIMILARITY_MAX, number(own.max()))
                        .body(png(Heatmap.draw(result.original().image(), map, used)));
            }
            List<DenseMap> maps = new ArrayList<>(result.maps().size());
            for (int t = 0; t < result.maps().size(); t++) {
                maps.add(new DenseMap(t, result.maps().get(t).text(), result.maps().get(t).similarity()));
            }
            return ResponseEntity.ok(new DenseResponse(modelRef, EmbeddingController.grid(result.image().grid()), maps));
        }
    }

    private static Heatmap.Range scale(List<Double> range) {
        if (range == null) {
            return null;
        }
        if (range.size() != 2 || range.get(0) == null || range.get(1) == null || !Double.isFinite(range.get(0)) || !Double.isFinite(range.get(1))
                || range.get(0) >= range.get(1)) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'range' must be two finite numbers [min, max] with min < max, "
                    + "for example [-1, 1] for the full cosine scale; got " + range + ".", "/range");
        }
        return new Heatmap.Range(range.get(0), range.get(1));
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, "%.6f", value);
    }

    static byte[] png(RgbImage image) {
        BufferedImage out = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                out.setRGB(x, y, (image.sample(x, y, 0) << 16) | (image.sample(x, y, 1) << 8) | image.sample(x, y, 2));
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
