package ai.fgclip2.server.bulk;

import ai.fgclip2.server.clip.Gallery;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.ProblemException;
import ai.fgclip2.server.config.Fgclip2Properties;
import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.IndexException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * Bulk indexing without HTTP: the gallery use case in process, over the same engine and index the server would use
 * (configured by the same {@code fgclip2.*} properties). Decoding runs on its own threads while the engine embeds
 * the previous batch; bad files are reported and counted, never fatal; ids the collection already holds are skipped,
 * so a killed job is resumed by running it again.
 */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = "Index a folder of images, or a JSON Lines manifest (path, id, metadata, boxes), into a gallery collection. "
                + "Server properties pass through, e.g. --fgclip2.model.dir=/models/base --fgclip2.index.dir=/data/index. "
                + "Run it again to resume: items already in the collection are skipped.")
public final class BulkIndexCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--folder", required = true, description = "Index every image file under this folder (id = relative path).")
        Path folder;

        @Option(names = "--manifest", required = true, description = "Index the lines of this JSON Lines file: {\"path\", \"id\", \"metadata\", \"boxes\"}.")
        Path manifest;
    }

    @ArgGroup(multiplicity = "1")
    Source source;

    @Option(names = "--collection", required = true, description = "The collection (created when missing).")
    String collection;

    @Option(names = "--field", description = "A metadata field of a new collection, name=keyword or name=number (repeatable).")
    Map<String, String> fields = new LinkedHashMap<>();

    @Option(names = "--batch", defaultValue = "16", description = "Images embedded and written together (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--commit-every", defaultValue = "256", description = "Items between durable commits (default: ${DEFAULT-VALUE}).")
    int commitEvery;

    @Option(names = "--decoders", defaultValue = "2", description = "Threads decoding images ahead of the engine (default: ${DEFAULT-VALUE}).")
    int decoders;

    @Option(names = "--max-num-patches", description = "Patch budget per image (default: the official data-adaptive one).")
    Integer maxNumPatches;

    @Option(names = "--optimize", description = "When done, merge the collection into one segment: one graph walk per search, cheaper per candidate "
            + "but less recall per candidate on random vectors (BENCHMARKS.md); costs more than building the graph did.")
    boolean optimize;

    @Unmatched
    List<String> properties = new ArrayList<>();

    /** A decoding thread hit an Error (out of heap): the job stops with it rather than wait for the entry forever. */
    private record Fatal(Error error) {
    }

    /** A file that could not be indexed, and why. */
    private record Bad(String where, String reason) {
    }

    /** The largest file read: what one request could carry (fgclip2.limits.max-request-bytes). */
    private long maxFileBytes;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || commitEvery < 1 || decoders < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--batch, --commit-every and --decoders must be at least 1");
        }
        Fgclip2Properties settings;
        try {
            settings = OfflinePipeline.properties(properties);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        maxFileBytes = settings.limits().maxRequestBytes();
        List<BulkSource.Entry> entries = source.folder != null ? BulkSource.folder(source.folder) : BulkSource.manifest(source.manifest);
        try (OfflinePipeline offline = new OfflinePipeline(settings)) {
            System.err.printf(Locale.ROOT, "Indexing %d entries into '%s' with %s (revision %s, %s)%n", entries.size(), collection, offline.files.id(),
                    offline.files.revision(), offline.files.manifest().precision());
            return run(offline.gallery, entries);
        } catch (IndexException e) {
            // the index itself failed (locked by a server, disk full): what was committed stays, and a re-run resumes
            System.err.println("Cannot index into '" + collection + "': " + e.getMessage());
            return 1;
        }
    }

    private int run(Gallery gallery, List<BulkSource.Entry> entries) throws InterruptedException {
        CollectionSpec spec;
        try {
            spec = gallery.collection(collection).spec();
            gallery.open(collection);
            if (!fields.isEmpty()) {
                System.err.println("Collection '" + collection + "' exists with the fields " + spec.fields() + "; --field only shapes a new collection.");
            }
        } catch (ProblemException notThere) {
            if (notThere.problem() != ai.fgclip2.server.clip.Problem.NOT_FOUND) {
                System.err.println("Cannot index into '" + collection + "': " + notThere.getMessage());
                return 2;
            }
            spec = gallery.create(new Gallery.NewCollection(collection, fields)).spec();
        }
        List<Bad> bad = new ArrayList<>();
        List<BulkSource.Entry> todo = new ArrayList<>();
        Map<String, String> firstSeen = new HashMap<>();
        for (BulkSource.Entry entry : entries) {
            String earlier = entry.problem() == null ? firstSeen.putIfAbsent(entry.id(), entry.where()) : null;
            if (entry.problem() != null) {
                report(bad, new Bad(entry.where(), entry.problem()));
            } else if (earlier != null) {
                report(bad, new Bad(entry.where(), "id '" + entry.id() + "' repeats the one of " + earlier));
            } else {
                todo.add(entry);
            }
        }
        int skipped = skipIndexed(gallery, todo);
        Progress progress = new Progress(System.err, todo.size());
        BlockingQueue<Object> decoded = new ArrayBlockingQueue<>(Math.max(4, batch * 4));
        AtomicInteger next = new AtomicInteger();
        for (int t = 0; t < decoders; t++) {
            CollectionSpec target = spec;
            Thread thread = new Thread(() -> decode(gallery, target, todo, next, decoded), "fgclip2-decode-" + t);
            thread.setDaemon(true);
            thread.start();
        }
        long start = System.nanoTime();
        int indexed = 0;
        int uncommitted = 0;
        List<Gallery.PreparedItem> pending = new ArrayList<>(batch);
        for (int done = 0; done < todo.size(); done++) {
            Object item = decoded.take();
            if (item instanceof Fatal fatal) {
                throw fatal.error();
            }
            if (item instanceof Bad failure) {
                report(bad, failure);
            } else {
                pending.add((Gallery.PreparedItem) item);
            }
            if (pending.size() >= batch || (done == todo.size() - 1 && !pending.isEmpty())) {
                int stored = store(gallery, pending, bad);
                indexed += stored;
                uncommitted += stored;
                pending.clear();
            }
            if (uncommitted >= commitEvery || (done == todo.size() - 1 && uncommitted > 0)) {
                gallery.commit(collection);
                System.out.printf(Locale.ROOT, "committed %d items (%d in total)%n", uncommitted, indexed);
                System.out.flush();
                uncommitted = 0;
            }
            progress.update(done + 1, indexed, bad.size(), done == todo.size() - 1);
        }
        progress.finish();
        if (optimize) {
            long mergeStart = System.nanoTime();
            gallery.optimize(collection);
            System.out.printf(Locale.ROOT, "optimized: one segment in %.1f s%n", (System.nanoTime() - mergeStart) / 1e9);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.printf(Locale.ROOT, "Indexed %d items in %.1f s (%.1f img/s); %d already in the collection (skipped); %d bad.%n",
                indexed, seconds, seconds > 0 ? indexed / seconds : 0, skipped, bad.size());
        System.out.printf(Locale.ROOT, "done: indexed %d, skipped %d, bad %d%n", indexed, skipped, bad.size());
        return 0;
    }

    /** Drops the entries the collection already holds: a re-run resumes where the last commit left off. */
    private int skipIndexed(Gallery gallery, List<BulkSource.Entry> todo) {
        int before = todo.size();
        List<BulkSource.Entry> kept = new ArrayList<>(before);
        for (int from = 0; from < todo.size(); from += 1000) {
            List<BulkSource.Entry> chunk = todo.subList(from, Math.min(todo.size(), from + 1000));
            Set<String> present = gallery.present(collection, chunk.stream().map(BulkSource.Entry::id).toList());
            chunk.stream().filter(entry -> !present.contains(entry.id())).forEach(kept::add);
        }
        todo.clear();
        todo.addAll(kept);
        return before - kept.size();
    }

    /** A decoding thread: reads and checks entries (in order of the shared counter) and hands each on, decoded or bad. */
    private void decode(Gallery gallery, CollectionSpec spec, List<BulkSource.Entry> todo, AtomicInteger next, BlockingQueue<Object> decoded) {
        for (int i = next.getAndIncrement(); i < todo.size(); i = next.getAndIncrement()) {
            BulkSource.Entry entry = todo.get(i);
            Object result;
            try {
                long size = Files.size(entry.path());
                if (size > maxFileBytes) {
                    throw new ProblemException(ai.fgclip2.server.clip.Problem.LIMIT_EXCEEDED, "The file has " + size + " bytes; the limit is "
                            + maxFileBytes + " (fgclip2.limits.max-request-bytes).", entry.where());
                }
                byte[] bytes = Files.readAllBytes(entry.path());
                result = gallery.prepare(spec, new Gallery.NewItem(entry.id(), new ImageInput(bytes, entry.where()), entry.metadata(), entry.boxes()),
                        entry.where(), maxNumPatches);
            } catch (ProblemException e) {
                result = new Bad(entry.where(), e.problem().name().toLowerCase(Locale.ROOT).replace('_', '-') + ": " + e.getMessage()
                        + (e.pointer() == null || e.pointer().equals(entry.where()) ? "" : " (at " + e.pointer().substring(entry.where().length()) + ")"));
            } catch (IOException | RuntimeException e) {
                result = new Bad(entry.where(), "cannot read: " + e);
            } catch (Error e) {
                result = new Fatal(e);
            }
            try {
                decoded.put(result);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Embeds and writes a batch; if the batch fails, item by item, so that one bad item costs only itself. */
    private int store(Gallery gallery, List<Gallery.PreparedItem> items, List<Bad> bad) {
        try {
            gallery.store(collection, items);
            return items.size();
        } catch (IndexException e) {
            throw e;
        } catch (RuntimeException batchFailure) {
            int stored = 0;
            for (Gallery.PreparedItem item : items) {
                try {
                    gallery.store(collection, List.of(item));
                    stored++;
                } catch (IndexException e) {
                    throw e;
                } catch (RuntimeException e) {
                    report(bad, new Bad(item.id(), "inference failed: " + e.getMessage()));
                }
            }
            return stored;
        }
    }

    private static void report(List<Bad> bad, Bad failure) {
        bad.add(failure);
        System.err.println("bad: " + failure.where() + ": " + failure.reason());
    }
}
