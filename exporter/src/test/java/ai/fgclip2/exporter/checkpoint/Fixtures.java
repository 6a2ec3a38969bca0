package ai.fgclip2.exporter.checkpoint;

import java.nio.file.Path;

/** The reference checkpoints made by the official code (see /work/shared/fixtures/README.md). */
final class Fixtures {
    /** D=64, 2 layers, vocab 1024, F32. */
    static final Path TINY_MODEL = Path.of("exporter/src/test/resources/fixtures/fgclip2-tiny/model");
    /** D=16, 2 layers, vocab 256000, F16. */
    static final Path E2E_MODEL = Path.of("src/test/resources/fixtures/fgclip2-e2e/model");

    private Fixtures() {
    }
}
