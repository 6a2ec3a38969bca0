package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.Gallery;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.InputChecks;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.web.ApiModels.ModelRef;
import ai.fgclip2.server.web.GalleryModels.*;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** Collections of images and their search: {@code /v1/collections}. */
@RestController
public class GalleryController {
    private final Gallery gallery;
    private final InputChecks checks;
    private final ModelRef modelRef;

    public GalleryController(Gallery gallery, InputChecks checks, InferenceEngine engine) {
        this.gallery = gallery;
        this.checks = checks;
        this.modelRef = ModelRef.of(engine.model());
    }

    @PostMapping(path = "/v1/collections", consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.CREATED)
    public CollectionResponse create(@RequestBody CreateCollectionRequest request) {
        return view(gallery.create(new Gallery.NewCollection(request.name(), request.fields())));
    }

    @GetMapping("/v1/collections")
    public CollectionList collections() {
        return new CollectionList(gallery.collections().stream().map(GalleryController::view).toList());
    }

    @GetMapping("/v1/collections/{name}")
    public CollectionResponse collection(@PathVariable String name) {
        return view(gallery.collection(name));
    }

    @DeleteMapping("/v1/collections/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void drop(@PathVariable String name) {
        gallery.drop(name);
    }

    @PostMapping(path = "/v1/collections/{name}/items", consumes = MediaType.APPLICATION_JSON_VALUE)
    public AddItemsResponse add(@PathVariable String name, @RequestBody AddItemsRequest request) {
        List<ItemRequest> items = checks.items(request.items(), "items", checks.limits().maxItems());
        List<Gallery.NewItem> commands = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            ItemRequest item = items.get(i);
            commands.add(new Gallery.NewItem(item.id(), ImageStrings.decode(item.image(), "/items/" + i + "/image"), item.metadata(), item.boxes()));
        }
        return added(gallery.add(name, commands, request.maxNumPatches()));
    }

    // {*id}: the rest of the path, so that ids with '/' (a bulk job's relative paths) are reachable without %2F,
    // which servlet containers refuse
    @PutMapping(path = "/v1/collections/{name}/items/{*id}", consumes = MediaType.APPLICATION_JSON_VALUE)
    public AddItemsResponse put(@PathVariable String name, @PathVariable String id, @RequestBody PutItemRequest request) {
        ImageInput image = ImageStrings.decode(request.image(), "/image");
        return added(gallery.add(name, List.of(new Gallery.NewItem(itemId(id), image, request.metadata(), request.boxes())), request.maxNumPatches()));
    }

    private AddItemsResponse added(List<Gallery.Added> added) {
        List<AddedItem> out = new ArrayList<>(added.size());
        for (int i = 0; i < added.size(); i++) {
            out.add(new AddedItem(i, added.get(i).id(), added.get(i).regions()));
        }
        return new AddItemsResponse(modelRef, out);
    }

    @GetMapping("/v1/collections/{name}/items/{*id}")
    public ItemResponse item(@PathVariable String name, @PathVariable String id) {
        Gallery.ItemView item = gallery.item(name, itemId(id));
        return new ItemResponse(item.id(), item.metadata(), item.boxes());
    }

    @DeleteMapping("/v1/collections/{name}/items/{*id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delete(@PathVariable String name, @PathVariable String id) {
        gallery.delete(name, itemId(id));
    }

    /** A {*id} capture starts with the slash before it. */
    private static String itemId(String captured) {
        return captured.startsWith("/") ? captured.substring(1) : captured;
    }

    @PostMapping(path = "/v1/collections/{name}/search", consumes = MediaType.APPLICATION_JSON_VALUE)
    public SearchResponse search(@PathVariable String name, @RequestBody SearchRequest request) {
        SearchQuery query = request.query();
        Gallery.Query command = query == null ? null : new Gallery.Query(query.text(),
                query.image() == null ? null : ImageStrings.decode(query.image(), "/query/image"), query.embedding());
        Gallery.SearchResult result = gallery.search(name, new Gallery.SearchCommand(command, request.target(), request.filter(), request.topK(),
                request.offset(), request.numCandidates(), request.maxNumPatches()));
        int first = request.offset() == null ? 0 : request.offset();
        List<SearchHit> hits = new ArrayList<>(result.hits().size());
        for (int i = 0; i < result.hits().size(); i++) {
            Gallery.Hit hit = result.hits().get(i);
            RegionMatch region = hit.region() == null ? null : new RegionMatch(hit.region().index(), hit.region().box(), hit.region().score());
            hits.add(new SearchHit(first + i + 1, hit.id(), hit.score(), hit.logit(), hit.probability(), hit.metadata(), region));
        }
        return new SearchResponse(modelRef, result.walk(), hits);
    }

    private static CollectionResponse view(Gallery.CollectionInfo info) {
        CollectionSpec spec = info.spec();
        Map<String, String> fields = new LinkedHashMap<>();
        spec.fields().forEach((field, type) -> fields.put(field, type.name().toLowerCase(Locale.ROOT)));
        return new CollectionResponse(spec.name(), fields, new CollectionModel(spec.modelId(), spec.modelRevision(), spec.precision()),
                spec.dimensions(), spec.quantized(), info.count());
    }
}
