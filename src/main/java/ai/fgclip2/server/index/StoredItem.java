package ai.fgclip2.server.index;

import java.util.List;

/** What {@link GalleryIndex#get} returns: the item without its vectors. */
public record StoredItem(String id, Metadata metadata, List<float[]> boxes) {
}
