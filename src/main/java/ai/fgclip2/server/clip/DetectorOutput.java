package ai.fgclip2.server.clip;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Detections as detectors write them, as plain values (JSON arrays, objects, numbers, strings), parsed into
 * rows with a pointer for every field:
 * <ul>
 * <li>rows: {@code [{"box": [..], "score": s, "label": "cat" | 3}]} (this service's own shape);</li>
 * <li>mmdetection's {@code DetInferencer} per image: {@code {"labels": [int], "scores": [..], "bboxes": [[..]]}},
 *     labels as indices into the vocabulary;</li>
 * <li>transformers' {@code post_process_grounded_object_detection} per image: {@code {"scores", "boxes",
 *     "labels" | "text_labels"}}, labels as strings (or indices), boxes normalised by default.</li>
 * </ul>
 */
public final class DetectorOutput {

    public enum Shape { ROWS, MMDET, TRANSFORMERS }

    public enum BoxFormat {
        XYXY, XYWH, CXCYWH;

        /** null = xyxy */
        public static BoxFormat parse(String value) {
            if (value == null) {
                return XYXY;
            }
            try {
                return valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ProblemException(Problem.INVALID_REQUEST, "'boxFormat' must be one of xyxy, xywh, cxcywh; got '" + value + "'.", "/boxFormat");
            }
        }

        /** [x1, y1, x2, y2] of a box given in this format. */
        double[] toXyxy(double[] b) {
            return switch (this) {
                case XYXY -> b.clone();
                case XYWH -> new double[] {b[0], b[1], b[0] + b[2], b[1] + b[3]};
                case CXCYWH -> new double[] {b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2};
            };
        }
    }

    /** @param label the label as a string, or null when the detector gave an index ({@code labelIndex} >= 0) */
    public record Row(int index, double[] box, double score, String label, int labelIndex) {
    }

    /** A caller's row in this service's own shape; {@code label} is a String or an integer index. */
    public record Detection(List<Double> box, Double score, Object label) {
    }

    /** @param boxes, scores, labels the fields' names in the input (pointers are /detections/{field}/{i} for columns) */
    public record Parsed(Shape shape, List<Row> rows, String boxes, String labels) {
        public String boxPointer(int i) {
            return shape == Shape.ROWS ? "/detections/" + i + "/box" : "/detections/" + boxes + "/" + i;
        }

        public String labelPointer(int i) {
            return shape == Shape.ROWS ? "/detections/" + i + "/label" : "/detections/" + labels + "/" + i;
        }

        /** Transformers' boxes are normalised unless the caller says otherwise. */
        public boolean normalizedByDefault() {
            return shape == Shape.TRANSFORMERS;
        }
    }

    private DetectorOutput() {
    }

    public static Parsed parse(Object detections, int maxDetections) {
        if (detections instanceof List<?> rows) {
            return rows(rows, maxDetections);
        }
        if (detections instanceof Map<?, ?> columns) {
            return columns(columns, maxDetections);
        }
        throw new ProblemException(Problem.INVALID_REQUEST, "'detections' must be an array of {box, score, label} rows, an mmdetection result "
                + "{labels, scores, bboxes} or a transformers result {scores, boxes, labels | text_labels}.", "/detections");
    }

