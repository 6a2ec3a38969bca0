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

/** Multipart form fields: uploaded image bytes, numbers and flags as text, and box lists sent as JSON text. */
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
            for (int i = 0; i < root.size(); i++) {
                JsonNode box = root.get(i);
                if (!box.isArray()) {
                    throw new ProblemException(Problem.INVALID_REQUEST, "'boxes' must be a JSON array of [x1, y1, x2, y2].", "/boxes/" + i);
                }
                List<Double> coordinates = new ArrayList<>();
                for (int j = 0; j < box.size(); j++) {
                    JsonNode v = box.get(j);
                    if (!v.isNumber() && !v.isNull()) {
                        throw new ProblemException(Problem.INVALID_REQUEST, "The value at /boxes/" + i + "/" + j + " must be a number.", "/boxes/" + i + "/" + j);
                    }
                    coordinates.add(v.isNull() ? null : v.asDouble());
                }
                boxes.add(coordinates);
            }
            return boxes;
        } catch (tools.jackson.core.JacksonException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'boxes' is not valid JSON.", "/boxes");
        }
    }

    /** An optional integer form field: absent is null, anything but an integer is a 400 naming the field. */
    static Integer integer(String value, String name) {
        if (value == null) {
            return null;
        }
        try {
            return Integer.valueOf(value.trim());
        } catch (NumberFormatException e) {
            throw new ProblemException(Problem.INVALID_REQUEST, "The form field '" + name + "' must be an integer; got '" + shortened(value) + "'.", "/" + name);
        }
    }

    /** An optional true/false form field: absent is null, anything else is a 400 naming the field. */
    static Boolean bool(String value, String name) {
        if (value == null) {
            return null;
        }
        return switch (value.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ProblemException(Problem.INVALID_REQUEST, "The form field '" + name + "' must be true or false; got '" + shortened(value) + "'.",
                    "/" + name);
        };
    }

    private static String shortened(String value) {
        return value.length() > 40 ? value.substring(0, 40) + "..." : value;
    }
}
