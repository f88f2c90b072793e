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
        private static final int CHUNKS_PER_THREAD = 4;   // slack for threads slowed by a busy machine
        private static final long SPIN_NANOS = 50_000;

        final int threads;
        private final Thread[] workers;
        private final AtomicBoolean busy = new AtomicBoolean();
        private final Job job = new Job();       // reused by every call: a forward pass allocates nothing here

        Pool(int threads) {
            this.threads = threads;
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
                job.work();
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

            Worker(Pool pool, int index) {
                super("slm4j-parallel-" + index);
                this.pool = pool;
                setDaemon(true);
            }

            @Override
            public void run() {
                int done = 0;      // the last generation this worker joined
                long idleSince = System.nanoTime();
                while (true) {
                    int generation = pool.job.generation();
                    if (generation != done) {
                        pool.job.work();
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
     * The pool's one job, started anew by each forRange call: its chunks are claimed in order by whichever thread
     * comes first. A worker can come late, after the call it woke for has ended and the next has started, so a
     * claim is a compare-and-set of the generation, the chunk count and the next chunk together: one that read an
     * earlier call's state fails, and never takes a chunk under another call's fields.
     */
    static final class Job {
        private static final VarHandle STATE, UNFINISHED, FAILURE;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                STATE = l.findVarHandle(Job.class, "state", long.class);
                UNFINISHED = l.findVarHandle(Job.class, "unfinished", int.class);
                FAILURE = l.findVarHandle(Job.class, "failure", Throwable.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        RangeTask task;                // written before state publishes the generation, read after a claim
        int n;
        Thread caller;
        volatile long state;           // generation (16 bits) | chunks (16) | next chunk to claim (32)
        volatile int unfinished;       // chunks not yet done
        volatile Throwable failure;    // the first exception a chunk threw

        /** A new call; only when the previous one has finished, so no chunk of it is unclaimed or running. */
        void start(RangeTask task, int n, int chunks, Thread caller) {
            this.task = task;
            this.n = n;
            this.caller = caller;
            failure = null;
            unfinished = chunks;
            long generation = generation() % 0xFFFF + 1;      // 1 .. 65535: a worker starts having seen 0
            state = generation << 48 | (long) chunks << 32;
        }

        int generation() {
            return (int) (state >>> 48);
        }

        static final int NONE_LEFT = -1, STALE = -2;

        /**
         * Claims the next chunk of the call whose state a thread read as s: its index; NONE_LEFT when that call has
         * no chunk left; STALE when the state moved on since (another claim, or a new call), to be read again.
         */
        int claim(long s) {
            int chunks = (int) (s >>> 32) & 0xFFFF, c = (int) s;
            if (c >= chunks) return NONE_LEFT;
            return STATE.compareAndSet(this, s, s + 1) ? c : STALE;
        }

        void work() {
            while (true) {
                long s = state;
                int c = claim(s), chunks = (int) (s >>> 32) & 0xFFFF;
                if (c == NONE_LEFT) return;
                if (c == STALE) continue;
                try {
                    if (failure == null) task.run((int) ((long) c * n / chunks), (int) ((long) (c + 1) * n / chunks));
                } catch (Throwable t) {
                    FAILURE.compareAndSet(this, null, t);
                } finally {
                    if ((int) UNFINISHED.getAndAdd(this, -1) == 1) LockSupport.unpark(caller);
                }
            }
        }
    }
}