    private static Parsed rows(List<?> items, int max) {
        count(items.size(), max, "/detections");
        List<Row> rows = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            String pointer = "/detections/" + i;
            Object item = items.get(i);
            Object box;
            Object score;
            Object label;
            if (item instanceof Detection d) {
                box = d.box();
                score = d.score();
                label = d.label();
            } else if (item instanceof Map<?, ?> map) {
                for (Object key : map.keySet()) {
                    if (!List.of("box", "score", "label").contains(key)) {
                        throw new ProblemException(Problem.INVALID_REQUEST, "Unknown field '" + key + "' in detection " + i + " (fields: box, score, label).", pointer);
                    }
                }
                box = map.get("box");
                score = map.get("score");
                label = map.get("label");
            } else {
                throw new ProblemException(Problem.INVALID_REQUEST, "Detection " + i + " must be an object {box, score, label}.", pointer);
            }
            rows.add(row(i, box, pointer + "/box", score, pointer + "/score", label, pointer + "/label"));
        }
        return new Parsed(Shape.ROWS, rows, null, null);
    }

    private static Parsed columns(Map<?, ?> columns, int max) {
        boolean mmdet = columns.containsKey("bboxes");
        String boxesKey = mmdet ? "bboxes" : "boxes";
        String labelsKey = columns.containsKey("labels") ? "labels" : "text_labels";
        List<String> known = mmdet ? List.of("labels", "scores", "bboxes") : List.of("scores", "boxes", "labels", "text_labels");
        for (Object key : columns.keySet()) {
            if (!known.contains(key)) {
                throw new ProblemException(Problem.INVALID_REQUEST, "Unknown field '" + key + "' in 'detections' (" + (mmdet ? "mmdetection" : "transformers")
                        + " result fields: " + known + ").", "/detections/" + key);
            }
        }
        if (!mmdet && columns.containsKey("labels") && columns.containsKey("text_labels")) {
            labelsKey = "text_labels"; // transformers >= 4.51 gives both: the class names are what the vocabulary holds
        }
        List<?> boxes = column(columns, boxesKey);
        List<?> scores = column(columns, "scores");
        List<?> labels = column(columns, labelsKey);
        count(scores.size(), max, "/detections/scores");
        if (boxes.size() != scores.size()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + boxesKey + "' has " + boxes.size() + " items but 'scores' has " + scores.size() + ".",
                    "/detections/" + boxesKey);
        }
        if (labels.size() != scores.size()) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'" + labelsKey + "' has " + labels.size() + " items but 'scores' has " + scores.size() + ".",
                    "/detections/" + labelsKey);
        }
        List<Row> rows = new ArrayList<>(scores.size());
        for (int i = 0; i < scores.size(); i++) {
            rows.add(row(i, boxes.get(i), "/detections/" + boxesKey + "/" + i, scores.get(i), "/detections/scores/" + i,
                    labels.get(i), "/detections/" + labelsKey + "/" + i));
        }
        return new Parsed(mmdet ? Shape.MMDET : Shape.TRANSFORMERS, rows, boxesKey, labelsKey);
    }

    private static List<?> column(Map<?, ?> columns, String key) {
        if (!(columns.get(key) instanceof List<?> list)) {
            throw new ProblemException(Problem.INVALID_REQUEST, "'detections' needs the array '" + key + "'.", "/detections/" + key);
        }
        return list;
    }

    private static void count(int size, int max, String pointer) {
        if (size == 0) {
            throw new ProblemException(Problem.INVALID_REQUEST, "There are no detections.", pointer);
        }
        if (size > max) {
            throw new ProblemException(Problem.LIMIT_EXCEEDED, size + " detections; the limit is " + max + " per request (fgclip2.limits.max-detections).", pointer);
        }
    }

    private static Row row(int index, Object box, String boxPointer, Object score, String scorePointer, Object label, String labelPointer) {
        if (!(box instanceof List<?> values) || values.size() != 4) {
            throw new ProblemException(Problem.INVALID_BOX, "A box is four numbers at " + boxPointer + ".", boxPointer);
        }
        double[] coordinates = new double[4];
        for (int k = 0; k < 4; k++) {
            if (!(values.get(k) instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                throw new ProblemException(Problem.INVALID_BOX, "The box at " + boxPointer + " has a missing or non-finite coordinate.", boxPointer);
            }
            coordinates[k] = n.doubleValue();
        }
        if (!(score instanceof Number s) || !Double.isFinite(s.doubleValue()) || s.doubleValue() < 0 || s.doubleValue() > 1) {
            throw new ProblemException(Problem.INVALID_REQUEST, "A detection score is a number in [0, 1] at " + scorePointer + ".", scorePointer);
        }
        if (label instanceof String name) {
            return new Row(index, coordinates, s.doubleValue(), name, -1);
        }
        if (label instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.doubleValue() >= 0 && n.doubleValue() <= Integer.MAX_VALUE) {
            return new Row(index, coordinates, s.doubleValue(), null, n.intValue());
        }
        throw new ProblemException(Problem.INVALID_REQUEST, "A label is a class name or a non-negative index into the vocabulary at " + labelPointer + ".",
                labelPointer);
    }
}
