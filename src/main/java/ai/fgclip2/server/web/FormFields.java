package ai.fgclip2.server.web;

import ai.fgclip2.server.clip.ImageInput;
import ai.fgclip2.server.clip.Problem;
import ai.fgclip2.server.clip.ProblemException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.web.multipart.MultipartFile;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Multipart form fields: uploaded image bytes, and box lists sent as JSON text. */
final class FormFields {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private FormFields() {
    }

    static ImageInput image(MultipartFile file, String pointer) {
        try {
            return new ImageInput(file.getBytes(), pointer);
        } catch (IOException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, "The upload '" + file.getOriginalFilename() + "' could not be read.");
        }
    }

    /** The {@code boxes} form field of a multipart request: a JSON array of [x1, y1, x2, y2]. */
    static List<List<Double>> parseBoxes(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            if (!root.isArray()) {
                throw new ProblemException(Problem.INVALID_REQUEST, "'boxes' must be a JSON array of [x1, y1, x2, y2].", "/boxes");
            }
            List<List<Double>> boxes = new ArrayList<>();
            for (JsonNode box : root) {
                List<Double> coordinates = new ArrayList<>();
                box.forEach(v -> coordinates.add(v.isNumber() ? v.asDouble() : null));
                boxes.add(coordinates);
            }
            return boxes;
        } catch (tools.jackson.core.JacksonException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'boxes' is not valid JSON.", "/boxes");
        }
    }
}
