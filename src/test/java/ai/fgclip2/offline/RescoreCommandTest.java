package ai.fgclip2.offline;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eFixture;
import ai.fgclip2.server.ServerTestSupport;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The offline commands end to end on the e2e fixture model: a vocabulary file built by {@code vocabulary}, then
 * {@code rescore} on a small LVIS-format results file: valid results for the readable images, the unreadable one
 * counted and skipped, and a re-run after a kill (a journal cut mid-line) redoing only the unfinished image.
 */
class RescoreCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final E2eFixture FIXTURE = E2eFixture.load();

    @Test
    @SuppressWarnings("unchecked")
    void rescoresAnLvisResultsFileResumesAfterAKillAndSkipsAnUnreadableImage() throws Exception {
        Path work = Files.createTempDirectory("fgclip2-offline");
        Path checkpoint = FIXTURE.checkpointCopy(ServerTestSupport.SHARED_CACHE.resolve("e2e-checkpoint-offline"));
        Path cache = ServerTestSupport.SHARED_CACHE.resolve("exports");
        List<String> labels = new ArrayList<>();
        FIXTURE.cases().path("rescore").get(0).path("vocabulary").forEach(l -> labels.add(l.asText()));
        Files.write(work.resolve("labels.txt"), labels);
        String[] model = {"--model-dir", checkpoint.toString(), "--cache-dir", cache.toString(), "--provider", "cpu"};

        Path vocabularyFile = work.resolve("offline-test.vocab");
        assertThat(run(new VocabularyCommand(), model, "--labels-file", work.resolve("labels.txt").toString(), "--name", "offline-test",
                "--templates-file", write(work.resolve("templates.txt"), "a photo of a {}."), "--out", vocabularyFile.toString())).isZero();
        assertThat(vocabularyFile).exists();

        Path images = Files.createDirectories(work.resolve("images/val2017"));
        Files.copy(FIXTURE.directory().resolve("images/kitchen_640x427.png"), images.resolve("kitchen.png"));
        Files.copy(FIXTURE.directory().resolve("images/poster_300x450.png"), images.resolve("poster.png"));
        Files.write(images.resolve("broken.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        List<Map<String, Object>> categories = new ArrayList<>();
        for (int c = 0; c < labels.size(); c++) {
            categories.add(Map.of("id", 100 + c, "name", labels.get(c).replace(' ', '_')));
        }
        // LVIS v1 names images by coco_url only
        List<Map<String, Object>> imageList = List.of(Map.of("id", 1, "coco_url", "http://images.cocodataset.org/val2017/kitchen.png"),
                Map.of("id", 2, "coco_url", "http://images.cocodataset.org/val2017/poster.png"),
                Map.of("id", 3, "coco_url", "http://images.cocodataset.org/val2017/broken.jpg"));
        Path annotations = work.resolve("lvis_v1_val.json");
        JSON.writeValue(annotations.toFile(), Map.of("images", imageList, "categories", categories, "annotations", List.of()));
        List<Map<String, Object>> results = new ArrayList<>();
        for (int imageId = 1; imageId <= 3; imageId++) {
            for (int d = 0; d < 4; d++) {
                results.add(Map.of("image_id", imageId, "category_id", 100 + d, "bbox", List.of(10.0 + d, 20.0, 100.0, 80.0 + d), "score", 0.2 + 0.1 * d));
            }
        }
        Path detections = work.resolve("llmdet_results.json");
        JSON.writeValue(detections.toFile(), results);
        Path out = work.resolve("fused_results.json");
        String[] job = {"--detections", detections.toString(), "--annotations", annotations.toString(), "--images", work.resolve("images").toString(),
                "--out", out.toString(), "--vocabulary-file", vocabularyFile.toString(), "--parallel", "1"};

        assertThat(run(new RescoreCommand(), model, job)).as("one image failed").isEqualTo(3);
        List<Map<String, Object>> fused = JSON.readValue(out.toFile(), List.class);
        assertThat(fused).hasSize(8);
        for (Map<String, Object> entry : fused) {
            assertThat(entry.keySet()).containsExactlyInAnyOrder("image_id", "category_id", "bbox", "score");
            assertThat(((Number) entry.get("image_id")).intValue()).isIn(1, 2);
            assertThat(((Number) entry.get("category_id")).intValue()).isBetween(100, 103);
            assertThat(((Number) entry.get("score")).doubleValue()).isBetween(0.0, 1.0);
            assertThat((List<Object>) entry.get("bbox")).hasSize(4);
        }

        // a kill half-way: the first image done (its scores marked to see that it is not redone), the second cut mid-line
        Path journal = Path.of(out + ".jsonl");
        List<String> lines = Files.readAllLines(journal, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2);
        Map<String, Object> firstImage = JSON.readValue(lines.get(0), LinkedHashMap.class);
        ((List<Map<String, Object>>) firstImage.get("results")).forEach(r -> r.put("score", 0.125));
        Files.writeString(journal, JSON.writeValueAsString(firstImage) + "\n" + lines.get(1).substring(0, lines.get(1).length() / 2), StandardCharsets.UTF_8);

        assertThat(run(new RescoreCommand(), model, job)).isEqualTo(3);
        List<Map<String, Object>> resumed = JSON.readValue(out.toFile(), List.class);
        assertThat(resumed).hasSize(8);
        Object doneImage = firstImage.get("image_id");
        assertThat(resumed.stream().filter(r -> r.get("image_id").equals(doneImage)).map(r -> r.get("score")))
                .as("the finished image was skipped").containsOnly(0.125);
        assertThat(resumed.stream().filter(r -> !r.get("image_id").equals(doneImage)).map(r -> ((Number) r.get("score")).doubleValue()))
                .as("the cut image was redone").hasSize(4).doesNotContain(0.125);
        assertThat(Files.readAllLines(journal)).hasSize(2);
    }

    private static String write(Path file, String line) throws Exception {
        Files.writeString(file, line + "\n");
        return file.toString();
    }

    private static int run(Object command, String[] model, String... args) {
        String[] all = new String[model.length + args.length];
        System.arraycopy(model, 0, all, 0, model.length);
        System.arraycopy(args, 0, all, model.length, args.length);
        return new CommandLine(command).execute(all);
    }
}
