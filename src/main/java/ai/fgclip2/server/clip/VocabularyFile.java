package ai.fgclip2.server.clip;

import ai.fgclip2.server.pipeline.text.TextWalk;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * A vocabulary on disk, one self-contained file to ship: a JSON header line (definition, model revision and
 * precision, shape), then the class embeddings as little-endian float32, {@code classes x dimensions} row-major.
 */
public final class VocabularyFile {
    public static final String EXTENSION = ".vocab";
    static final String FORMAT = "fgclip2-vocabulary/1";
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** The header line. */
    public record Header(String format, String name, List<String> labels, List<Integer> categoryIds, List<String> templates, String walk,
                         String builtin, String modelId, String revision, String precision, int classes, int dimensions) {
        public Vocabulary.ModelKey model() {
            return new Vocabulary.ModelKey(modelId, revision, precision);
        }

        Vocabulary.Definition definition() {
            return new Vocabulary.Definition(name, labels, categoryIds, templates, TextWalk.valueOf(walk.toUpperCase(Locale.ROOT)), builtin);
        }
    }

    private VocabularyFile() {
    }

    /** The file name of a vocabulary for one model: several models may share the directory. */
    public static String fileName(String name, Vocabulary.ModelKey model) {
        return name + "." + model.revision() + "-" + model.precision() + EXTENSION;
    }

    /** Writes atomically (a temporary file, then a rename), so a crash never leaves a half file that looks complete. */
    public static void write(Vocabulary vocabulary, Path file) {
        Vocabulary.Definition d = vocabulary.definition();
        Vocabulary.ModelKey model = vocabulary.model();
        ClassMatrix classes = vocabulary.classes();
        Header header = new Header(FORMAT, d.name(), d.labels(), d.categoryIds(), d.templates(), d.walk().name().toLowerCase(Locale.ROOT), d.builtin(),
                model.id(), model.revision(), model.precision(), classes.classes(), classes.dimensions());
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path temporary = Files.createTempFile(parent, file.getFileName().toString(), ".part");
            try (OutputStream out = Files.newOutputStream(temporary)) {
                out.write(JSON.writeValueAsBytes(header));
                out.write('\n');
                ByteBuffer values = ByteBuffer.allocate(classes.rows().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                values.asFloatBuffer().put(classes.rows());
                out.write(values.array());
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the vocabulary file " + file, e);
        }
    }

    public static Header readHeader(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return header(in, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the vocabulary file " + file, e);
        }
    }

    /** The whole vocabulary; its model is the file's, which the caller compares with the one it serves. */
    public static Vocabulary read(Path file) {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            Header header = header(in, file);
            if (header.labels() == null || header.labels().size() != header.classes()) {
                throw new IOException("the header names " + (header.labels() == null ? 0 : header.labels().size()) + " labels for " + header.classes() + " classes");
            }
            byte[] bytes = new byte[Math.multiplyExact(Math.multiplyExact(header.classes(), header.dimensions()), Float.BYTES)];
            in.readFully(bytes);
            if (in.read() != -1) {
                throw new IOException("trailing bytes after " + header.classes() + " x " + header.dimensions() + " values");
            }
            float[] rows = new float[header.classes() * header.dimensions()];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(rows);
            return new Vocabulary(header.definition(), header.model(), ClassMatrix.ofRows(header.classes(), header.dimensions(), rows));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the vocabulary file " + file + " is not valid: " + e.getMessage(), e);
        }
    }

    private static Header header(InputStream in, Path file) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b == -1 || line.size() > 64 << 20) {
                throw new IOException(file + " has no vocabulary header line");
            }
            line.write(b);
        }
        Header header = JSON.readValue(line.toString(StandardCharsets.UTF_8), Header.class);
        if (!FORMAT.equals(header.format())) {
            throw new IOException(file + " is not a " + FORMAT + " file (format " + header.format() + ")");
        }
        return header;
    }
}
