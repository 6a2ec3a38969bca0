package ai.fgclip2.bench;

import ai.fgclip2.server.bulk.BulkIndexCommand;
import ai.fgclip2.server.bulk.OfflinePipeline;
import ai.fgclip2.server.clip.Embeddings;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.Scoring;
import ai.fgclip2.server.index.CollectionSpec;
import ai.fgclip2.server.index.HnswSettings;
import ai.fgclip2.server.index.IndexHit;
import ai.fgclip2.server.index.IndexItem;
import ai.fgclip2.server.index.Metadata;
import ai.fgclip2.server.index.VectorSearch;
import ai.fgclip2.server.index.lucene.LuceneGalleryIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * The embedded gallery index on random unit vectors: indexing time, HNSW top-k recall against exact search, query
 * latency, and the index's bytes per vector by file kind (raw vectors, graph, quantized vectors).
 */
@Command(name = "bench-index", mixinStandardHelpOptions = true,
        description = "Gallery index benchmark (embedded Lucene): index random unit vectors, then recall of HNSW top-k against exact "
                + "search, query latency p50/p99 and index bytes per vector, with or without scalar quantization.")
public final class IndexBenchCommand implements Callable<Integer> {

    @Option(names = "--vectors", defaultValue = "100000", description = "Vectors indexed (default: ${DEFAULT-VALUE}).")
    int vectors;

    @Option(names = "--dimensions", defaultValue = "768", description = "Vector dimension; FG-CLIP 2 base: 768 (default: ${DEFAULT-VALUE}).")
    int dimensions;

    @Option(names = "--queries", defaultValue = "200", description = "Queries for recall and latency (default: ${DEFAULT-VALUE}).")
    int queries;

    @Option(names = "--top-k", defaultValue = "10", description = "k of the recall (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--candidates", split = ",", defaultValue = "1500", description = "num-candidates values to measure, comma-separated (default: ${DEFAULT-VALUE}).")
    List<Integer> candidates;

    @Option(names = "--search-threads", split = ",", defaultValue = "1", description = "Segments one search walks at once "
            + "(fgclip2.index.search-threads), comma-separated values to measure side by side (default: ${DEFAULT-VALUE}).")
    List<Integer> searchThreads;

    @Option(names = "--quantize", description = "int8 scalar-quantized graph search (candidates rescored exactly).")
    boolean quantize;

    @Option(names = "--max-connections", defaultValue = "32", description = "HNSW degree (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--beam-width", defaultValue = "200", description = "HNSW construction beam (default: ${DEFAULT-VALUE}).")
    int beamWidth;

    @Option(names = "--optimize", description = "Merge the index into one segment before measuring (what the bulk job's --optimize does).")
    boolean optimize;

    @Option(names = "--writers", description = "Threads writing to the index at once (default: one per core).")
    int writers = Runtime.getRuntime().availableProcessors();

    @Option(names = "--batch", defaultValue = "1000", description = "Vectors per write call; each call ends with a refresh, which "
            + "flushes a segment, as the bulk job's batches do (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--writer-buffer-mb", defaultValue = "16", description = "Lucene's writer buffer: with large batches, segments "
            + "are flushed at this size (default: ${DEFAULT-VALUE}, Lucene's and the service's).")
    double writerBufferMb;

    @Option(names = "--dir", description = "Index directory (default: a temporary one, deleted afterwards). Each write call is "
            + "committed, so a build that was stopped resumes where its last commit ended; a complete index of the same --vectors is "
            + "measured again without rebuilding it (the vectors are the same: fixed seed).")
    Path dir;

    @Option(names = "--bulk-images", description = "Instead of the vector benchmark: write this many 640x480 JPEGs, embed them plainly "
            + "(decode, then embed, in batches of 16), then index them with the bulk job; both print their rate. The model comes from "
            + "--fgclip2.* properties as for the server (default: the demo model).")
    Integer bulkImages;

