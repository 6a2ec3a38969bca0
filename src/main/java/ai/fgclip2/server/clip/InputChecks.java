package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.text.TextWalk;
import java.util.List;
import java.util.Locale;

/** Validation shared by the use cases: limits, texts, boxes, walks. Each failure names its item by pointer. */
public final class InputChecks {
    private final Limits limits;

    public InputChecks(Limits limits) {
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    public <T> List<T> items(List<T> items, String field, int max) {
        if (items == null || items.isEmpty()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + field + "' must be a non-empty array.", "/" + field);
        }
        if (items.size() > max) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "'" + field + "' has " + items.size() + " items; the limit is " + max + ".", "/" + field);
        }
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) == null) {
                throw new ProblemException(Problem.INVALID_REQUEST, "'" + field + "[" + i + "]' is null.", "/" + field + "/" + i);
            }
        }
        return items;
    }

    public List<String> texts(List<String> texts, String field, int max) {
        items(texts, field, max);
        for (int i = 0; i < texts.size(); i++) {
            text(texts.get(i), "/" + field + "/" + i);
        }
        return texts;
    }

    public String text(String text, String pointer) {
        if (text == null) {
            throw new ProblemException(Problem.INVALID_REQUEST, "A text is required at " + pointer + ".", pointer);
        }
        if (text.length() > limits.maxTextChars()) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "The text at " + pointer + " has " + text.length()
                    + " characters; the limit is " + limits.maxTextChars() + ".", pointer);
        }
        return text;
    }

    public TextWalk walk(String walk) {
        if (walk == null) {
            return TextWalk.AUTO;
        }
        try {
            return TextWalk.valueOf(walk.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'walk' must be one of auto, short, long, box; got '" + walk + "'.", "/walk");
        }
    }

    public Integer maxNumPatches(Integer requested) {
        if (requested != null && (requested < 1 || requested > limits.maxNumPatches())) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'maxNumPatches' must be between 1 and " + limits.maxNumPatches() + "; got " + requested + ".", "/maxNumPatches");
        }
        return requested;
    }

    /**
     * The work a request's images buy so far: declared pixels (decoding and resizing cost) and patches (vision
     * tower cost), summed over the images up to the one at {@code pointer}.
     */
    public void requestWork(long pixels, long patches, String pointer) {
        if (pixels > limits.maxRequestPixels()) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "The images up to " + pointer + " declare " + pixels
                    + " pixels in total; a request may decode at most " + limits.maxRequestPixels() + ".", pointer);
        }
        if (patches > limits.maxRequestPatches()) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, "The images up to " + pointer + " need " + patches
                    + " patches in total; a request may encode at most " + limits.maxRequestPatches() + ".", pointer);
        }
    }

    public int topK(Integer topK, int available) {
        if (topK == null) {
            return available;
        }
        if (topK < 1) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'topK' must be at least 1; got " + topK + ".", "/topK");
        }
        return Math.min(topK, available);
    }

    /**
     * A box [x1, y1, x2, y2] in original pixels: finite, positive area, not fully outside the image; a box partly
     * outside is clipped to it.
     */
    public float[] box(List<Double> box, int width, int height, String pointer) {
        if (box == null || box.size() != 4) {
            throw new ProblemException(Problem.INVALID_BOX, "A box is [x1, y1, x2, y2] (four numbers) at " + pointer + ".", pointer);
        }
        float[] v = new float[4];
        for (int i = 0; i < 4; i++) {
            Double value = box.get(i);
            if (value == null || !Double.isFinite(value) || !Float.isFinite(value.floatValue())) {
                throw new ProblemException(Problem.INVALID_BOX, "The box at " + pointer + " has a missing or non-finite coordinate.", pointer);
            }
            v[i] = value.floatValue();
        }
        // compared in float, as the region graph sees them: [10, 10, 10.0000001, 10.0000001] has no area there
        if (v[2] <= v[0] || v[3] <= v[1]) {
            throw new ProblemException(Problem.INVALID_BOX, "The box at " + pointer + " has zero or negative area (need x2 > x1 and y2 > y1).", pointer);
        }
        float x1 = Math.max(0, v[0]);
        float y1 = Math.max(0, v[1]);
        float x2 = Math.min(width, v[2]);
        float y2 = Math.min(height, v[3]);
        if (x2 <= x1 || y2 <= y1) {
            throw new ProblemException(Problem.INVALID_BOX, "The box at " + pointer + " lies outside the " + width + "x" + height + " image.", pointer);
        }
        return new float[] {x1, y1, x2, y2};
    }

    /** Templates for {@code labelCount} labels; every label is embedded once per template. */
    public List<String> templates(List<String> templates, int labelCount) {
        if (templates == null) {
            return null;
        }
        texts(templates, "templates", limits.maxLabels());
        if ((long) templates.size() * labelCount > limits.maxPrompts()) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, labelCount + " labels x " + templates.size() + " templates = "
                    + (long) templates.size() * labelCount + " prompts; the limit is " + limits.maxPrompts() + ".", "/templates");
        }
        for (int i = 0; i < templates.size(); i++) {
            if (!templates.get(i).contains("{}")) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Template " + i + " has no '{}' placeholder for the label.", "/templates/" + i);
            }
        }
        return templates;
    }
}
