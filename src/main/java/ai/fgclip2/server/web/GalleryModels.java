package ai.fgclip2.server.web;

import ai.fgclip2.server.web.ApiModels.ModelRef;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** Request and response bodies of {@code /v1/collections} (openapi.yaml is the contract). */
public final class GalleryModels {
    private GalleryModels() {
    }

    /** @param fields metadata field name to "keyword" or "number" */
    public record CreateCollectionRequest(String name, Map<String, String> fields) {
    }

    public record CollectionModel(String id, String revision, String precision) {
    }

    public record CollectionResponse(String name, Map<String, String> fields, CollectionModel model, int dimensions, boolean quantized, long count) {
    }

    public record CollectionList(List<CollectionResponse> data) {
    }

    public record ItemRequest(String id, String image, Map<String, Object> metadata, List<List<Double>> boxes) {
    }

    public record AddItemsRequest(List<ItemRequest> items, Integer maxNumPatches) {
    }

    public record PutItemRequest(String image, Map<String, Object> metadata, List<List<Double>> boxes, Integer maxNumPatches) {
    }

    public record AddedItem(int index, String id, int regions) {
    }

    public record AddItemsResponse(ModelRef model, List<AddedItem> items) {
    }

    public record ItemResponse(String id, Map<String, Object> metadata, List<float[]> boxes) {
    }

    public record SearchQuery(String text, String image, float[] embedding) {
    }

    public record SearchRequest(SearchQuery query, String target, Map<String, Object> filter, Integer topK, Integer offset, Integer numCandidates,
                                Integer maxNumPatches) {
    }

    public record RegionMatch(int index, float[] box, double score) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SearchHit(int rank, String id, double score, Double logit, Double probability, Map<String, Object> metadata, RegionMatch region) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SearchResponse(ModelRef model, String walk, List<SearchHit> hits) {
    }
}
