package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.DetectionRescorer;
import ai.fgclip2.server.clip.RegionClassifier;
import ai.fgclip2.server.clip.ZeroShotClassifier;
import ai.fgclip2.server.engine.ModelFiles;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Request and response bodies of the REST API (openapi.yaml is the contract). Results whose JSON shape is the use
 * case's own record are served as that record.
 */
public final class ApiModels {
    private ApiModels() {
    }

    /**
     * Names the model that produced a response: id, revision (checkpoint digest prefix), precision of the graphs
     * (fp32, fp16, int8: embeddings of different precisions are not interchangeable), demo flag.
     */
    public record ModelRef(String id, String revision, String precision, boolean demo) {
        static ModelRef of(ModelFiles model) {
            return new ModelRef(model.id(), model.revision(), model.manifest().precision(), model.demo());
        }
    }

    public record TextEmbeddingRequest(List<String> texts, String walk, Boolean normalize) {
    }

    public record TextEmbedding(int index, float[] embedding, String walk, int tokens, boolean truncated) {
    }

    public record TextEmbeddingResponse(ModelRef model, int dimensions, List<TextEmbedding> data) {
    }

    public record ImageEmbeddingRequest(List<String> images, Integer maxNumPatches, Boolean normalize) {
    }

    public record ImageEmbedding(int index, float[] embedding, int[] grid, int maxNumPatches) {
    }

    public record ImageEmbeddingResponse(ModelRef model, int dimensions, List<ImageEmbedding> data) {
    }

    public record RegionEmbeddingRequest(String image, List<List<Double>> boxes, Integer maxNumPatches, Boolean normalize) {
    }

    public record RegionEmbedding(int index, float[] box, float[] embedding) {
    }

    public record RegionEmbeddingResponse(ModelRef model, int dimensions, int[] grid, List<RegionEmbedding> data) {
    }

    public record ClassifyRequest(String image, List<String> labels, String vocabulary, List<String> templates, Integer topK, Integer maxNumPatches) {
    }

    public record ClassifyResponse(ModelRef model, List<ZeroShotClassifier.LabelScore> results) {
    }

    public record RankItem(String text, String image, float[] embedding) {
    }

    public record RankRequest(RankItem query, List<RankItem> candidates, Integer topK, Integer maxNumPatches) {
    }

    /** logit is the SigLIP logit for image-text pairs, absent for same-modality pairs. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RankResult(int index, double score, Double logit, Double probability) {
    }

    public record RankResponse(ModelRef model, List<RankResult> results) {
    }

    public record RegionClassifyRequest(String image, List<List<Double>> boxes, List<String> labels, String vocabulary, List<String> templates,
                                        Integer topK, Integer maxNumPatches) {
    }

    public record RegionClassifyResponse(ModelRef model, List<RegionClassifier.BoxLabels> results) {
    }

    /**
     * @param detections rows, an mmdetection result or a transformers result (parsed by the use case)
     * @param vocabulary an array of labels or the name of a registered vocabulary
     */
    public record RescoreRequest(String image, Object detections, Object vocabulary, List<String> templates, Double alpha, Double beta,
                                 Double temperature, Boolean relabel, String unknownLabels, String boxFormat, Boolean normalizedBoxes, Boolean sort,
                                 Double scoreThreshold, Integer topK, Double nmsIou, Integer maxNumPatches) {
    }

    /** @param input detections received; distinctBoxes boxes encoded (identical ones pooled); kept rows returned */
    public record RescoreStats(int input, int distinctBoxes, int kept, int vocabularySize, List<String> addedLabels) {
    }

    public record RescoreResponse(ModelRef model, RescoreStats stats, List<DetectionRescorer.Rescored> detections) {
    }

    public record VocabularyRequest(List<String> labels, List<String> templates, String walk, String builtin) {
    }

    public record VocabularyProgress(int labelsDone, int labels, double elapsedSeconds, Double etaSeconds) {
    }

    /** state: queued, building, ready, failed or rejected (built with another model revision or precision) */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record VocabularyView(String name, String state, int classes, Integer templates, String walk, String builtin, String revision, String precision,
                                 VocabularyProgress progress, String detail, List<String> labels, List<Integer> categoryIds) {
    }

    public record VocabularyList(ModelRef model, List<String> builtins, List<VocabularyView> vocabularies) {
    }

    /** @param range the similarities at the ends of the PNG's colour ramp; null = the map's own min..max */
    public record DenseRequest(String image, List<String> texts, String format, List<Double> range, Integer maxNumPatches) {
    }

    public record DenseMap(int index, String text, float[][] similarity) {
    }

    public record DenseResponse(ModelRef model, int[] grid, List<DenseMap> data) {
    }
}
