package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.Problem;
import ai.fgclip2.server.clip.ProblemException;
import java.util.Base64;
import java.util.regex.Pattern;

/** Images as JSON carries them: plain base64 or a {@code data:image/...;base64,} URL. */
final class ImageStrings {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private ImageStrings() {
    }

    static ImageInput decode(String image, String pointer) {
        if (image == null) {
            throw new ProblemException(Problem.INVALID_REQUEST, "An image (base64 or data: URL) is required at " + pointer + ".", pointer);
        }
        if (image.isBlank()) {
            throw new ProblemException(Problem.INVALID_IMAGE, "The image at " + pointer + " is empty.", pointer);
        }
        String payload = image;
        if (image.startsWith("data:")) {
            int comma = image.indexOf(',');
            if (comma < 0 || !image.substring(0, comma).endsWith(";base64")) {
                throw new ProblemException(Problem.INVALID_IMAGE, "The data: URL at " + pointer + " must be base64-encoded (data:image/png;base64,...).", pointer);
            }
            payload = image.substring(comma + 1);
        } else if (image.startsWith("http://") || image.startsWith("https://")) {
            throw new ProblemException(Problem.INVALID_IMAGE, "Image URLs are not fetched; send the bytes as base64 or a data: URL (" + pointer + ").", pointer);
        }
        try {
            // line breaks are allowed, anything else outside the alphabet is an error (the MIME decoder would skip it)
            byte[] bytes = Base64.getDecoder().decode(WHITESPACE.matcher(payload).replaceAll(""));
            if (bytes.length == 0) {
                throw new ProblemException(Problem.INVALID_IMAGE, "The image at " + pointer + " is empty.", pointer);
            }
            return new ImageInput(bytes, pointer);
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.INVALID_IMAGE, "The image at " + pointer + " is not valid base64: " + e.getMessage(), pointer);
        }
    }
}
