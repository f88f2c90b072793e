package org.slm4j.format;

/**
 * Where a long file operation (a download, a conversion, a quantization) reports how far it has got. The engine only
 * counts; drawing is the caller's business (the CLI draws bars on stderr).
 */
@FunctionalInterface
public interface Progress {
    /** Reports nothing. */
    Progress NONE = (task, done, total) -> {};

    /**
     * {@code done} of {@code total} units of {@code task} (bytes, tensors…) are finished. Called from the working
     * thread, with {@code done} not decreasing for a task; {@code done == total} ends it.
     */
    void update(String task, long done, long total);
}