    @Unmatched
    List<String> properties = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (bulkImages != null) {
            return bulk();
        }
        if (writers < 1 || batch < 1 || batch > vectors) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--writers must be at least 1 and --batch between 1 and --vectors");
        }
        Path root = dir != null ? dir : Files.createTempDirectory("fgclip2-bench-index");
        SplittableRandom random = new SplittableRandom(42);
        float[][] data = new float[vectors][];
        for (int i = 0; i < vectors; i++) {
            data[i] = unit(random);
        }
        System.out.printf(Locale.ROOT, "%d random unit vectors of %d dimensions, HNSW m=%d beam=%d, %s%n", vectors, dimensions, maxConnections, beamWidth,
                quantize ? "int8 scalar quantization + exact rescoring" : "float32");
        HnswSettings hnsw = new HnswSettings(maxConnections, beamWidth);
        long kept = keptVectors(root, hnsw);
        if (kept == vectors) {
            System.out.printf(Locale.ROOT, "measuring the index already in %s (its graph settings are those it was built with)%n", root);
        } else {
            build(root, hnsw, data, kept);
        }
        printSizes(root.resolve("bench"));
        try {
            float[][] queryVectors = new float[queries][];
            for (int q = 0; q < queries; q++) {
                queryVectors[q] = unit(random);
            }
            long exactStart = System.nanoTime();
            List<Set<String>> exact = IntStream.range(0, queries).parallel().mapToObj(q -> exactTop(data, queryVectors[q])).toList();
            System.out.printf(Locale.ROOT, "exact search (brute force, for recall): %.1f ms per query%n", (System.nanoTime() - exactStart) / 1e6 / queries);
            for (int threads : searchThreads) {
                try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, hnsw, new LuceneGalleryIndex.Tuning(threads, writerBufferMb))) {
                    for (int numCandidates : candidates) {
                        measure(index, queryVectors, exact, numCandidates, threads);
                    }
                }
            }
        } finally {
            if (dir == null) {
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(file);
                    }
                }
            }
        }
        return 0;
    }

    /** Recall@k against exact search and latency (one query at a time) at one num-candidates. */
    private void measure(LuceneGalleryIndex index, float[][] queryVectors, List<Set<String>> exact, int numCandidates, int threads) {
        // warm-up: the first queries page the graph in
        for (int q = 0; q < Math.min(50, queries); q++) {
            index.search("bench", new VectorSearch(VectorSearch.Target.IMAGES, queryVectors[q], List.of(), topK, numCandidates));
        }
        List<Double> millis = new ArrayList<>(queries);
        double found = 0;
        for (int q = 0; q < queries; q++) {
            long t = System.nanoTime();
            List<IndexHit> hits = index.search("bench", new VectorSearch(VectorSearch.Target.IMAGES, queryVectors[q], List.of(), topK, numCandidates));
            millis.add((System.nanoTime() - t) / 1e6);
            for (IndexHit hit : hits) {
                found += exact.get(q).contains(hit.id()) ? 1 : 0;
            }
        }
        Timing.Latency latency = Timing.Latency.of(millis);
        System.out.printf(Locale.ROOT, "num-candidates %d, %d search thread(s): recall@%d %.4f, query p50 %.2f ms, p99 %.2f ms (%d queries, one at a time)%n",
                numCandidates, threads, topK, found / ((double) queries * topK), latency.medianMs(), latency.p99Ms(), queries);
    }

    /** Vectors committed in a kept index under root (0 if there is none), after checking it is of the options' kind. */
    private long keptVectors(Path root, HnswSettings hnsw) {
        if (!Files.isDirectory(root.resolve("bench"))) {
            return 0;
        }
        try (LuceneGalleryIndex index = new LuceneGalleryIndex(root, hnsw, LuceneGalleryIndex.Tuning.searchThreads(1))) {
            long indexed = index.count("bench");
            CollectionSpec spec = index.describe("bench").orElseThrow();
            if (indexed > vectors || spec.quantized() != quantize || spec.dimensions() != dimensions) {
                throw new IllegalStateException("the index in " + root + " holds " + indexed + (spec.quantized() ? " quantized " : " float32 ")
                        + spec.dimensions() + "-d vectors, not what the options ask for");
            }
            return indexed;
        }
    }

    /** Writes the vectors not yet committed from --writers threads in calls of --batch, commits, then lets the merges settle. */
    private void build(Path root, HnswSettings hnsw, float[][] data, long kept) throws Exception {
        System.out.printf(Locale.ROOT, "writing: %d threads, %d vectors per call, writer buffer %.0f MB%s%n", writers, batch, writerBufferMb,
                kept > 0 ? ", resuming after the " + kept + " vectors committed in " + root : "");
        try (LuceneGalleryIndex writer = new LuceneGalleryIndex(root, hnsw, new LuceneGalleryIndex.Tuning(1, writerBufferMb))) {
            if (kept == 0) {
                writer.create(new CollectionSpec("bench", "random", "bench", "fp32", dimensions, Map.of(), quantize));
            }
            long start = System.nanoTime();
            ExecutorService threads = Executors.newFixedThreadPool(writers);
            try {
                write(writer, data, threads, start);
            } finally {
                threads.shutdownNow();
            }
            writer.commit("bench");
            System.out.printf(Locale.ROOT, "indexing: %.1f s (%.0f vectors/s) to a commit%n", (System.nanoTime() - start) / 1e9,
                    (vectors - kept) / ((System.nanoTime() - start) / 1e9));
            if (optimize) {
                long mergeStart = System.nanoTime();
                writer.optimize("bench");
                System.out.printf(Locale.ROOT, "optimize (merge into one segment): %.1f s%n", (System.nanoTime() - mergeStart) / 1e9);
            }
            writer.close(); // waits for the background merges: sizes and latency below are of the settled index
            System.out.printf(Locale.ROOT, "indexing with merges settled: %.1f s%n", (System.nanoTime() - start) / 1e9);
        }
    }

    /** Hands the batches out to the writer threads in order; returns when all are written (or throws the first failure). */
    private void write(LuceneGalleryIndex writer, float[][] data, ExecutorService threads, long start) throws Exception {
        AtomicInteger nextBatch = new AtomicInteger();
        AtomicInteger written = new AtomicInteger();
        int batches = (int) ((vectors + (long) batch - 1) / batch);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < writers; t++) {
            done.add(threads.submit(() -> {
                for (int b = nextBatch.getAndIncrement(); b < batches; b = nextBatch.getAndIncrement()) {
                    List<String> ids = IntStream.range(b * batch, (int) Math.min(vectors, (long) (b + 1) * batch)).mapToObj(Integer::toString).toList();
                    Set<String> committed = dir == null ? Set.of() : writer.present("bench", ids);
                    List<IndexItem> items = new ArrayList<>(batch);
                    for (String id : ids) {
                        if (!committed.contains(id)) {
                            items.add(new IndexItem(id, Metadata.EMPTY, data[Integer.parseInt(id)], List.of()));
                        }
                    }
                    if (items.isEmpty()) {
                        continue;
                    }
                    writer.upsert("bench", items);
                    if (dir != null) {
                        writer.commit("bench"); // a kept index survives a stopped build up to its last call
                    }
                    int before = written.getAndAdd(items.size());
                    if ((before + items.size()) / 100_000 > before / 100_000) {
                        System.out.printf(Locale.ROOT, "  %d indexed, %.0f s%n", before + items.size(), (System.nanoTime() - start) / 1e9);
                    }
                }
                return null;
            }));
        }
        for (Future<?> writing : done) {
            writing.get();
        }
    }

    /** Plain embedding of a folder, then the bulk job over the same folder, one after the other in this JVM. */
    private int bulk() throws Exception {
        Path work = Files.createTempDirectory("fgclip2-bench-bulk");
        Path folder = Files.createDirectories(work.resolve("images"));
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < bulkImages; i++) {
            java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(640, 480, java.awt.image.BufferedImage.TYPE_INT_RGB);
            int base = random.nextInt(1 << 24);
            for (int y = 0; y < 480; y++) {
                for (int x = 0; x < 640; x++) {
                    image.setRGB(x, y, base + x * 3 + y * 517 + random.nextInt(32));
                }
            }
            javax.imageio.ImageIO.write(image, "jpg", folder.resolve(String.format(Locale.ROOT, "%05d.jpg", i)).toFile());
        }
        List<String> model = new ArrayList<>(properties);
        model.add("--fgclip2.index.dir=" + work.resolve("index"));
        List<Path> files;
        try (Stream<Path> listed = Files.list(folder)) {
            files = listed.sorted().toList();
        }
        try (OfflinePipeline offline = new OfflinePipeline(OfflinePipeline.properties(model))) {
            Embeddings embeddings = new Embeddings(offline.pipeline);
            embeddings.images("images", List.of(new ImageInput(Files.readAllBytes(files.get(0)), "/images/0")), null, true); // warm-up
            long start = System.nanoTime();
            for (int from = 0; from < files.size(); from += 16) {
                List<ImageInput> batch = new ArrayList<>();
                for (Path file : files.subList(from, Math.min(files.size(), from + 16))) {
                    batch.add(new ImageInput(Files.readAllBytes(file), file.toString()));
                }
                embeddings.images("images", batch, null, true);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "plain embedding (read + decode, then embed, 16 per call): %d images in %.1f s, %.2f img/s (model %s)%n",
                    files.size(), seconds, files.size() / seconds, offline.files.id());
        }
        List<String> job = new ArrayList<>(List.of("--folder", folder.toString(), "--collection", "bench"));
        job.addAll(model);
        int exit = new CommandLine(new BulkIndexCommand()).execute(job.toArray(String[]::new));
        try (Stream<Path> all = Files.walk(work)) {
            for (Path file : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
        return exit;
    }

    private Set<String> exactTop(float[][] data, float[] query) {
        // a min-heap of the best topK so far: a million vectors need no sort of a million scores
        PriorityQueue<double[]> best = new PriorityQueue<>(Comparator.comparingDouble((double[] scored) -> scored[0]));
        for (int i = 0; i < data.length; i++) {
            double score = Scoring.dot(data[i], query);
            if (best.size() < topK) {
                best.add(new double[] {score, i});
            } else if (score > best.peek()[0]) {
                best.poll();
                best.add(new double[] {score, i});
            }
        }
        Set<String> ids = new HashSet<>();
        best.forEach(scored -> ids.add(Integer.toString((int) scored[1])));
        return ids;
    }

    /** Bytes of the committed index by file kind (.vec raw floats, .vex HNSW graph, .veq quantized), and per million vectors. */
    private void printSizes(Path index) throws IOException {
        Map<String, Long> bytes = new TreeMap<>();
        try (Stream<Path> files = Files.list(index)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String name = file.getFileName().toString();
                String kind = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : name;
                bytes.merge(kind, Files.size(file), Long::sum);
            }
        }
        long total = bytes.values().stream().mapToLong(Long::longValue).sum();
        // each segment has its own graph, searched with num-candidates: the count explains latency and recall
        System.out.printf(Locale.ROOT, "index files: %.1f MB in total, %.0f MB per million vectors, %d segments%n", total / 1e6,
                total / 1e6 * 1e6 / vectors, countSegments(index));
        bytes.forEach((kind, size) -> {
            if (size > 1_000_000) {
                System.out.printf(Locale.ROOT, "  .%-5s %8.1f MB  %7.1f MB per million vectors%n", kind, size / 1e6, size / 1e6 * 1e6 / vectors);
            }
        });
    }

    private static long countSegments(Path index) throws IOException {
        try (Stream<Path> files = Files.list(index)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".si")).count();
        }
    }

    private float[] unit(SplittableRandom random) {
        float[] v = new float[dimensions];
        double norm = 0;
        for (int d = 0; d < dimensions; d++) {
            v[d] = (float) random.nextGaussian();
            norm += v[d] * v[d];
        }
        float inverse = (float) (1 / Math.sqrt(norm));
        for (int d = 0; d < dimensions; d++) {
            v[d] *= inverse;
        }
        return v;
    }
}
