package ai.fgclip2.server.web;

import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.engine.QuantizationAgreement;
import ai.fgclip2.server.config.Fgclip2Properties;
import ai.fgclip2.server.web.ApiModels.ModelRef;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** What is being served: {@code GET /v1/models}. */
@RestController
public class ModelController {

    public record ModelInfo(String id, String object, String revision, String variant, int dimensions, String precision,
                            String provider, String providerFallback, List<Integer> patchBudgets, int maxNumPatchesLimit, Manifest.TextLengths textLengths,
                            double logitScale, double logitBias, boolean demo, String notice, QuantizationAgreement int8Agreement) {
    }

    public record ModelList(ModelRef model, String object, List<ModelInfo> data) {
    }

    private final ModelList models;

    public ModelController(InferenceEngine engine, Fgclip2Properties properties) {
        var files = engine.model();
        Manifest manifest = files.manifest();
        String notice = files.demo()
                ? "DEMO MODEL: random untrained weights; scores are meaningless. Set fgclip2.model.dir to a FG-CLIP 2 checkpoint."
                : null;
        ModelInfo info = new ModelInfo(files.id(), "model", files.revision(), manifest.variant(), manifest.dimensions().projectionSize(),
                manifest.precision(), engine.provider(), engine.providerFallback(), manifest.preprocessing().patchBudgets(), properties.limits().maxNumPatches(),
                manifest.textLengths(), manifest.scores().logitScaleExp(), manifest.scores().logitBias(), files.demo(), notice,
                engine.quantizationAgreement());
        this.models = new ModelList(ModelRef.of(files), "list", List.of(info));
    }

    @GetMapping("/v1/models")
    public ModelList models() {
        return models;
    }
}
