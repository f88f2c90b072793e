package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyIndexRunsOnceInContiguousChunks() {
        for (int n : new int[] {1, 2, 3, 17, 1000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            Parallel.forRange(n, (start, end) -> {
                assertTrue(0 <= start && start < end && end <= n);
                for (int i = start; i < end; i++) hits.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " of " + n);
        }
        Parallel.forRange(0, (start, end) -> { throw new AssertionError("empty range ran"); });
    }

    /**
     * Many short calls back to back: the pool's one job is restarted for each, and a worker that comes late to a
     * call must neither take a chunk of the next one twice nor skip one (a double or a missing count here, or a hang).
     * Every other call is long enough for shrinking chunks, some of which are empty (see Parallel.Job.bound).
     */
    @Test
    void backToBackCallsEachRunEveryIndexOnce() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int call = 0; call < 20_000; call++) {
                int n = call % 2 == 0 ? 2 + call % 37 : 128 + call % 301;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(n, (start, end) -> { for (int i = start; i < end; i++) hits.incrementAndGet(i); });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "call " + call + ", index " + i + " of " + n);
            }
        });
    }

    /**
     * The interleaving the stress test above cannot force: a worker reads a call's state, is held up while that call
     * finishes and the next starts, then claims. Its claim must fail, and the new call's chunks stay whole.
     */
    @Test
    void aLateClaimTakesNothingFromTheNextCall() {
        Parallel.Job job = new Parallel.Job(2);
        AtomicIntegerArray first = new AtomicIntegerArray(4), second = new AtomicIntegerArray(4);
        Thread caller = Thread.currentThread();
        job.start((start, end) -> { for (int i = start; i < end; i++) first.incrementAndGet(i); }, 4, 4, caller);
        int g1 = job.generation();
        long seenByTheLateWorker = job.share(1);
        job.work(0, g1);                              // the call runs to its end without that worker
        job.start((start, end) -> { for (int i = start; i < end; i++) second.incrementAndGet(i); }, 4, 4, caller);
        assertEquals(Parallel.Job.STALE, job.claim(1, seenByTheLateWorker, g1, true));
        assertEquals(Parallel.Job.NONE_LEFT, job.claim(1, job.share(1), g1, true));   // read again: not its call
        job.work(0, job.generation());
        for (int i = 0; i < 4; i++) {
            assertEquals(1, first.get(i), "first call, index " + i);
            assertEquals(1, second.get(i), "second call, index " + i);
        }
        assertEquals(0, job.unfinished);
    }

    /** A thread walks its own share front to back (one unbroken stream), then takes the others' from their backs. */
    /**
     * With 4 or more indexes per chunk, a share's chunks shrink from front to back, chunk i of S covering
     * (2(S - i) - 1) / S^2 of it: 32 indexes in 4 chunks are 14, 10, 6 and 2, so a thread that ran out takes the
     * short ones first.
     */
    @Test
    void chunksShrinkTowardsTheBackOfAShare() {
        Parallel.Job job = new Parallel.Job(2);
        List<List<Integer>> ranges = new ArrayList<>();
        job.start((start, end) -> ranges.add(List.of(start, end)), 64, 8, Thread.currentThread());
        job.work(0, job.generation());
        assertEquals(List.of(List.of(0, 14), List.of(14, 24), List.of(24, 30), List.of(30, 32),
                List.of(62, 64), List.of(56, 62), List.of(46, 56), List.of(32, 46)), ranges);
        assertEquals(0, job.unfinished);
    }

    @Test
    void aThreadWalksItsShareThenTakesFromTheBackOfTheOthers() {
        Parallel.Job job = new Parallel.Job(2);
        List<Integer> order = new ArrayList<>();
        job.start((start, end) -> order.add(start), 8, 8, Thread.currentThread());
        job.work(0, job.generation());
        assertEquals(List.of(0, 1, 2, 3, 7, 6, 5, 4), order);
        assertEquals(0, job.unfinished);

        order.clear();
        job.start((start, end) -> order.add(start), 8, 8, Thread.currentThread());
        job.work(1, job.generation());
        assertEquals(List.of(4, 5, 6, 7, 3, 2, 1, 0), order);
    }

    @Test
    void aChunksExceptionReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        for (int attempt = 0; attempt < 3; attempt++) {
            assertSame(boom, assertThrows(IllegalStateException.class, () -> Parallel.forRange(64, (start, end) -> {
                if (start <= 40 && 40 < end) throw boom;
            })));
        }
        AtomicIntegerArray hits = new AtomicIntegerArray(8);
        Parallel.forRange(8, (start, end) -> { for (int i = start; i < end; i++) hits.incrementAndGet(i); });
        for (int i = 0; i < 8; i++) assertEquals(1, hits.get(i), "the pool still works after a failure");
    }

    @Test
    void nestedCallsRunWithoutDeadlock() {
        AtomicIntegerArray hits = new AtomicIntegerArray(16 * 16);
        Parallel.forRange(16, (s, e) -> {
            for (int i = s; i < e; i++) {
                int outer = i;
                Parallel.forRange(16, (s2, e2) -> { for (int j = s2; j < e2; j++) hits.incrementAndGet(16 * outer + j); });
            }
        });
        for (int i = 0; i < hits.length(); i++) assertEquals(1, hits.get(i));
    }

    @Test
    void theThreadCountIsFixedOnceStarted() {
        assertTrue(Parallel.threads() >= 1);
        assertThrows(IllegalStateException.class, () -> Parallel.setThreads(3));
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
    }
}
