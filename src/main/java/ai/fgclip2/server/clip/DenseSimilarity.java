package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.Admission;
import ai.fgclip2.server.pipeline.ImageEncoder;
import ai.fgclip2.server.pipeline.TextEncoder.EncodedText;
import ai.fgclip2.server.pipeline.image.PreprocessedImage;
import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Where a phrase is: the cosine of every dense-map cell with box-walk text, one [rows][cols] map per text. */
public final class DenseSimilarity {

    public record Command(ImageInput image, List<String> texts, Integer maxNumPatches) {
    }

    /** @param similarity [rows][cols] cosines, row-major over the grid of the resized image */
    public record TextMap(String text, float[][] similarity) {
    }

    /**
     * @param image    the preprocessed image the grid belongs to (its original size and resized pixels)
     * @param original the decoded image as sent, to draw heatmaps over (null from {@link #similarity}); it holds its
     *                 decoding room until closed, so that drawing over it is within the room too
     */
    public record Maps(PreprocessedImage image, ImageEncoder.DecodedImage original, List<TextMap> maps) implements AutoCloseable {
        @Override
        public void close() {
            if (original != null) {
                original.close();
            }
        }
    }

    private final ClipPipeline pipeline;

    public DenseSimilarity(ClipPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** The maps alone: the original pixels (and their decoding room) are let go once the image is resized. */
    public Maps similarity(Command command) {
        List<String> texts = texts(command);
        Integer budget = pipeline.checks().maxNumPatches(command.maxNumPatches());
        PreprocessedImage prepared = pipeline.preprocess(command.image(), budget);
        return new Maps(prepared, null, maps(prepared, texts));
    }

    /** The maps and the original to draw them over, which keeps its decoding room until the Maps are closed. */
    public Maps withOriginal(Command command) {
        List<String> texts = texts(command);
        Integer budget = pipeline.checks().maxNumPatches(command.maxNumPatches());
        ImageEncoder.DecodedImage decoded = pipeline.decode(command.image(), budget);
        try {
            PreprocessedImage prepared = pipeline.preprocess(decoded.image(), budget);
            return new Maps(prepared, decoded, maps(prepared, texts));
        } catch (RuntimeException | Error e) {
            decoded.close();
            throw e;
        }
    }

    private List<String> texts(Command command) {
        InputChecks checks = pipeline.checks();
        return checks.texts(command.texts(), "texts", checks.limits().maxDenseTexts());
    }

    private List<TextMap> maps(PreprocessedImage prepared, List<String> texts) {
        // the region graph computes the dense map; one full-image box is its cheapest valid input
        float[][] fullImage = {{0, 0, prepared.originalWidth(), prepared.originalHeight()}};
        float[] dense;
        List<EncodedText> encoded;
        try (Admission admission = pipeline.admit(texts.size(), 1)) {
            CompletableFuture<List<EncodedText>> textFuture = pipeline.texts().encode(texts, TextWalk.BOX, admission);
            dense = Await.result(pipeline.encodeRegions(new ClipPipeline.BoxedImage(prepared, fullImage), admission), admission).dense();
            encoded = Await.result(textFuture, admission);
        }
        int rows = prepared.grid().rows();
        int cols = prepared.grid().cols();
        int hidden = dense.length / (rows * cols);
        List<TextMap> maps = new ArrayList<>(texts.size());
        float[] cell = new float[hidden];
        for (int t = 0; t < texts.size(); t++) {
            float[] textUnit = Scoring.normalize(encoded.get(t).embedding());
            float[][] map = new float[rows][cols];
            for (int p = 0; p < rows * cols; p++) {
                System.arraycopy(dense, p * hidden, cell, 0, hidden);
                map[p / cols][p % cols] = (float) Scoring.cosine(cell, textUnit);
            }
            maps.add(new TextMap(texts.get(t), map));
        }
        return maps;
    }
}
