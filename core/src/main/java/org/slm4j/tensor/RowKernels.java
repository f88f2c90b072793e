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
        check(w, x, batch, out);
        if (batch == 0) return;
        Job job = JOBS.get();
        try {
            job.in.prepare(w.type(), x, batch, w.cols());
            job.multiply(this, w, batch, out);
        } finally {
            job.release();
        }
    }

    @Override
    public final void matmul(Matrix[] ws, float[] x, int batch, float[][] outs) {
        if (ws.length != outs.length) throw new IllegalArgumentException(ws.length + " matrices but " + outs.length + " outputs");
        for (int i = 0; i < ws.length; i++) check(ws[i], x, batch, outs[i]);
        if (batch == 0) return;
        Job job = JOBS.get();
        try {
            for (int i = 0; i < ws.length; i++) {
                // one rounding of x serves every matrix of the same type and width that follows
                if (i == 0 || ws[i].type() != ws[i - 1].type() || ws[i].cols() != ws[i - 1].cols()) {
                    job.in.prepare(ws[i].type(), x, batch, ws[i].cols());
                }
                job.multiply(this, ws[i], batch, outs[i]);
            }
        } finally {
            job.release();
        }
    }

    private static void check(Matrix w, float[] x, int batch, float[] out) {
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
    }

    /** Multiplies a batch of two or more prepared inputs its own way and returns true, or returns false. */
    boolean batched(Matrix w, Activations in, int batch, float[] out) {
        return false;
    }

    /** Readies w for {@link #dot} before a matmul's rows are split across threads. */
    void prepare(Matrix w) {}

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

        /** out = w times the prepared input. */
        void multiply(RowKernels kernels, Matrix w, int batch, float[] out) {
            if (batch >= 2 && kernels.batched(w, in, batch, out)) return;
            kernels.prepare(w);
            this.kernels = kernels;
            this.w = w;
            this.batch = batch;
            this.out = out;
            int chunks = (w.rows() + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
            if ((long) w.rows() * w.cols() * batch < SERIAL_WORK) run(0, chunks);
            else Parallel.forRange(chunks, this);
        }

        void release() {
            in.release();
            w = null;
            out = null;
        }

        /** Rows of chunks [start, end), a chunk at a time: each row is read from memory once. */
        @Override
        public void run(int start, int end) {
            for (int c = start; c < end; c++) {
                kernels.rows(w, c * ROWS_PER_CHUNK, Math.min(w.rows(), (c + 1) * ROWS_PER_CHUNK), in, batch, out);
            }
        }
    }
}
