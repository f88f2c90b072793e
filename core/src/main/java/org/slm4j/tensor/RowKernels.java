package org.slm4j.tensor;

import java.util.Objects;

/**
 * What both kernels share: argument checks, rounding the input once per call, and splitting weight rows across
 * {@link Parallel}. A kernel supplies one dot product, of a weight row with one prepared input vector.
 */
abstract sealed class RowKernels implements Kernels permits ScalarKernels, VectorKernels {
    private static final int ROWS_PER_CHUNK = 16;           // out chunks of 64 bytes: threads share no cache line
    private static final long SERIAL_WORK = 1 << 15;        // multiply-adds below which threads cost more than they save
    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);

    @Override
    public final void matmul(Matrix w, float[] x, int batch, float[] out) {
        Objects.requireNonNull(w, "w");
        Objects.requireNonNull(x, () -> w.name() + ": x");
        Objects.requireNonNull(out, () -> w.name() + ": out");
        if (batch < 0) throw new IllegalArgumentException(w.name() + ": batch must be non-negative, got " + batch);
        if (x.length < (long) batch * w.cols()) {
            throw new IllegalArgumentException(w.name() + ": x has " + x.length + " floats, a batch of " + batch
                    + " needs " + (long) batch * w.cols());
        }
        if (out.length < (long) batch * w.rows()) {
            throw new IllegalArgumentException(w.name() + ": out has " + out.length + " floats, a batch of " + batch
                    + " needs " + (long) batch * w.rows());
        }
        if (batch == 0) return;
        Job job = JOBS.get();
        job.in.prepare(w.type(), x, batch, w.cols());
        job.kernels = this;
        job.w = w;
        job.batch = batch;
        job.out = out;
        int chunks = (w.rows() + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        try {
            if (batch >= 2 && batched(w, job.in, batch, out)) return;
            if ((long) w.rows() * w.cols() * batch < SERIAL_WORK) job.run(0, chunks);
            else Parallel.forRange(chunks, job);
        } finally {
            job.in.release();
            job.w = null;
            job.out = null;
        }
    }

    /** Multiplies a batch of two or more prepared inputs its own way and returns true, or returns false. */
    boolean batched(Matrix w, Activations in, int batch, float[] out) {
        return false;
    }

    /** The dot product of the weight row at byte offset {@code row} with prepared input vector {@code b}. */
    abstract float dot(Matrix w, long row, Activations in, int b);

    /**
     * {@code out[b * w.rows() + r]} for rows [r0, r1) and every input of the batch. This one calls {@link #dot} per
     * pair; a kernel may instead decode each weight row once for the whole batch, with the same results.
     */
    void rows(Matrix w, int r0, int r1, Activations in, int batch, float[] out) {
        int rows = w.rows();
        long rowBytes = w.rowBytes();
        for (int r = r0; r < r1; r++) {
            for (int b = 0; b < batch; b++) out[b * rows + r] = dot(w, r * rowBytes, in, b);
        }
    }

    /** One thread's matmul in progress, reused by its next call so a matmul allocates nothing. */
    private static final class Job implements Parallel.RangeTask {
        final Activations in = new Activations();
        RowKernels kernels;
        Matrix w;
        int batch;
        float[] out;

        /** Rows of chunks [start, end), a chunk at a time: each row is read from memory once. */
        @Override
        public void run(int start, int end) {
            for (int c = start; c < end; c++) {
                kernels.rows(w, c * ROWS_PER_CHUNK, Math.min(w.rows(), (c + 1) * ROWS_PER_CHUNK), in, batch, out);
            }
        }
    }
}
