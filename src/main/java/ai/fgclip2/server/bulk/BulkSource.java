package ai.fgclip2.server.bulk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** What a bulk job indexes: the images of a folder (id = relative path), or the lines of a JSON Lines manifest. */
final class BulkSource {
    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "webp", "gif", "bmp");
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * One image to index, or a manifest line that cannot be (problem set, the rest may be null).
     *
     * @param where the file or manifest line, for reports
     */
    record Entry(String where, Path path, String id, Map<String, Object> metadata, List<List<Double>> boxes, String problem) {
    }

    /** A manifest line: {"path": ..., "id": ..., "metadata": {...}, "boxes": [[x1, y1, x2, y2], ...]}. */
    private record Line(String path, String id, Map<String, Object> metadata, List<List<Double>> boxes) {
    }

    private BulkSource() {
    }

    /** Image files under the folder, in path order; the id is the path relative to the folder with '/' separators. */
    static List<Entry> folder(Path folder) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.filter(Files::isRegularFile).filter(BulkSource::isImage).sorted().toList()) {
                String id = folder.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                entries.add(new Entry(file.toString(), file, id, null, null, null));
            }
        }
        return entries;
    }

    /** The manifest's lines (blank lines skipped); a relative path is resolved against the manifest's folder; id defaults to path. */
    static List<Entry> manifest(Path manifest) throws IOException {
        List<Entry> entries = new ArrayList<>();
        List<String> lines = Files.readAllLines(manifest);
        Path base = manifest.toAbsolutePath().getParent();
        for (int n = 0; n < lines.size(); n++) {
            String text = lines.get(n).strip();
            String where = manifest + ":" + (n + 1);
            if (text.isEmpty()) {
                continue;
            }
            try {
                Line line = JSON.readValue(text, new TypeReference<Line>() { });
                if (line.path() == null || line.path().isBlank()) {
                    entries.add(new Entry(where, null, null, null, null, "the line has no \"path\""));
                    continue;
                }
                String id = line.id() != null ? line.id() : line.path();
                entries.add(new Entry(where, base.resolve(line.path()), id, line.metadata(), line.boxes(), null));
            } catch (JsonProcessingException e) {
                entries.add(new Entry(where, null, null, null, null, "not a manifest line: " + e.getOriginalMessage()));
            }
        }
        return entries;
    }

    private static boolean isImage(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && IMAGE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}
