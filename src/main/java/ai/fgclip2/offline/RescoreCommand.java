package ai.fgclip2.offline;

import ai.fgclip2.server.clip.DetectionRescorer;
import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.ProblemException;
import ai.fgclip2.server.clip.Vocabularies;
import ai.fgclip2.server.clip.Vocabulary;
import ai.fgclip2.server.clip.VocabularyBuilder;
import ai.fgclip2.server.pipeline.text.TextWalk;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rescore", mixinStandardHelpOptions = true,
        description = "Rescores a detector's results file offline with the same engine and use case as the server (no HTTP): JSON Lines of "
                + "mmdetection per-image results with each image's path, or a COCO/LVIS results file with the dataset's annotation file. Writes "
                + "the fused results in the same format. Resumable: a re-run skips the images already done (kept in the journal <out>.jsonl "
                + "for COCO/LVIS). A failing image is reported and counted, never fatal.")
public final class RescoreCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    OfflineModel model;

    @Option(names = "--detections", required = true, description = "Detector results: .jsonl (one image per line: {\"image\": path, \"labels\", "
            + "\"scores\", \"bboxes\"}) or a COCO/LVIS results .json (with --annotations).")
    Path detections;

    @Option(names = "--annotations", description = "The dataset's COCO/LVIS annotation file (image file names, category ids); selects the COCO/LVIS format.")
    Path annotations;

    @Option(names = "--images", required = true, description = "The image folder the paths / file names are relative to.")
    Path images;

    @Option(names = "--out", required = true, description = "The fused results, in the input's format.")
    Path out;

    @Option(names = "--vocabulary", description = "A registered vocabulary in <cache dir>/vocabularies (lvis and coco are built there first if missing).")
    String vocabulary;

    @Option(names = "--vocabulary-file", description = "A vocabulary file built by the 'vocabulary' command (must match the model revision and precision).")
    Path vocabularyFile;

    @Option(names = "--alpha", defaultValue = "0.5", description = "Exponent of the detector score (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--beta", defaultValue = "0.5", description = "Exponent of the alignment probability (default: ${DEFAULT-VALUE}).")
    double beta;

    @Option(names = "--top-k", description = "Keep the best K detections per image by fused score (300 is the LVIS convention).")
    Integer topK;

    @Option(names = "--nms-iou", description = "Class-wise NMS on fused scores with this IoU threshold.")
    Double nmsIou;

    @Option(names = "--score-threshold", description = "Drop detections whose fused score is below this.")
    Double scoreThreshold;

    @Option(names = "--relabel", description = "Replace each label by the vocabulary's best class for its box.")
    boolean relabel;

    @Option(names = "--max-num-patches", description = "Patch budget per image (default: the official data-adaptive rule).")
    Integer maxNumPatches;

    @Option(names = "--parallel", defaultValue = "2", description = "Images in flight: one decodes while another runs inference (default: ${DEFAULT-VALUE}).")
    int parallel;

    /** Vocabulary index -> the annotation file's category id (COCO/LVIS format). */
    private final Map<Integer, Long> categoryOf = new HashMap<>();

    /** One image's work: its key in the journal, its file, its detections in the mmdetection shape. */
    private record ImageJob(String key, Path file, Map<String, Object> detections, Object id) {
    }

    @Override
    public Integer call() throws Exception {
        if ((vocabulary == null) == (vocabularyFile == null)) {
            System.err.println("give exactly one of --vocabulary and --vocabulary-file");
            return 2;
        }
        try (OfflineModel.Loaded loaded = model.load()) {
            Vocabularies vocabularies = loaded.services().vocabularies();
            Vocabulary vocab = resolveVocabulary(vocabularies);
            boolean coco = annotations != null;
            List<ImageJob> jobs = coco ? cocoJobs(vocab) : jsonlJobs();
            Path journal = coco ? Path.of(out + ".jsonl") : out;
            Set<String> done = cleanJournal(journal);
            List<ImageJob> todo = jobs.stream().filter(j -> !done.contains(j.key())).toList();
            System.err.printf("%d images, %d already done, %d to rescore against '%s' (%d classes)%n", jobs.size(), jobs.size() - todo.size(), todo.size(),
                    vocab.name(), vocab.labels().size());
            Stats stats = run(loaded, vocab, todo, journal, coco);
            if (coco) {
                writeCocoResults(journal);
            }
            System.out.printf(Locale.ROOT, "summary: %d images (%d skipped as done, %d rescored, %d failed), %d detections in, %d out, %.1f s, %.2f images/s -> %s%n",
                    jobs.size(), jobs.size() - todo.size(), stats.rescored.get(), stats.failed.get(), stats.detectionsIn.get(), stats.detectionsOut.get(),
                    stats.seconds, stats.rescored.get() / Math.max(stats.seconds, 1e-9), out);
            return stats.failed.get() == 0 ? 0 : 3;
        }
    }

    private Vocabulary resolveVocabulary(Vocabularies vocabularies) throws InterruptedException {
        if (vocabularyFile != null) {
            return vocabularies.require(vocabularies.install(vocabularyFile).name(), TextWalk.BOX, "--vocabulary-file");
        }
        Vocabularies.Status status = vocabularies.status(vocabulary);
        if ((status == null || status.state() != Vocabularies.State.READY) && VocabularyBuilder.BUILTINS.contains(vocabulary)) {
            System.err.printf("building the built-in vocabulary '%s' into %s (once)%n", vocabulary, model.cacheDir.resolve("vocabularies"));
            status = vocabularies.create(new Vocabularies.Create(vocabulary, null, null, null, vocabulary));
            Progress progress = new Progress("labels", status.classes());
            while (vocabularies.status(vocabulary).state() == Vocabularies.State.QUEUED || vocabularies.status(vocabulary).state() == Vocabularies.State.BUILDING) {
                progress.update(vocabularies.status(vocabulary).progress().labelsDone(), 0, false);
                Thread.sleep(200);
            }
            progress.update(vocabularies.status(vocabulary).progress().labelsDone(), 0, true);
        }
        return vocabularies.require(vocabulary, TextWalk.BOX, "--vocabulary");
    }

    private List<ImageJob> jsonlJobs() throws IOException {
        List<ImageJob> jobs = new ArrayList<>();
        int line = 0;
        for (String text : Files.readAllLines(detections, StandardCharsets.UTF_8)) {
            line++;
            if (text.isBlank()) {
                continue;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> row = JSON.readValue(text, LinkedHashMap.class);
            Object image = row.remove("image");
            if (!(image instanceof String path)) {
                throw new IllegalArgumentException(detections + " line " + line + " has no \"image\" path");
            }
            jobs.add(new ImageJob(path, images.resolve(path), row, null));
        }
        return jobs;
    }

    /** COCO/LVIS results grouped per image; category ids become the vocabulary's label indices. */
    @SuppressWarnings("unchecked")
    private List<ImageJob> cocoJobs(Vocabulary vocab) throws IOException {
        Map<String, Object> dataset = JSON.readValue(annotations.toFile(), Map.class);
        Map<Number, String> files = new HashMap<>();
        for (Map<String, Object> image : (List<Map<String, Object>>) dataset.get("images")) {
            files.put(((Number) image.get("id")).longValue(), fileName(image));
        }
        Map<Long, Integer> labelOf = new HashMap<>();
        for (Map<String, Object> category : (List<Map<String, Object>>) dataset.get("categories")) {
            long id = ((Number) category.get("id")).longValue();
            int index = vocab.indexOfCategory((int) id);
            if (index < 0) {
                index = vocab.indexOf(((String) category.get("name")).replace('_', ' ').toLowerCase(Locale.ROOT));
            }
            labelOf.put(id, index);
            if (index >= 0) {
                categoryOf.putIfAbsent(index, id);
            }
        }
        Map<Long, Map<String, Object>> perImage = new LinkedHashMap<>();
        for (Map<String, Object> result : (List<Map<String, Object>>) JSON.readValue(detections.toFile(), List.class)) {
            long imageId = ((Number) result.get("image_id")).longValue();
            long categoryId = ((Number) result.get("category_id")).longValue();
            Integer label = labelOf.get(categoryId);
            if (label == null || label < 0) {
                throw new IllegalArgumentException("category_id " + categoryId + " is not in vocabulary '" + vocab.name() + "'");
            }
            Map<String, Object> columns = perImage.computeIfAbsent(imageId, id -> {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("labels", new ArrayList<>());
                c.put("scores", new ArrayList<>());
                c.put("bboxes", new ArrayList<>());
                return c;
            });
            ((List<Object>) columns.get("labels")).add(label);
            ((List<Object>) columns.get("scores")).add(result.get("score"));
            ((List<Object>) columns.get("bboxes")).add(result.get("bbox"));
        }
        List<ImageJob> jobs = new ArrayList<>();
        perImage.forEach((id, columns) -> {
            String file = files.get(id);
            jobs.add(new ImageJob(Long.toString(id), file == null ? null : images.resolve(file), columns, id));
        });
        return jobs;
    }

    /** COCO has file_name; LVIS v1 only coco_url, whose last two segments are COCO's folder layout (val2017/xxx.jpg). */
    private String fileName(Map<String, Object> image) {
        if (image.get("file_name") instanceof String name) {
            return name;
        }
        String url = (String) image.get("coco_url");
        String[] parts = url.split("/");
        String twoLevels = parts[parts.length - 2] + "/" + parts[parts.length - 1];
        return Files.exists(images.resolve(twoLevels)) ? twoLevels : parts[parts.length - 1];
    }

    /** The keys already in the journal; a line cut short by a kill is dropped (the journal is rewritten without it). */
    private static Set<String> cleanJournal(Path journal) throws IOException {
        Set<String> done = new HashSet<>();
        if (!Files.exists(journal)) {
            return done;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
            try {
                Map<?, ?> row = JSON.readValue(line, Map.class);
                Object key = row.containsKey("image_id") ? row.get("image_id").toString() : row.get("image");
                if (key != null) {
                    done.add(key.toString());
                    kept.add(line);
                }
            } catch (IOException e) {
                // a partial last line from a killed run: that image is redone
            }
        }
        Path temporary = journal.resolveSibling(journal.getFileName() + ".tmp");
        Files.write(temporary, kept, StandardCharsets.UTF_8);
        Files.move(temporary, journal, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return done;
    }

    private static final class Stats {
        final AtomicInteger rescored = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicLong detectionsIn = new AtomicLong();
        final AtomicLong detectionsOut = new AtomicLong();
        double seconds;
    }

    private Stats run(OfflineModel.Loaded loaded, Vocabulary vocab, List<ImageJob> todo, Path journal, boolean coco) throws Exception {
        DetectionRescorer rescorer = loaded.services().detectionRescorer();
        DetectionRescorer.Options options = new DetectionRescorer.Options(alpha, beta, null, relabel, "reject", coco ? "xywh" : null, false, true,
                scoreThreshold, topK, nmsIou);
        Stats stats = new Stats();
        Progress progress = new Progress("images", todo.size());
        ExecutorService workers = Executors.newFixedThreadPool(Math.max(1, parallel));
        Semaphore inFlight = new Semaphore(Math.max(1, parallel) * 2);
        try (BufferedWriter writer = Files.newBufferedWriter(journal, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (ImageJob job : todo) {
                inFlight.acquire();
                workers.submit(() -> {
                    try {
                        if (job.file() == null) {
                            throw new IOException("the annotation file has no image with id " + job.key());
                        }
                        byte[] bytes = Files.readAllBytes(job.file());
                        DetectionRescorer.Result result = rescorer.rescore(new DetectionRescorer.Command(new ImageInput(bytes, job.file().toString()),
                                job.detections(), DetectionRescorer.VocabularyRef.named(vocab.name()), null, options, maxNumPatches));
                        String line = JSON.writeValueAsString(coco ? cocoLine(job, result) : jsonlLine(job, result));
                        synchronized (writer) {
                            writer.write(line);
                            writer.newLine();
                            writer.flush(); // a finished image survives a kill
                        }
                        stats.rescored.incrementAndGet();
                        stats.detectionsIn.addAndGet(result.detections());
                        stats.detectionsOut.addAndGet(result.rows().size());
                    } catch (ProblemException e) {
                        stats.failed.incrementAndGet();
                        System.err.printf("%nimage %s failed: %s%s%n", job.key(), e.getMessage(), e.pointer() == null ? "" : " (at " + e.pointer() + ")");
                    } catch (Exception e) {
                        stats.failed.incrementAndGet();
                        System.err.printf("%nimage %s failed: %s%n", job.key(), e);
                    } finally {
                        inFlight.release();
                        progress.update(stats.rescored.get() + stats.failed.get(), stats.failed.get(), false);
                    }
                });
            }
            workers.shutdown();
            workers.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
        }
        progress.update(stats.rescored.get() + stats.failed.get(), stats.failed.get(), true);
        stats.seconds = progress.elapsedSeconds();
        return stats;
    }

    /** The mmdetection shape again, rows by fused score: scores are fused, the detector's and the alignment probabilities beside them. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> jsonlLine(ImageJob job, DetectionRescorer.Result result) {
        List<Object> boxes = (List<Object>) job.detections().get("bboxes");
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("image", job.key());
        line.put("labels", result.rows().stream().map(DetectionRescorer.Rescored::labelIndex).toList());
        line.put("scores", result.rows().stream().map(DetectionRescorer.Rescored::score).toList());
        line.put("bboxes", result.rows().stream().map(r -> boxes.get(r.index())).toList());
        line.put("detector_scores", result.rows().stream().map(DetectionRescorer.Rescored::detectorScore).toList());
        line.put("align_probabilities", result.rows().stream().map(DetectionRescorer.Rescored::alignProbability).toList());
        return line;
    }

    /** Rows whose class (after --relabel) is not a category of the annotation file are left out. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> cocoLine(ImageJob job, DetectionRescorer.Result result) {
        List<Object> boxes = (List<Object>) job.detections().get("bboxes");
        List<Map<String, Object>> results = new ArrayList<>();
        for (DetectionRescorer.Rescored row : result.rows()) {
            Long category = categoryOf.get(row.labelIndex());
            if (category == null) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("image_id", job.id());
            entry.put("category_id", category);
            entry.put("bbox", boxes.get(row.index()));
            entry.put("score", row.score());
            results.add(entry);
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("image_id", job.id());
        line.put("results", results);
        return line;
    }

    /** The journal's results as one COCO/LVIS results array, what the evaluators read. */
    private void writeCocoResults(Path journal) throws IOException {
        List<Object> all = new ArrayList<>();
        for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
            all.addAll((List<?>) JSON.readValue(line, Map.class).get("results"));
        }
        Path temporary = out.resolveSibling(out.getFileName() + ".tmp");
        JSON.writeValue(temporary.toFile(), all);
        Files.move(temporary, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
