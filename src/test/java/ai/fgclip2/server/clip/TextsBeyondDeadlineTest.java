package ai.fgclip2.server.clip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A request whose uncached texts could not be embedded before the deadline (one minute in the kit) even at the
 * fastest rate the server has run is refused before anything is queued; a request that fits runs.
 */
class TextsBeyondDeadlineTest {
    private static final byte[] IMAGE = ClipTestKit.png(64, 48, 5);

    @Test
    void textsThatCannotFinishBeforeTheDeadlineAreRefusedAtOnce() {
        try (ClipTestKit kit = new ClipTestKit()) {
            kit.engine.textBatchMillis = 100; // 32 texts a batch: about 3 ms a text, 20,000 texts a minute
            ZeroShotClassifier classifier = new ZeroShotClassifier(kit.pipeline, kit.vocabularies);
            List<String> templates = List.of("a photo of a {}.");
            // until three full batches have run there is nothing trusted to estimate from: every request is admitted
            assertThat(kit.texts.fastestTime(65_536)).isEmpty();
            classifier.classify(new ZeroShotClassifier.Command(new ImageInput(IMAGE, "/image"), labels("first", 32), null, templates, 1, null));
            assertThat(kit.texts.fastestTime(65_536)).isEmpty();
            classifier.classify(new ZeroShotClassifier.Command(new ImageInput(IMAGE, "/image"), labels("warm", 64), null, templates, 1, null));
            assertThat(kit.texts.fastestTime(1)).isPresent();

            List<String> manyTemplates = IntStream.range(0, 32).mapToObj(t -> "template " + t + " of a {}.").toList();
            int runsBefore = kit.engine.textRuns.get();
            assertThatThrownBy(() -> classifier.classify(new ZeroShotClassifier.Command(new ImageInput(IMAGE, "/image"), labels("many", 2048),
                    null, manyTemplates, 1, null)))
                    .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.problem()).isEqualTo(Problem.LIMIT_EXCEEDED))
                    .hasMessageContaining("65536 text embeddings").hasMessageContaining("inference-deadline").hasMessageContaining("/v1/vocabularies");
            assertThat(kit.engine.textRuns.get()).as("nothing of the refused request ran").isEqualTo(runsBefore);

            List<ZeroShotClassifier.LabelScore> fits = classifier.classify(new ZeroShotClassifier.Command(new ImageInput(IMAGE, "/image"),
                    labels("fits", 96), null, templates, 1, null));
            assertThat(fits).hasSize(1);
        }
    }

    private static List<String> labels(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + " " + i).toList();
    }
}
