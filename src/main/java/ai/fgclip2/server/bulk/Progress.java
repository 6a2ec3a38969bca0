package ai.fgclip2.server.bulk;

import java.io.PrintStream;
import java.util.Locale;

/** A progress line with rate and ETA, redrawn in place on a terminal and printed every few seconds otherwise. */
final class Progress {
    private static final long INTERVAL_NANOS = 2_000_000_000L;
    private final PrintStream out;
    private final int total;
    private final boolean terminal = System.console() != null;
    private final long start = System.nanoTime();
    private long lastPrint;

    Progress(PrintStream out, int total) {
        this.out = out;
        this.total = total;
    }

    synchronized void update(int done, int indexed, int bad, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastPrint < (terminal ? INTERVAL_NANOS / 8 : INTERVAL_NANOS)) {
            return;
        }
        lastPrint = now;
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? indexed / seconds : 0;
        int width = 30;
        int filled = total == 0 ? width : (int) ((long) width * done / total);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String eta = rate > 0 ? duration((total - done) / rate) : "?";
        String line = String.format(Locale.ROOT, "[%s] %d/%d  %.1f img/s  ETA %s  bad %d", bar, done, total, rate, eta, bad);
        out.print(terminal ? "\r" + line : line + "\n");
        out.flush();
    }

    void finish() {
        if (terminal) {
            out.println();
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60) : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
