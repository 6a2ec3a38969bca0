package ai.fgclip2.server.router;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Request and response bodies of the REST API (openapi.yaml is the contract). */
public final class ApiModels {
    private ApiModels() {
    }

    /** Names the model that produced a response: id, revision (checkpoint digest prefix), demo flag. */
    public record ModelRef(String id, String revision, boolean demo) {
        static ModelRef of(ai.fgclip2.server.backends.ModelFiles model) {
            return new ModelRef(model.id(), model.revision(), model.demo());
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

    public record ClassifyRequest(String image, List<String> labels, List<String> templates, Integer topK, Integer maxNumPatches) {
    }

    public record LabelScore(String label, double probability, double logit) {
    }

    public record ClassifyResponse(ModelRef model, List<LabelScore> results) {
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

    public record RegionClassifyRequest(String image, List<List<Double>> boxes, List<String> labels, List<String> templates,
                                        Integer topK, Integer maxNumPatches) {
    }

    public record RegionLabel(String label, double probability) {
    }

    public record RegionClassification(int index, float[] box, List<RegionLabel> labels) {
    }

    public record RegionClassifyResponse(ModelRef model, List<RegionClassification> results) {
    }

    public record Detection(List<Double> box, Double score, String label) {
    }

    public record RescoreRequest(String image, List<Detection> detections, List<String> vocabulary, Double alpha, Double beta,
                                 List<String> templates, Boolean relabel, Integer maxNumPatches) {
    }

    public record RescoredDetection(int index, float[] box, String label, double detectorScore, double alignProbability,
                                    double score, String bestLabel, double bestProbability) {
    }

    public record RescoreResponse(ModelRef model, List<RescoredDetection> detections) {
    }

    public record DenseRequest(String image, List<String> texts, String format, Integer maxNumPatches) {
    }

    public record DenseMap(int index, String text, float[][] similarity) {
    }

    public record DenseResponse(ModelRef model, int[] grid, List<DenseMap> data) {
    }
}
