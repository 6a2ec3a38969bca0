package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.Embeddings;
import ai.fgclip2.server.clip.Embeddings.ImageVector;
import ai.fgclip2.server.clip.Embeddings.RegionVectors;
import ai.fgclip2.server.clip.Embeddings.TextVector;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.InputChecks;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.pipeline.image.GridSize;
import ai.fgclip2.server.web.ApiModels.*;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/** Text, image and region embeddings, as JSON or multipart uploads. */
@RestController
public class EmbeddingController {
    private final Embeddings embeddings;
    private final InputChecks checks;
    private final ModelRef modelRef;
    private final int dimensions;

    public EmbeddingController(Embeddings embeddings, InputChecks checks, InferenceEngine engine) {
        this.embeddings = embeddings;
        this.checks = checks;
        this.modelRef = ModelRef.of(engine.model());
        this.dimensions = engine.hiddenSize();
    }

    @PostMapping(path = "/v1/embeddings/text", consumes = MediaType.APPLICATION_JSON_VALUE)
    public TextEmbeddingResponse textEmbeddings(@RequestBody TextEmbeddingRequest request) {
        List<TextVector> vectors = embeddings.texts("texts", request.texts(), checks.walk(request.walk()), normalize(request.normalize()));
        List<TextEmbedding> data = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            TextVector v = vectors.get(i);
            data.add(new TextEmbedding(i, v.embedding(), v.walk().name().toLowerCase(Locale.ROOT), v.tokens(), v.truncated()));
        }
        return new TextEmbeddingResponse(modelRef, dimensions, data);
    }

    @PostMapping(path = "/v1/embeddings/image", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ImageEmbeddingResponse imageEmbeddings(@RequestBody ImageEmbeddingRequest request) {
        List<String> images = checks.items(request.images(), "images", checks.limits().maxItems());
        List<ImageInput> inputs = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            inputs.add(ImageStrings.decode(images.get(i), "/images/" + i));
        }
        return imageEmbeddings(inputs, request.maxNumPatches(), request.normalize());
    }

    @PostMapping(path = "/v1/embeddings/image", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    public ImageEmbeddingResponse imageEmbeddingsUpload(@RequestPart("images") List<MultipartFile> files,
                                                        @RequestParam(name = "maxNumPatches", required = false) String maxNumPatches,
                                                        @RequestParam(name = "normalize", required = false) String normalize) {
        checks.items(files, "images", checks.limits().maxItems());
        List<ImageInput> inputs = new ArrayList<>(files.size());
        for (int i = 0; i < files.size(); i++) {
            inputs.add(FormFields.image(files.get(i), "/images/" + i));
        }
        return imageEmbeddings(inputs, FormFields.integer(maxNumPatches, "maxNumPatches"), FormFields.bool(normalize, "normalize"));
    }

    private ImageEmbeddingResponse imageEmbeddings(List<ImageInput> images, Integer maxNumPatches, Boolean normalize) {
        List<ImageVector> vectors = embeddings.images("images", images, maxNumPatches, normalize(normalize));
        List<ImageEmbedding> data = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            ImageVector v = vectors.get(i);
            data.add(new ImageEmbedding(i, v.embedding(), grid(v.grid()), v.maxNumPatches()));
        }
        return new ImageEmbeddingResponse(modelRef, dimensions, data);
    }

    @PostMapping(path = "/v1/embeddings/regions", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RegionEmbeddingResponse regionEmbeddings(@RequestBody RegionEmbeddingRequest request) {
        return regionEmbeddings(ImageStrings.decode(request.image(), "/image"), request.boxes(), request.maxNumPatches(), request.normalize());
    }

    @PostMapping(path = "/v1/embeddings/regions", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    public RegionEmbeddingResponse regionEmbeddingsUpload(@RequestPart("image") MultipartFile file, @RequestParam("boxes") String boxesJson,
                                                          @RequestParam(name = "maxNumPatches", required = false) String maxNumPatches,
                                                          @RequestParam(name = "normalize", required = false) String normalize) {
        return regionEmbeddings(FormFields.image(file, "/image"), FormFields.parseBoxes(boxesJson), FormFields.integer(maxNumPatches, "maxNumPatches"),
                FormFields.bool(normalize, "normalize"));
    }

    private RegionEmbeddingResponse regionEmbeddings(ImageInput image, List<List<Double>> boxes, Integer maxNumPatches, Boolean normalize) {
        RegionVectors vectors = embeddings.regions(image, boxes, maxNumPatches, normalize(normalize));
        List<RegionEmbedding> data = new ArrayList<>(vectors.regions().size());
        for (int i = 0; i < vectors.regions().size(); i++) {
            data.add(new RegionEmbedding(i, vectors.regions().get(i).box(), vectors.regions().get(i).embedding()));
        }
        return new RegionEmbeddingResponse(modelRef, dimensions, grid(vectors.grid()), data);
    }

    private static boolean normalize(Boolean normalize) {
        return normalize == null || normalize;
    }

    static int[] grid(GridSize grid) {
        return new int[] {grid.rows(), grid.cols()};
    }
}
