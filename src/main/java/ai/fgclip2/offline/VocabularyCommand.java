package ai.fgclip2.offline;

import ai.fgclip2.server.clip.Vocabulary;
import ai.fgclip2.server.clip.VocabularyBuilder;
import ai.fgclip2.server.clip.VocabularyFile;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "vocabulary", mixinStandardHelpOptions = true,
        description = "Builds a registered-vocabulary file offline (e.g. on a GPU machine) with the same pipeline as the server: one class "
                + "embedding per label, templates averaged. Ship it into the server's <cache dir>/vocabularies/ (or --vocabulary-file of rescore); "
                + "it only loads on a server running the same model revision and precision.")
public final class VocabularyCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--builtin", description = "lvis (1203 classes) or coco (80), with the 80 official templates.")
        String builtin;

        @Option(names = "--labels-file", description = "A text file with one label per line.")
        Path labelsFile;
    }

    @Mixin
    OfflineModel model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--templates-file", description = "With --labels-file: one template with {} per line (default: the label alone).")
    Path templatesFile;

    @Option(names = "--name", description = "The vocabulary's name (default: the built-in's name).")
    String name;

    @Option(names = "--walk", defaultValue = "box", description = "box (box classification, rescoring), short (zero-shot classification) or long (default: ${DEFAULT-VALUE}).")
    String walk;

    @Option(names = "--limit", description = "Build only the first N labels (to measure the rate on a subset).")
    Integer limit;

    @Option(names = "--out", required = true, description = "The vocabulary file to write (.vocab).")
    Path out;

    @Override
    public Integer call() throws Exception {
        TextWalk textWalk = TextWalk.valueOf(walk.toUpperCase(Locale.ROOT));
        Vocabulary.Definition definition;
        if (source.builtin != null) {
            definition = VocabularyBuilder.builtin(source.builtin, name == null ? source.builtin : name, textWalk);
        } else {
            if (name == null) {
                System.err.println("--name is required with --labels-file");
                return 2;
            }
            List<String> labels = Files.readAllLines(source.labelsFile).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
            List<String> templates = templatesFile == null ? null : Files.readAllLines(templatesFile).stream().filter(l -> l.contains("{}")).toList();
            definition = new Vocabulary.Definition(name, labels, null, templates, textWalk, null);
        }
        if (limit != null && limit < definition.labels().size()) {
            definition = new Vocabulary.Definition(definition.name(), definition.labels().subList(0, limit),
                    definition.categoryIds() == null ? null : definition.categoryIds().subList(0, limit), definition.templates(), textWalk, definition.builtin());
        }
        try (OfflineModel.Loaded loaded = model.load()) {
            VocabularyBuilder builder = new VocabularyBuilder(loaded.services().pipeline(), ai.fgclip2.server.assembly.ClipServices.modelKey(loaded.engine()));
            int labels = definition.labels().size();
            System.err.printf("building '%s': %d labels x %d templates = %d prompts (%s walk)%n", definition.name(), labels,
                    definition.templates() == null ? 1 : definition.templates().size(), definition.prompts(), walk);
            Progress progress = new Progress("labels", labels);
            Vocabulary vocabulary = builder.build(definition, done -> progress.update(done, 0, false));
            progress.update(labels, 0, true);
            VocabularyFile.write(vocabulary, out);
            double seconds = progress.elapsedSeconds();
            System.out.printf(Locale.ROOT, "wrote %s: %d classes, %d prompts in %.1f s (%.1f prompts/s), model %s%n", out, labels, definition.prompts(), seconds,
                    definition.prompts() / seconds, vocabulary.model());
        }
        return 0;
    }
}
