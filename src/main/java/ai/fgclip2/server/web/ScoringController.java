package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.DetectionRescorer;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.Ranker;
import ai.fgclip2.server.clip.RegionClassifier;
import ai.fgclip2.server.clip.ZeroShotClassifier;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.web.ApiModels.*;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** Zero-shot classification, ranking, box classification and detector rescoring: DTOs to commands and back. */
@RestController
public class ScoringController {
    private final ZeroShotClassifier classifier;
    private final Ranker ranker;
    private final RegionClassifier regionClassifier;
    private final DetectionRescorer rescorer;
    private final ModelRef modelRef;

    public ScoringController(ZeroShotClassifier classifier, Ranker ranker, RegionClassifier regionClassifier, DetectionRescorer rescorer,
                             InferenceEngine engine) {
        this.classifier = classifier;
        this.ranker = ranker;
        this.regionClassifier = regionClassifier;
        this.rescorer = rescorer;
        this.modelRef = ModelRef.of(engine.model());
    }

    @PostMapping(path = "/v1/classify", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ClassifyResponse classify(@RequestBody ClassifyRequest request) {
        ImageInput image = ImageStrings.decode(request.image(), "/image");
        return new ClassifyResponse(modelRef, classifier.classify(new ZeroShotClassifier.Command(image, request.labels(), request.vocabulary(), request.templates(),
                request.topK(), request.maxNumPatches())));
    }

    @PostMapping(path = "/v1/rank", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RankResponse rank(@RequestBody RankRequest request) {
        Ranker.Item query = request.query() == null ? null : item(request.query(), "/query");
        List<Ranker.Item> candidates = null;
        if (request.candidates() != null) {
            candidates = new ArrayList<>(request.candidates().size());
            for (int i = 0; i < request.candidates().size(); i++) {
                RankItem candidate = request.candidates().get(i);
                candidates.add(candidate == null ? null : item(candidate, "/candidates/" + i));
            }
        }
        List<RankResult> results = ranker.rank(new Ranker.Command(query, candidates, request.topK(), request.maxNumPatches())).stream()
                .map(hit -> new RankResult(hit.index(), hit.score(), hit.logit(), hit.probability())).toList();
        return new RankResponse(modelRef, results);
    }

    private static Ranker.Item item(RankItem item, String pointer) {
        ImageInput image = item.image() == null ? null : ImageStrings.decode(item.image(), pointer + "/image");
        return new Ranker.Item(item.text(), image, item.embedding());
    }

    @PostMapping(path = "/v1/regions/classify", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RegionClassifyResponse classifyRegions(@RequestBody RegionClassifyRequest request) {
        ImageInput image = ImageStrings.decode(request.image(), "/image");
        return new RegionClassifyResponse(modelRef, regionClassifier.classify(new RegionClassifier.Command(image, request.boxes(), request.labels(),
                request.vocabulary(), request.templates(), request.topK(), request.maxNumPatches())));
    }

    @PostMapping(path = "/v1/detections/rescore", consumes = MediaType.APPLICATION_JSON_VALUE)
    public RescoreResponse rescore(@RequestBody RescoreRequest request) {
        ImageInput image = ImageStrings.decode(request.image(), "/image");
        DetectionRescorer.Options options = new DetectionRescorer.Options(request.alpha(), request.beta(), request.temperature(),
                Boolean.TRUE.equals(request.relabel()), request.unknownLabels(), request.boxFormat(), request.normalizedBoxes(),
                Boolean.TRUE.equals(request.sort()), request.scoreThreshold(), request.topK(), request.nmsIou());
        DetectionRescorer.Result result = rescorer.rescore(new DetectionRescorer.Command(image, request.detections(),
                DetectionRescorer.VocabularyRef.of(request.vocabulary()), request.templates(), options, request.maxNumPatches()));
        return new RescoreResponse(modelRef, new RescoreStats(result.detections(), result.distinctBoxes(), result.rows().size(), result.vocabularySize(),
                result.addedLabels()), result.rows());
    }
}
