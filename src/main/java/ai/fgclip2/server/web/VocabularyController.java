package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.Problem;
import ai.fgclip2.server.clip.ProblemException;
import ai.fgclip2.server.clip.Vocabularies;
import ai.fgclip2.server.clip.Vocabulary;
import ai.fgclip2.server.clip.VocabularyBuilder;
import ai.fgclip2.server.engine.InferenceEngine;
import ai.fgclip2.server.web.ApiModels.ModelRef;
import ai.fgclip2.server.web.ApiModels.VocabularyList;
import ai.fgclip2.server.web.ApiModels.VocabularyProgress;
import ai.fgclip2.server.web.ApiModels.VocabularyRequest;
import ai.fgclip2.server.web.ApiModels.VocabularyView;
import java.net.URI;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** Registered vocabularies: create (built in the background), list with progress, read, delete. */
@RestController
public class VocabularyController {
    private final Vocabularies vocabularies;
    private final ModelRef modelRef;

    public VocabularyController(Vocabularies vocabularies, InferenceEngine engine) {
        this.vocabularies = vocabularies;
        this.modelRef = ModelRef.of(engine.model());
    }

    @GetMapping("/v1/vocabularies")
    public VocabularyList list() {
        return new VocabularyList(modelRef, VocabularyBuilder.BUILTINS, vocabularies.list().stream().map(s -> view(s, null)).toList());
    }

    @GetMapping("/v1/vocabularies/{name}")
    public VocabularyView get(@PathVariable String name) {
        Vocabularies.Status status = vocabularies.status(name);
        if (status == null) {
            throw notFound(name);
        }
        return view(status, vocabularies.definition(name));
    }

    /** 202: the build runs in the background; poll the Location until its state is ready. */
    @PutMapping(path = "/v1/vocabularies/{name}", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<VocabularyView> put(@PathVariable String name, @RequestBody VocabularyRequest request) {
        Vocabularies.Status status = vocabularies.create(new Vocabularies.Create(name, request.labels(), request.templates(), request.walk(), request.builtin()));
        return ResponseEntity.accepted().location(URI.create("/v1/vocabularies/" + name)).body(view(status, null));
    }

    @DeleteMapping("/v1/vocabularies/{name}")
    public ResponseEntity<Void> delete(@PathVariable String name) {
        if (!vocabularies.delete(name)) {
            throw notFound(name);
        }
        return ResponseEntity.noContent().build();
    }

    private static ProblemException notFound(String name) {
        return new ProblemException(Problem.NOT_FOUND, "There is no vocabulary '" + name + "' (GET /v1/vocabularies lists them).");
    }

    private static VocabularyView view(Vocabularies.Status s, Vocabulary.Definition definition) {
        Vocabularies.Progress p = s.progress();
        return new VocabularyView(s.name(), s.state().name().toLowerCase(Locale.ROOT), s.classes(), s.templates(), s.walk(), s.builtin(), s.revision(),
                s.precision(), new VocabularyProgress(p.labelsDone(), p.labels(), p.elapsedSeconds(), p.etaSeconds()), s.detail(),
                definition == null ? null : definition.labels(), definition == null ? null : definition.categoryIds());
    }
}
