package org.slm4j.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slm4j.format.Progress;

/** Draws each task of a {@link Progress} as one bar on stderr, closing it when the task reaches its total. */
final class ProgressBars implements Progress, AutoCloseable {
    private ProgressBar bar;
    private String task;

    @Override
    public void update(String task, long done, long total) {
        if (!task.equals(this.task)) {
            close();
            this.task = task;
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).continuousUpdate().build();
        }
        bar.maxHint(total);
        bar.stepTo(done);
        if (done >= total) close();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
        bar = null;
        task = null;
    }
}
