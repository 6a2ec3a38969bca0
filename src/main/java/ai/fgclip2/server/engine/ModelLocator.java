package ai.fgclip2.server.engine;

import ai.fgclip2.exporter.checkpoint.Checkpoint;
import ai.fgclip2.exporter.checkpoint.CheckpointException;
import ai.fgclip2.exporter.export.Exporter;
import ai.fgclip2.exporter.export.Manifest;
import ai.fgclip2.exporter.synth.SynthSize;
import ai.fgclip2.exporter.synth.Synthesizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns {@code fgclip2.model.dir} into an exported model: an export folder is used as it is; a Hugging Face
 * checkpoint folder is exported once into the cache (keyed by its digest) and reused after; nothing configured
 * means the built-in demo model (a random-weight tiny checkpoint with the bundled Gemma tokenizer).
 */
public final class ModelLocator {
    private static final Logger log = LoggerFactory.getLogger(ModelLocator.class);
    static final long DEMO_SEED = 0;

    private ModelLocator() {
    }

    /**
     * @param configured an exported model or a checkpoint folder; null = the demo model
     * @param precision  fp32 or fp16: what a checkpoint is exported to
     */
    public static ModelFiles locate(Path configured, String precision, Path cacheDir) {
        return locate(configured, Exporter.Precision.valueOf(precision.toUpperCase(Locale.ROOT)), cacheDir);
    }

    public static ModelFiles locate(Path configured, Exporter.Precision precision, Path cacheDir) {
        return locate(configured, new Exporter.Options(precision, false), cacheDir);
    }

    /** @param options what a checkpoint is exported with (precision, float32 layers of an int8 export); part of the cache key */
    public static ModelFiles locate(Path configured, Exporter.Options options, Path cacheDir) {
        if (configured == null) {
            return demo(cacheDir, options);
        }
        if (!Files.exists(configured)) {
            throw new CheckpointException("fgclip2.model.dir=" + configured + ": the folder does not exist");
        }
        if (!Files.isDirectory(configured)) {
            throw new CheckpointException("fgclip2.model.dir=" + configured + " is a file; it must be a folder");
        }
        if (Files.isRegularFile(configured.resolve(Manifest.FILE))) {
            Manifest manifest = Manifest.read(configured);
            return new ModelFiles(realPath(configured), manifest, modelId(manifest, configured), shortDigest(manifest), false);
        }
        if (Files.isRegularFile(configured.resolve(Checkpoint.CONFIG))) {
            Checkpoint checkpoint = Checkpoint.open(configured);
            String digest = Exporter.digest(checkpoint);
            Path target = cacheDir.resolve(digest.substring(0, 16) + "-" + exportName(options));
            ModelFiles files = exportOnce(checkpoint, () -> digest, target, options, false);
            return new ModelFiles(files.directory(), files.manifest(), modelId(files.manifest(), configured), files.revision(), false);
        }
        throw new CheckpointException("fgclip2.model.dir=" + configured + " holds neither an exported model (manifest.json) "
                + "nor a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json)");
    }

    private static ModelFiles demo(Path cacheDir, Exporter.Options options) {
        Path checkpoint = cacheDir.resolve("demo-tiny-seed" + DEMO_SEED + "-checkpoint");
        if (!Files.isRegularFile(checkpoint.resolve(Checkpoint.TOKENIZER))) {
            log.info("Writing the built-in demo checkpoint to {}", checkpoint);
            Path staging = staging(checkpoint);
            Synthesizer.write(SynthSize.TINY, DEMO_SEED, staging);
            publish(staging, checkpoint);
        }
        Checkpoint demoCheckpoint = Checkpoint.open(checkpoint);
        ModelFiles files = exportOnce(demoCheckpoint, () -> Exporter.digest(demoCheckpoint), cacheDir.resolve("demo-tiny-seed" + DEMO_SEED + "-" + exportName(options)), options, true);
        log.warn("No fgclip2.model.dir configured: serving the built-in DEMO model (random weights, UNTRAINED: its scores mean nothing). "
                + "Set fgclip2.model.dir to a FG-CLIP 2 checkpoint or export for real results.");
        return new ModelFiles(files.directory(), files.manifest(), "fgclip2-demo-untrained", files.revision(), true);
    }

    /** Exports unless {@code target} holds a finished export; the digest is only computed for an export. */
    private static ModelFiles exportOnce(Checkpoint checkpoint, Supplier<String> digest, Path target, Exporter.Options options, boolean demo) {
        if (!Files.isRegularFile(target.resolve(Manifest.FILE))) {
            log.info("Exporting {} to {} ({})", checkpoint.directory(), target, exportName(options));
            long start = System.nanoTime();
            Path staging = staging(target);
            Exporter.export(checkpoint, digest.get(), staging, options);
            publish(staging, target);
            log.info("Export finished in {} s", String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9));
        } else {
            log.info("Reusing the export in {}", target);
        }
        Manifest manifest = Manifest.read(target);
        return new ModelFiles(realPath(target), manifest, manifest.variant(), shortDigest(manifest), demo);
    }

    /** fp32, fp16, int8, or int8-float-first_last for an int8 export that keeps layers in float32. */
    private static String exportName(Exporter.Options options) {
        String precision = options.precision().manifestName();
        return options.floatLayers().isEmpty() ? precision : precision + "-float-" + options.floatLayers().spec().replace(',', '_');
    }

    private static String modelId(Manifest manifest, Path configured) {
        Path name = configured.toAbsolutePath().normalize().getFileName();
        return name == null ? "fgclip2-" + manifest.variant() : name.toString();
    }

    private static String shortDigest(Manifest manifest) {
        String digest = manifest.source().sha256();
        return digest.length() > 12 ? digest.substring(0, 12) : digest;
    }

    private static Path staging(Path target) {
        try {
            Files.createDirectories(target.getParent());
            return Files.createTempDirectory(target.getParent(), target.getFileName() + ".staging");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a staging folder beside " + target, e);
        }
    }

    /** Atomic rename, so a crash mid-export never leaves a half-written model that looks complete. */
    private static void publish(Path staging, Path target) {
        try {
            if (Files.exists(target)) {
                try (Stream<Path> old = Files.walk(target)) {
                    old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + staging + " to " + target, e);
        }
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
