package org.slm4j.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * What both kernels share: argument checks, rounding the input once per call, and splitting weight rows across
 * {@link Parallel}. A kernel supplies one dot product, of a weight row with one prepared input vector.
 */
abstract sealed class RowKernels implements Kernels permits ScalarKernels, VectorKernels {
    private static final int ROWS_PER_CHUNK = 16;           // out chunks of 64 bytes: threads share no cache line
    private static final long SERIAL_WORK = 1 << 15;        // multiply-adds below which threads cost more than they save
    // byPosition: the weight rows every position reads in turn, from L2. One position after the other over whole
    // matrices read the weights from memory per position: AVX2 TinyLlama 16-position prompts, medians of 5 rounds
    // taking turns, Q8_0 41.0 -> 45.1 tok/s, Q4_K_M 48.9 -> 55.5 (Q4_0 64 either way: bound by its kernel's work)
    private static final long BLOCK_BYTES = 1 << 17;
    private static final long PARALLEL_PREPARE = 1 << 14;   // byPosition: input elements quantized on one thread below
    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);

    @Override
    public final void matmul(Matrix w, float[] x, int batch, float[] out) {
        check(w, x, batch, out);
        if (batch == 0) return;
        Job job = JOBS.get();
        try {
            job.one[0] = w;
            job.oneOut[0] = out;
            if (batch > 1 && byPosition(w, batch)) {
                job.byPosition(this, job.one, 0, 1, x, batch, job.oneOut);
                return;
            }
            job.in.prepare(w.type(), x, batch, w.cols());
            job.multiply(this, job.one, 0, 1, batch, job.oneOut);
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
            for (int i = 0, j; i < ws.length; i = j) {
                // one rounding of x serves every matrix of the same type and width that follows, and one parallel
                // job runs them all: Q, K and V (or gate and up) wait for their slowest thread once, not three times
                for (j = i + 1; j < ws.length && ws[j].type() == ws[i].type() && ws[j].cols() == ws[i].cols(); j++) {}
                if (batch > 1 && byPosition(ws[i], batch)) {
                    job.byPosition(this, ws, i, j, x, batch, outs);
                    continue;
                }
                job.in.prepare(ws[i].type(), x, batch, ws[i].cols());
                job.multiply(this, ws, i, j, batch, outs);
            }
        } finally {
            job.release();
        }
    }

    private static void check(Matrix w, float[] x, int batch, float[] out) {
        Objects.requireNonNull(w, "w");
        // no message suppliers: a lambda capturing w is allocated per call wherever C2 does not inline requireNonNull
        if (x == null) throw new NullPointerException(w.name() + ": x");
        if (out == null) throw new NullPointerException(w.name() + ": out");
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

    /**
     * True where a batch this small is multiplied faster one input at a time, as generation does, than all at once
     * ({@link #batched}).
     */
    boolean byPosition(Matrix w, int batch) {
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

    /** {@link #rows} for two inputs of one position each, a into outA and b into outB. */
    void rows2(Matrix w, int r0, int r1, Activations a, Activations b, float[] outA, float[] outB) {
        rows(w, r0, r1, a, 1, outA);
        rows(w, r0, r1, b, 1, outB);
    }

    /** One thread's matmul in progress, reused by its next call so a matmul allocates nothing. */
    private static final class Job implements Parallel.RangeTask {
        final Activations in = new Activations();
        final Matrix[] one = new Matrix[1];
        final float[][] oneOut = new float[1][];
        float[][] positionX = new float[0][];            // byPosition: each position's input
        Activations[] positions = new Activations[0];   // byPosition: each position's prepared input
        float[][][] positionOuts = new float[0][][];    // byPosition: [p][i], matrix i's outputs for position p
        RowKernels kernels;
        Matrix[] ws;
        float[][] outs;
        int first, batch;
        int inputs;                       // 1: in, with the batch; more: positions, one input each
        GgmlType prepareType;             // byPosition: what the positions are prepared for
        int prepareCols;
        final Parallel.RangeTask preparePositions = this::preparePositions;
        int[] chunkStart = new int[4];    // chunkStart[i - first]: the first chunk of matrix i in the job's range

        /** outs[i] = ws[i] times the prepared input, for i in [from, to). */
        void multiply(RowKernels kernels, Matrix[] ws, int from, int to, int batch, float[][] outs) {
            multiply(kernels, ws, from, to, batch, outs, 1);
        }

        /**
         * The same with {@code inputs} inputs: 1, {@link #in} with its batch, or more, {@link #positions}' first
         * {@code inputs} (batch 1 each) into {@link #positionOuts}.
         */
        private void multiply(RowKernels kernels, Matrix[] ws, int from, int to, int batch, float[][] outs, int inputs) {
            if (batch >= 2) {
                while (from < to && kernels.batched(ws[from], in, batch, outs[from])) from++;
                if (from == to) return;
            }
            if (chunkStart.length <= to - from) chunkStart = new int[to - from + 1];
            long work = 0;
            for (int i = from; i < to; i++) {
                kernels.prepare(ws[i]);
                chunkStart[i - from + 1] = chunkStart[i - from] + (ws[i].rows() + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
                work += (long) ws[i].rows() * ws[i].cols() * batch * inputs;
            }
            this.kernels = kernels;
            this.ws = ws;
            this.outs = outs;
            this.first = from;
            this.batch = batch;
            this.inputs = inputs;
            int chunks = chunkStart[to - from];
            if (work < SERIAL_WORK) run(0, chunks);
            else Parallel.forRange(chunks, this);
        }

        /**
         * outs[i] = ws[i] times x, for i in [from, to), each position as generation multiplies one, in one pass over
         * the weights: a thread takes its rows a block at a time (see {@link #run}) past every position's input.
         */
        void byPosition(RowKernels kernels, Matrix[] ws, int from, int to, float[] x, int batch, float[][] outs) {
            int cols = ws[from].cols();
            if (positions.length < batch) {
                int had = positions.length;
                positions = Arrays.copyOf(positions, batch);
                positionOuts = Arrays.copyOf(positionOuts, batch);
                for (int p = had; p < batch; p++) {
                    positions[p] = new Activations();
                    positionOuts[p] = new float[0][];
                }
            }
            if (positionX.length < batch) positionX = Arrays.copyOf(positionX, batch);
            for (int p = 0; p < batch; p++) {
                if (positionX[p] == null || positionX[p].length < cols) positionX[p] = new float[cols];
                System.arraycopy(x, p * cols, positionX[p], 0, cols);
                if (positionOuts[p].length < to) positionOuts[p] = Arrays.copyOf(positionOuts[p], to);
                for (int i = from; i < to; i++) {
                    float[] o = positionOuts[p][i];
                    if (o == null || o.length < ws[i].rows()) positionOuts[p][i] = new float[ws[i].rows()];
                }
            }
            // the positions are quantized on every thread: on the caller's alone the others waited (2-3 % of a
            // 16-position prompt)
            prepareType = ws[from].type();
            prepareCols = cols;
            if ((long) batch * cols < PARALLEL_PREPARE) preparePositions(0, batch);
            else Parallel.forRange(batch, preparePositions);
            multiply(kernels, ws, from, to, 1, null, batch);
            for (int p = 0; p < batch; p++) {
                for (int i = from; i < to; i++) System.arraycopy(positionOuts[p][i], 0, outs[i], p * ws[i].rows(), ws[i].rows());
            }
        }

        private void preparePositions(int p0, int p1) {
            for (int p = p0; p < p1; p++) positions[p].prepare(prepareType, positionX[p], 1, prepareCols);
        }

        void release() {
            in.release();
            for (Activations a : positions) a.release();
            ws = null;
            outs = null;
            one[0] = null;
            oneOut[0] = null;
        }

        /**
         * Rows of chunks [start, end), each matrix's share in one call: each row is read from memory once, and F16
         * takes the share through one column panel after the other (see BlockGroups.panelWidth), not 16 rows at a time.
         */
        @Override
        public void run(int start, int end) {
            int i = 0;
            for (int c = start; c < end; ) {
                while (c >= chunkStart[i + 1]) i++;
                int last = Math.min(end, chunkStart[i + 1]);
                Matrix w = ws[first + i];
                int r0 = (c - chunkStart[i]) * ROWS_PER_CHUNK, r1 = Math.min(w.rows(), (last - chunkStart[i]) * ROWS_PER_CHUNK);
                if (inputs == 1) {
                    kernels.rows(w, r0, r1, in, batch, outs[first + i]);
                } else {
                    // a block of rows stays in L2 while every position reads it: the weights come from memory once
                    int block = Math.max(ROWS_PER_CHUNK, (int) (BLOCK_BYTES / w.rowBytes()) / ROWS_PER_CHUNK * ROWS_PER_CHUNK);
                    for (int b0 = r0; b0 < r1; b0 += block) {
                        int b1 = Math.min(r1, b0 + block);
                        int p = 0;
                        for (; p + 1 < inputs; p += 2) {
                            kernels.rows2(w, b0, b1, positions[p], positions[p + 1], positionOuts[p][first + i], positionOuts[p + 1][first + i]);
                        }
                        if (p < inputs) kernels.rows(w, b0, b1, positions[p], 1, positionOuts[p][first + i]);
                    }
                }
                c = last;
            }
        }
    }
}
