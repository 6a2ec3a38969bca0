package ai.fgclip2.offline;

import java.util.Locale;

/** A one-line progress bar on stderr: done of total, rate, ETA, failures; redrawn at most once a second. */
final class Progress {
    private static final int WIDTH = 30;
    private final String unit;
    private final int total;
    private final long start = System.nanoTime();
    private long lastDraw;

    Progress(String unit, int total) {
        this.unit = unit;
        this.total = total;
    }

    synchronized void update(int done, int failed, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < 1_000_000_000L) {
            return;
        }
        lastDraw = now;
        double seconds = (now - start) / 1e9;
        double rate = done / Math.max(seconds, 1e-9);
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        String eta = done == 0 ? "?" : duration((total - done) / rate);
        System.err.printf(Locale.ROOT, "\r[%s%s] %d/%d %s  %.2f %s/s  ETA %s  failed %d   ", "#".repeat(filled), ".".repeat(WIDTH - filled), done, total, unit,
                rate, unit, eta, failed);
        if (force) {
            System.err.println();
        }
    }

    double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60) : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
