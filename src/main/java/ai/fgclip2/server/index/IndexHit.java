package ai.fgclip2.server.index;

/**
 * One image found: the cosine of its vector with the query (for a region search, of its best region), and that
 * region when the search was over regions.
 */
public record IndexHit(String id, double cosine, Metadata metadata, RegionMatch region) {

    /** @param index the box's position in the item's boxes */
    public record RegionMatch(int index, float[] box, double cosine) {
    }
}
