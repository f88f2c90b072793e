package org.slm4j.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;

/**
 * Bytes that compiled code allocates, on the calling thread and on {@code Parallel}'s workers. Interpreted or
 * C1-compiled, every Vector API operation allocates its result, so work is measured only after a warm-up; and since
 * compilations may still be queued then, the answer is the fewest bytes of several rounds: a real allocation shows
 * in every round.
 */
public final class Allocations {
    private Allocations() {}

    private static final int ROUNDS = 50;

    /**
     * Runs {@code step} {@code warmUp} times, then in rounds of {@code perRound} calls until a round allocates less
     * than {@code limit} bytes (or {@value #ROUNDS} rounds); returns the fewest bytes a round allocated. Skips the
     * test where the JVM cannot count a thread's allocations.
     */
    public static long fewestPerRound(Runnable step, int warmUp, int perRound, long limit) {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocated bytes per thread");
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < warmUp; i++) step.run();
        long[] threads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t == Thread.currentThread() || t.getName().startsWith("slm4j-parallel-"))
                .mapToLong(Thread::threadId).toArray();
        long fewest = Long.MAX_VALUE;
        for (int round = 0; round < ROUNDS && fewest >= limit; round++) {
            if (round > 0) pause();     // the compiler threads share this machine's cores with the test
            long before = allocated(mx, threads);
            for (int i = 0; i < perRound; i++) step.run();
            fewest = Math.min(fewest, allocated(mx, threads) - before);
        }
        return fewest;
    }

    /** One thread at a time: the array-returning form allocates its result, which the count would include. */
    private static long allocated(com.sun.management.ThreadMXBean mx, long[] threads) {
        long sum = 0;
        for (long id : threads) sum += mx.getThreadAllocatedBytes(id);
        return sum;
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
