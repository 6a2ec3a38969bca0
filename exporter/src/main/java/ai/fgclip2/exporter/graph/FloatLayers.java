package ai.fgclip2.exporter.graph;

import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The encoder Linear layers that an int8 export keeps in float32, for models whose activations quantize badly.
 * Written as a comma-separated list (the {@code --float-layers} option): {@code first}, {@code last}, layer
 * indices counted from 0, and {@code fc2} (every block's second MLP projection, whose input is the widest and
 * most outlier-prone activation). Indices apply to both towers. An empty list keeps nothing in float32.
 */
public record FloatLayers(boolean first, boolean last, SortedSet<Integer> indices, boolean everyFc2) {
    public static final FloatLayers NONE = new FloatLayers(false, false, new TreeSet<>(), false);

    public FloatLayers {
        indices = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(indices));
    }

    public static FloatLayers parse(String spec) {
        boolean first = false;
        boolean last = false;
        boolean fc2 = false;
        SortedSet<Integer> indices = new TreeSet<>();
        for (String raw : spec.split(",")) {
            String item = raw.trim().toLowerCase(Locale.ROOT);
            switch (item) {
                case "" -> {
                }
                case "first" -> first = true;
                case "last" -> last = true;
                case "fc2" -> fc2 = true;
                default -> {
                    if (!item.matches("[0-9]{1,4}")) {
                        throw new IllegalArgumentException("float layers: '" + raw.trim() + "' is not first, last, fc2 or a layer index");
                    }
                    indices.add(Integer.parseInt(item));
                }
            }
        }
        return new FloatLayers(first, last, indices, fc2);
    }

    public boolean isEmpty() {
        return !first && !last && !everyFc2 && indices.isEmpty();
    }

    /** Whether every Linear of block {@code layer} (of {@code numLayers}) stays float32. */
    public boolean keepsLayer(int layer, int numLayers) {
        return (first && layer == 0) || (last && layer == numLayers - 1) || indices.contains(layer);
    }

    /** Rejects indices that a tower of {@code numLayers} blocks does not have, instead of silently ignoring them. */
    public void checkAgainst(int numLayers) {
        if (!indices.isEmpty() && indices.last() >= numLayers) {
            throw new IllegalArgumentException("float layers: layer " + indices.last() + " does not exist (the towers have " + numLayers + " layers, 0.." + (numLayers - 1) + ")");
        }
    }

    /** The canonical spec ("first,last,3,fc2"; "" for none), as the manifest records it. */
    public String spec() {
        StringBuilder out = new StringBuilder();
        if (first) {
            out.append("first,");
        }
        if (last) {
            out.append("last,");
        }
        indices.forEach(i -> out.append(i).append(','));
        if (everyFc2) {
            out.append("fc2,");
        }
        return out.isEmpty() ? "" : out.substring(0, out.length() - 1);
    }
}
