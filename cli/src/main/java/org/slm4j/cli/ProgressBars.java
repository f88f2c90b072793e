package org.slm4j.cli;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slm4j.format.Progress;

/**
 * Draws each task of a {@link Progress} as one bar on stderr, closing it when the task reaches its total. Without a
 * terminal (CI logs, pipes) a bar's carriage returns would leave a line per refresh, so there each task writes a plain
 * line at most every {@value #LOG_EVERY_SECONDS} seconds and one when it ends.
 */
final class ProgressBars implements Progress, AutoCloseable {
    static final int LOG_EVERY_SECONDS = 10;

    private final PrintStream err;
    private final boolean terminal;
    private ProgressBar bar;
    private String task;
    private long lastLine;   // System.nanoTime() of the task's start or its last plain line

    ProgressBars() {
        this(System.err, System.console() != null && System.console().isTerminal());
    }

    ProgressBars(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void update(String task, long done, long total) {
        if (!task.equals(this.task)) {
            close();
            this.task = task;
            lastLine = System.nanoTime();
            if (terminal) {
                bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                        .setConsumer(new ConsoleProgressBarConsumer(err)).continuousUpdate().build();
            }
        }
        if (terminal) {
            bar.maxHint(total);
            bar.stepTo(done);
        } else if (done >= total || System.nanoTime() - lastLine >= LOG_EVERY_SECONDS * 1_000_000_000L) {
            err.printf(Locale.ROOT, "%s: %,d of %,d (%d%%)%n", task, done, total, total > 0 ? done * 100 / total : 100);
            lastLine = System.nanoTime();
        }
        if (done >= total) close();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
        task = null;
    }
}
