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
        private volatile Job current;

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
            Job job = new Job(task, n, Math.min(n, threads * CHUNKS_PER_THREAD), Thread.currentThread());
            try {
                current = job;
                for (Thread w : workers) LockSupport.unpark(w);
                job.work();
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (job.unfinished != 0) {
                    if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
            } finally {
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
                Job done = null;
                long idleSince = System.nanoTime();
                while (true) {
                    Job job = pool.current;
                    if (job != done) {
                        job.work();
                        done = job;
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

    /** One forRange call: its chunks are claimed in order by whichever thread comes first. */
    private static final class Job {
        private static final VarHandle NEXT, UNFINISHED, FAILURE;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                NEXT = l.findVarHandle(Job.class, "next", int.class);
                UNFINISHED = l.findVarHandle(Job.class, "unfinished", int.class);
                FAILURE = l.findVarHandle(Job.class, "failure", Throwable.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final RangeTask task;
        final int n, chunks;
        final Thread caller;
        volatile int next;             // the next chunk to claim
        volatile int unfinished;       // chunks not yet done
        volatile Throwable failure;    // the first exception a chunk threw

        Job(RangeTask task, int n, int chunks, Thread caller) {
            this.task = task;
            this.n = n;
            this.chunks = chunks;
            this.caller = caller;
            this.unfinished = chunks;
        }

        void work() {
            for (int c; (c = (int) NEXT.getAndAdd(this, 1)) < chunks; ) {
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
