package ai.fgclip2.server.index;

import java.util.List;

/**
 * One image of a collection as stored: unit global embedding, metadata, and its boxes with their unit region
 * embeddings (box i is region i).
 */
public record IndexItem(String id, Metadata metadata, float[] embedding, List<Region> regions) {

    /** @param box x1, y1, x2, y2 in original pixels, clipped to the image */
    public record Region(float[] box, float[] embedding) {
    }
}
