package org.slm4j.tensor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of worker threads that splits an index range into contiguous chunks and runs them on the workers
 * plus the calling thread.
 *
 * <p>Each thread owns a contiguous share of the range and walks it from the front; one that runs out takes chunks
 * from the back of another's share. A memory-bound matmul so reads one unbroken stream per core (chunks handed
 * out in turn broke it at every chunk: 4-7 % slower generation), and a thread slowed by a busy machine is still
 * helped.
 *
 * <p>The thread count (workers plus caller) comes from {@link #setThreads(int)}, else {@code -Dslm4j.threads}, else
 * the available processors, and is fixed at first use. Workers spin briefly after a job before they park, because a
 * forward pass issues matmuls back to back and waking a parked thread costs more than a small matmul. A call made
 * from inside a task, or while another thread's call holds the pool, runs on its own thread instead of waiting.
 */
public final class Parallel {
    private Parallel() {}

    /** Work on the index range [start, end). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private static final Object LOCK = new Object();
    private static int requested;            // from setThreads; 0 when not set
    private static volatile Pool pool;

    /** Sets the thread count (workers plus caller); only before the first use. */
    public static void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        synchronized (LOCK) {
            if (pool != null) {
                throw new IllegalStateException("Parallel already runs " + pool.threads
                        + " threads; setThreads must come before its first use");
            }
            requested = threads;
        }
    }

    /** The thread count, workers plus caller (starts the pool). */
    public static int threads() {
        return pool().threads;
    }

    /**
     * Splits [0, n) into contiguous chunks, runs them on the workers and the calling thread, and returns when all
     * are done. The first exception a chunk throws is rethrown here, after the other chunks finished.
     */
    public static void forRange(int n, RangeTask task) {
        Objects.requireNonNull(task, "task");
        if (n < 0) throw new IllegalArgumentException("range size must be non-negative, got " + n);
        if (n == 0) return;
        pool().run(n, task);
    }

    private static Pool pool() {
        Pool p = pool;
        if (p != null) return p;
        synchronized (LOCK) {
            if (pool == null) pool = new Pool(requested > 0 ? requested : configuredThreads());
            return pool;
        }
    }

    private static int configuredThreads() {
        String s = System.getProperty("slm4j.threads", "").strip();
        if (s.isEmpty()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(s);
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-Dslm4j.threads=" + s + ": expected a whole number of at least 1");
    }

    private static final class Pool {
        private static final int CHUNKS_PER_THREAD = 16;  // the unit a thread that ran out takes from another
        private static final long SPIN_NANOS = 50_000;

        final int threads;
        private final Thread[] workers;
        private final AtomicBoolean busy = new AtomicBoolean();
        private final Job job;                   // reused by every call: a forward pass allocates nothing here

        Pool(int threads) {
            this.threads = threads;
            this.job = new Job(threads);
            this.workers = new Thread[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this, i + 1);
                workers[i].start();
            }
        }

        void run(int n, RangeTask task) {
            if (workers.length == 0 || n == 1 || Thread.currentThread() instanceof Worker || !busy.compareAndSet(false, true)) {
                task.run(0, n);
                return;
            }
            try {
                job.start(task, n, Math.min(n, Math.min(threads * CHUNKS_PER_THREAD, 0xFFFF)), Thread.currentThread());
                for (Thread w : workers) LockSupport.unpark(w);
                job.work(0, job.generation());
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (job.unfinished != 0) {
                    if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
            } finally {
                job.task = null;
                busy.set(false);
            }
            Throwable failure = job.failure;
            if (failure instanceof RuntimeException e) throw e;
            if (failure instanceof Error e) throw e;
            if (failure != null) throw new RuntimeException(failure);
        }

        /** A worker: takes chunks of each new job, spinning a while between jobs before it parks. */
        private static final class Worker extends Thread {
            private final Pool pool;
            private final int index;       // the share it owns; the caller owns share 0

            Worker(Pool pool, int index) {
                super("slm4j-parallel-" + index);
                this.pool = pool;
                this.index = index;
                setDaemon(true);
            }

            @Override
            public void run() {
                int done = 0;      // the last generation this worker joined
                long idleSince = System.nanoTime();
                while (true) {
                    int generation = pool.job.generation();
                    if (generation != done) {
                        pool.job.work(index, generation);
                        done = generation;
                        idleSince = System.nanoTime();
                    } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(pool);
                    }
                }
            }
        }
    }

    /**
     * The pool's one job, started anew by each forRange call. Its chunks are dealt out as one contiguous share per
     * thread; a share's state (generation, front, back) is one long, claimed by compare-and-set: its owner takes the
     * front chunk, others the back one. A worker can come late, after the call it woke for has ended and the next
     * has started: the generation in each share makes its claim fail, so it never runs a chunk under another call's
     * fields.
     */
    static final class Job {
        private static final VarHandle SHARES = MethodHandles.arrayElementVarHandle(long[].class);
        private static final VarHandle UNFINISHED, FAILURE;
        private static final int STRIDE = 8;      // longs between two shares: each on a cache line of its own

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                UNFINISHED = l.findVarHandle(Job.class, "unfinished", int.class);
                FAILURE = l.findVarHandle(Job.class, "failure", Throwable.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int threads;
        private final long[] shares;   // [t * STRIDE]: generation (32 bits) | front chunk (16) | end chunk (16)
        RangeTask task;                // written before the generation is published, read after a claim
        int n, chunks;
        boolean shrink;                // chunks shrink towards a share's back (see bound)
        Thread caller;
        volatile int generation;       // the current call's: 1 .. Integer.MAX_VALUE, then 1 again
        volatile int unfinished;       // chunks not yet done
        volatile Throwable failure;    // the first exception a chunk threw

        Job(int threads) {
            this.threads = threads;
            this.shares = new long[threads * STRIDE];
        }

        /** A new call; only when the previous one has finished, so no chunk of it is unclaimed or running. */
        void start(RangeTask task, int n, int chunks, Thread caller) {
            this.task = task;
            this.n = n;
            this.chunks = chunks;
            this.shrink = n >= 4L * chunks;
            this.caller = caller;
            failure = null;
            unfinished = chunks;
            long g = generation == Integer.MAX_VALUE ? 1 : generation + 1;    // a worker starts having seen 0
            for (int t = 0; t < threads; t++) {
                long front = (long) t * chunks / threads, end = (long) (t + 1) * chunks / threads;
                SHARES.setVolatile(shares, t * STRIDE, g << 32 | front << 16 | end);
            }
            generation = (int) g;      // volatile: publishes the shares and the fields above
        }

        int generation() {
            return generation;
        }

        long share(int t) {
            return (long) SHARES.getVolatile(shares, t * STRIDE);
        }

        static final int NONE_LEFT = -1, STALE = -2;

        /**
         * Claims a chunk of share t, whose state a thread read as s, for the call of generation g: the front chunk
         * for its owner, else the back one. Its index; NONE_LEFT when the share is empty or belongs to another call;
         * STALE when the state moved on since (another claim), to be read again.
         */
        int claim(int t, long s, int g, boolean front) {
            int first = (int) (s >>> 16) & 0xFFFF, end = (int) s & 0xFFFF;
            if ((int) (s >>> 32) != g || first >= end) return NONE_LEFT;
            if (front) return SHARES.compareAndSet(shares, t * STRIDE, s, s + (1L << 16)) ? first : STALE;
            return SHARES.compareAndSet(shares, t * STRIDE, s, s - 1) ? end - 1 : STALE;
        }

        /**
         * Where chunk c of share t starts (c one past the share's last: where it ends). A share's chunks shrink from
         * its front to its back, chunk i of S covering (2(S - i) - 1) / S^2 of it, so its owner starts with long
         * runs and a thread that ran out takes short ones: the last to finish keeps the other waiting for a
         * fraction of an even chunk. Chunks stay even where there are fewer than 4 indexes per chunk (attention's
         * heads, a small matmul), so each gets one; in longer shares the last chunks can round to nothing, and
         * {@link #work} skips those.
         */
        private int bound(int t, int c) {
            if (!shrink) return (int) ((long) c * n / chunks);
            long a = (long) t * n / threads, b = (long) (t + 1) * n / threads;
            int s0 = (int) ((long) t * chunks / threads), size = (int) ((long) (t + 1) * chunks / threads) - s0;
            long left = size - (c - s0);
            return (int) (b - (b - a) * left * left / ((long) size * size));
        }

        /** Thread {@code self}'s part of the call of generation g: its own share, then what is left of the others. */
        void work(int self, int g) {
            int done = 0;
            for (int k = 0; k < threads; k++) {
                int t = (self + k) % threads;
                while (true) {
                    int c = claim(t, share(t), g, t == self);
                    if (c == NONE_LEFT) break;
                    if (c == STALE) continue;
                    try {
                        int from = bound(t, c), to = bound(t, c + 1);
                        if (failure == null && from < to) task.run(from, to);
                    } catch (Throwable e) {
                        FAILURE.compareAndSet(this, null, e);
                    }
                    done++;
                }
            }
            // one count per thread and call, not per chunk: the counter's cache line is the one both threads write
            if (done > 0 && (int) UNFINISHED.getAndAdd(this, -done) == done) LockSupport.unpark(caller);
        }
    }
}
