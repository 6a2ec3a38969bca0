package ai.fgclip2.server.clip;

import ai.fgclip2.server.clip.DetectionRescorer.Rescored;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Class-wise greedy non-maximum suppression on fused scores (torchvision's batched_nms rule: IoU above the threshold suppresses). */
final class Nms {
    private Nms() {
    }

    /** The rows that survive, in their given order. */
    static List<Rescored> classWise(List<Rescored> rows, double iouThreshold) {
        Map<Integer, List<Rescored>> byClass = new HashMap<>();
        for (Rescored row : rows) {
            byClass.computeIfAbsent(row.labelIndex(), c -> new ArrayList<>()).add(row);
        }
        Set<Integer> kept = new HashSet<>();
        for (List<Rescored> group : byClass.values()) {
            group.sort(Comparator.comparingDouble(Rescored::score).reversed().thenComparingInt(Rescored::index));
            List<Rescored> keep = new ArrayList<>();
            for (Rescored candidate : group) {
                boolean suppressed = false;
                for (Rescored better : keep) {
                    if (iou(candidate.box(), better.box()) > iouThreshold) {
                        suppressed = true;
                        break;
                    }
                }
                if (!suppressed) {
                    keep.add(candidate);
                    kept.add(candidate.index());
                }
            }
        }
        return rows.stream().filter(r -> kept.contains(r.index())).toList();
    }

    static double iou(float[] a, float[] b) {
        double w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
        double h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
        if (w <= 0 || h <= 0) {
            return 0;
        }
        double intersection = w * h;
        double union = (double) (a[2] - a[0]) * (a[3] - a[1]) + (double) (b[2] - b[0]) * (b[3] - b[1]) - intersection;
        return intersection / union;
    }
}
