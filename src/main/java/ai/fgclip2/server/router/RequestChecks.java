package ai.fgclip2.server.router;

import ai.fgclip2.server.config.Fgclip2Properties;
import ai.fgclip2.server.core.text.TextWalk;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;

/** Validation shared by the endpoints: limits, image strings, boxes, walks. Each failure names its item. */
@Component
public class RequestChecks {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private final Fgclip2Properties.Limits limits;

    public RequestChecks(Fgclip2Properties properties) {
        this.limits = properties.limits();
    }

    public Fgclip2Properties.Limits limits() {
        return limits;
    }

    public <T> List<T> items(List<T> items, String field, int max) {
        if (items == null || items.isEmpty()) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'" + field + "' must be a non-empty array.", "/" + field);
        }
        if (items.size() > max) {
            throw new ApiException(ProblemType.LIMIT_EXCEEDED, "'" + field + "' has " + items.size() + " items; the limit is " + max + ".", "/" + field);
        }
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) == null) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "'" + field + "[" + i + "]' is null.", "/" + field + "/" + i);
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
            throw new ApiException(ProblemType.INVALID_REQUEST, "A text is required at " + pointer + ".", pointer);
        }
        if (text.length() > limits.maxTextChars()) {
            throw new ApiException(ProblemType.LIMIT_EXCEEDED, "The text at " + pointer + " has " + text.length()
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
            throw new ApiException(ProblemType.INVALID_REQUEST, "'walk' must be one of auto, short, long, box; got '" + walk + "'.", "/walk");
        }
    }

    /** Image bytes from a JSON string: plain base64 or a {@code data:image/...;base64,} URL. */
    public byte[] imageBytes(String image, String pointer) {
        if (image == null || image.isBlank()) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "An image (base64 or data: URL) is required at " + pointer + ".", pointer);
        }
        String payload = image;
        if (image.startsWith("data:")) {
            int comma = image.indexOf(',');
            if (comma < 0 || !image.substring(0, comma).endsWith(";base64")) {
                throw new ApiException(ProblemType.INVALID_IMAGE, "The data: URL at " + pointer + " must be base64-encoded (data:image/png;base64,...).", pointer);
            }
            payload = image.substring(comma + 1);
        } else if (image.startsWith("http://") || image.startsWith("https://")) {
            throw new ApiException(ProblemType.INVALID_IMAGE, "Image URLs are not fetched; send the bytes as base64 or a data: URL (" + pointer + ").", pointer);
        }
        try {
            // line breaks are allowed, anything else outside the alphabet is an error (the MIME decoder would skip it)
            byte[] bytes = Base64.getDecoder().decode(WHITESPACE.matcher(payload).replaceAll(""));
            if (bytes.length == 0) {
                throw new ApiException(ProblemType.INVALID_IMAGE, "The image at " + pointer + " is empty.", pointer);
            }
            return bytes;
        } catch (IllegalArgumentException e) {
            throw new ApiException(ProblemType.INVALID_IMAGE, "The image at " + pointer + " is not valid base64: " + e.getMessage(), pointer);
        }
    }

    public Integer maxNumPatches(Integer requested) {
        if (requested != null && (requested < 1 || requested > limits.maxNumPatches())) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'maxNumPatches' must be between 1 and " + limits.maxNumPatches() + "; got " + requested + ".", "/maxNumPatches");
        }
        return requested;
    }

    public int topK(Integer topK, int available) {
        if (topK == null) {
            return available;
        }
        if (topK < 1) {
            throw new ApiException(ProblemType.INVALID_REQUEST, "'topK' must be at least 1; got " + topK + ".", "/topK");
        }
        return Math.min(topK, available);
    }

    /**
     * A box [x1, y1, x2, y2] in original pixels: finite, positive area, not fully outside the image; a box partly
     * outside is clipped to it.
     */
    public float[] box(List<Double> box, int width, int height, String pointer) {
        if (box == null || box.size() != 4) {
            throw new ApiException(ProblemType.INVALID_BOX, "A box is [x1, y1, x2, y2] (four numbers) at " + pointer + ".", pointer);
        }
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
            Double value = box.get(i);
            if (value == null || !Double.isFinite(value)) {
                throw new ApiException(ProblemType.INVALID_BOX, "The box at " + pointer + " has a missing or non-finite coordinate.", pointer);
            }
            v[i] = value;
        }
        if (v[2] <= v[0] || v[3] <= v[1]) {
            throw new ApiException(ProblemType.INVALID_BOX, "The box at " + pointer + " has zero or negative area (need x2 > x1 and y2 > y1).", pointer);
        }
        double x1 = Math.max(0, v[0]);
        double y1 = Math.max(0, v[1]);
        double x2 = Math.min(width, v[2]);
        double y2 = Math.min(height, v[3]);
        if (x2 <= x1 || y2 <= y1) {
            throw new ApiException(ProblemType.INVALID_BOX, "The box at " + pointer + " lies outside the " + width + "x" + height + " image.", pointer);
        }
        return new float[] {(float) x1, (float) y1, (float) x2, (float) y2};
    }

    /** Templates for {@code labelCount} labels; every label is embedded once per template. */
    public List<String> templates(List<String> templates, int labelCount) {
        if (templates == null) {
            return null;
        }
        texts(templates, "templates", limits.maxLabels());
        if ((long) templates.size() * labelCount > limits.maxPrompts()) {
            throw new ApiException(ProblemType.LIMIT_EXCEEDED, labelCount + " labels x " + templates.size() + " templates = "
                    + (long) templates.size() * labelCount + " prompts; the limit is " + limits.maxPrompts() + ".", "/templates");
        }
        for (int i = 0; i < templates.size(); i++) {
            if (!templates.get(i).contains("{}")) {
                throw new ApiException(ProblemType.INVALID_REQUEST, "Template " + i + " has no '{}' placeholder for the label.", "/templates/" + i);
            }
        }
        return templates;
    }
}
