package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.text.TextWalk;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registered vocabularies: class embeddings computed once (in the background, one build at a time, with
 * progress), persisted as one file per vocabulary and model ({@link VocabularyFile}) and reloaded at start
 * without any text inference. A file of another model revision or precision is never used: its name is
 * reported as rejected until it is rebuilt.
 */
public final class Vocabularies implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Vocabularies.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    public enum State { QUEUED, BUILDING, READY, FAILED, REJECTED }

    /** @param etaSeconds null until the first step finished */
    public record Progress(int labelsDone, int labels, double elapsedSeconds, Double etaSeconds) {
    }

    /** @param detail why it failed or was rejected; null otherwise */
    public record Status(String name, State state, int classes, Integer templates, String walk, String builtin, String revision, String precision,
                         Progress progress, String detail) {
    }

    /** What a client asks for: its own labels (and templates), or a built-in; walk null = box. */
    public record Create(String name, List<String> labels, List<String> templates, String walk, String builtin) {
    }

    private static final class Entry {
        final Vocabulary.Definition definition;
        final AtomicInteger done = new AtomicInteger();
        volatile State state;
        volatile Vocabulary vocabulary;
        volatile String detail;
        volatile long startNanos;
        volatile long endNanos;
        volatile Future<?> task;
        Vocabulary.ModelKey foreignModel;

        Entry(Vocabulary.Definition definition, State state) {
            this.definition = definition;
            this.state = state;
        }
    }

    private final VocabularyBuilder builder;
    private final InputChecks checks;
    private final Path directory;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final ExecutorService builds = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "vocabulary-build");
        thread.setDaemon(true);
        return thread;
    });

    public Vocabularies(VocabularyBuilder builder, InputChecks checks, Path directory) {
        this.builder = builder;
        this.checks = checks;
        this.directory = directory;
        loadPersisted();
    }

    public Vocabulary.ModelKey model() {
        return builder.model();
    }

    /** Every file of this model is loaded; a name that only has files of other models is listed as rejected. */
    private void loadPersisted() {
        if (!Files.isDirectory(directory)) {
            return;
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*" + VocabularyFile.EXTENSION)) {
            stream.forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list vocabularies in " + directory, e);
        }
        files.sort(Comparator.naturalOrder());
        for (Path file : files) {
            try {
                VocabularyFile.Header header = VocabularyFile.readHeader(file);
                if (header.model().sameEmbeddings(model())) {
                    Vocabulary vocabulary = VocabularyFile.read(file);
                    Entry entry = new Entry(vocabulary.definition(), State.READY);
                    entry.vocabulary = vocabulary;
                    entry.done.set(vocabulary.labels().size());
                    entries.put(vocabulary.name(), entry);
                    log.info("Loaded vocabulary '{}' ({} classes) from {}", vocabulary.name(), vocabulary.labels().size(), file);
                } else if (!entries.containsKey(header.name()) || entries.get(header.name()).state == State.REJECTED) {
                    Entry entry = new Entry(header.definition(), State.REJECTED);
                    entry.foreignModel = header.model();
                    entry.detail = "Vocabulary '" + header.name() + "' (" + file.getFileName() + ") was built with model " + header.model()
                            + "; this server runs " + model() + ". Its embeddings do not apply here: rebuild it.";
                    entries.putIfAbsent(header.name(), entry);
                    log.warn(entry.detail);
                }
            } catch (RuntimeException e) {
                log.warn("Ignoring the vocabulary file {}: {}", file, e.getMessage());
            }
        }
    }

    /**
     * Installs a vocabulary file built elsewhere (the offline {@code vocabulary} command): copied into the
     * directory and ready at once. A file of another model revision or precision is refused.
     */
    public Status install(Path file) {
        Vocabulary vocabulary = VocabularyFile.read(file);
        if (!vocabulary.model().sameEmbeddings(model())) {
            throw new ProblemException(Problem.CONFLICT, "The vocabulary file " + file + " was built with model " + vocabulary.model() + "; this model is "
                    + model() + ". Its embeddings do not apply here: rebuild it for this model.");
        }
        VocabularyFile.write(vocabulary, directory.resolve(VocabularyFile.fileName(vocabulary.name(), model())));
        Entry entry = new Entry(vocabulary.definition(), State.READY);
        entry.vocabulary = vocabulary;
        entry.done.set(vocabulary.labels().size());
        entries.put(vocabulary.name(), entry);
        return status(vocabulary.name(), entry);
    }

    /** Validates, then builds in the background (replacing a vocabulary of the same name when done). */
    public Status create(Create request) {
        String name = request.name();
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "A vocabulary name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit; got '"
                    + name + "'.", "/name");
        }
        TextWalk walk = request.walk() == null ? TextWalk.BOX : checks.walk(request.walk());
        if (walk == TextWalk.AUTO) {
            throw new ProblemException(Problem.INVALID_REQUEST, "A vocabulary needs one walk (short, long or box), not auto.", "/walk");
        }
        Vocabulary.Definition definition;
        if (request.builtin() != null) {
            if (request.labels() != null || request.templates() != null) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Give either 'builtin' or 'labels' (with 'templates'), not both.", "/builtin");
            }
            definition = VocabularyBuilder.builtin(request.builtin(), name, walk);
        } else {
            List<String> labels = checks.texts(request.labels(), "labels", checks.limits().maxLabels());
            List<String> templates = request.templates() == null ? null : checks.texts(request.templates(), "templates", checks.limits().maxLabels());
            if (templates != null) {
                for (int i = 0; i < templates.size(); i++) {
                    if (!templates.get(i).contains("{}")) {
                        throw new ProblemException(Problem.INVALID_REQUEST, "Template " + i + " has no '{}' placeholder for the label.", "/templates/" + i);
                    }
                }
            }
            definition = new Vocabulary.Definition(name, List.copyOf(labels), null, templates == null ? null : List.copyOf(templates), walk, null);
        }
        Entry entry = new Entry(definition, State.QUEUED);
        Entry previous = entries.get(name);
        if (previous != null && (previous.state == State.QUEUED || previous.state == State.BUILDING)) {
            throw new ProblemException(Problem.CONFLICT, "Vocabulary '" + name + "' is being built; wait for it or delete it first.", "/name");
        }
        entries.put(name, entry);
        entry.task = builds.submit(() -> build(entry));
        return status(name, entry);
    }

    private void build(Entry entry) {
        Vocabulary.Definition definition = entry.definition;
        entry.startNanos = System.nanoTime();
        entry.state = State.BUILDING;
        log.info("Building vocabulary '{}': {} labels, {} prompts", definition.name(), definition.labels().size(), definition.prompts());
        try {
            Vocabulary vocabulary = builder.build(definition, entry.done::set);
            VocabularyFile.write(vocabulary, directory.resolve(VocabularyFile.fileName(definition.name(), model())));
            entry.vocabulary = vocabulary;
            entry.endNanos = System.nanoTime();
            entry.state = State.READY;
            log.info("Vocabulary '{}' ready in {} s", definition.name(), String.format(java.util.Locale.ROOT, "%.1f", (entry.endNanos - entry.startNanos) / 1e9));
        } catch (InterruptedException e) {
            entry.detail = "The build was cancelled.";
            entry.state = State.FAILED;
        } catch (RuntimeException e) {
            entry.endNanos = System.nanoTime();
            entry.detail = "The build failed: " + e.getMessage();
            entry.state = State.FAILED;
            log.warn("Vocabulary '{}' failed", definition.name(), e);
        }
    }

    public List<Status> list() {
        return entries.keySet().stream().sorted().map(this::status).filter(java.util.Objects::nonNull).toList();
    }

    /** The status, or null when there is no such vocabulary. */
    public Status status(String name) {
        Entry entry = entries.get(name);
        return entry == null ? null : status(name, entry);
    }

    /** The labels of a vocabulary in any state (they are known before it is built), or null. */
    public Vocabulary.Definition definition(String name) {
        Entry entry = entries.get(name);
        return entry == null ? null : entry.definition;
    }

    private Status status(String name, Entry entry) {
        Vocabulary.Definition d = entry.definition;
        int total = d.labels().size();
        int done = entry.done.get();
        double elapsed = 0;
        Double eta = null;
        if (entry.startNanos != 0) {
            long end = entry.state == State.BUILDING ? System.nanoTime() : entry.endNanos == 0 ? System.nanoTime() : entry.endNanos;
            elapsed = (end - entry.startNanos) / 1e9;
            if (entry.state == State.BUILDING && done > 0) {
                eta = elapsed / done * (total - done);
            } else if (entry.state == State.READY) {
                eta = 0.0;
            }
        }
        Vocabulary.ModelKey key = entry.foreignModel != null ? entry.foreignModel : model();
        return new Status(name, entry.state, total, d.templates() == null ? null : d.templates().size(), d.walk().name().toLowerCase(java.util.Locale.ROOT),
                d.builtin(), key.revision(), key.precision(), new Progress(done, total, elapsed, eta), entry.detail);
    }

    /** Deletes (cancelling a build); false when there is no such vocabulary. */
    public boolean delete(String name) {
        Entry entry = entries.remove(name);
        if (entry == null) {
            return false;
        }
        if (entry.task != null) {
            entry.task.cancel(true);
        }
        try {
            Files.deleteIfExists(directory.resolve(VocabularyFile.fileName(name, model())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the vocabulary file of " + name, e);
        }
        return true;
    }

    /**
     * The ready vocabulary {@code name} with class embeddings of {@code walk}, for a scoring request.
     *
     * @param pointer where the request names it
     */
    public Vocabulary require(String name, TextWalk walk, String pointer) {
        Entry entry = name == null ? null : entries.get(name);
        if (entry == null) {
            throw new ProblemException(Problem.INVALID_REQUEST, "Unknown vocabulary '" + name + "'; registered: " + entries.keySet().stream().sorted().toList()
                    + " (GET /v1/vocabularies; built in, to create: " + VocabularyBuilder.BUILTINS + ").", pointer);
        }
        switch (entry.state) {
            case READY -> {
            }
            case QUEUED, BUILDING -> throw new ProblemException(Problem.CONFLICT, "Vocabulary '" + name + "' is still being built (" + entry.done.get() + " of "
                    + entry.definition.labels().size() + " labels).", pointer);
            default -> throw new ProblemException(Problem.CONFLICT, "Vocabulary '" + name + "' cannot be used: " + entry.detail, pointer);
        }
        Vocabulary vocabulary = entry.vocabulary;
        if (vocabulary.definition().walk() != walk) {
            throw new ProblemException(Problem.INVALID_REQUEST, "Vocabulary '" + name + "' holds " + vocabulary.definition().walk().name().toLowerCase(java.util.Locale.ROOT)
                    + "-walk class embeddings; this use needs the " + walk.name().toLowerCase(java.util.Locale.ROOT)
                    + " walk (the official protocol). Register one with \"walk\": \"" + walk.name().toLowerCase(java.util.Locale.ROOT) + "\".", pointer);
        }
        return vocabulary;
    }

    /** Blocks until no build is running or queued (tests, the offline job). */
    public void awaitBuilds() throws InterruptedException {
        try {
            builds.submit(() -> { }).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        builds.shutdownNow();
    }
}
