package org.slm4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.testing.Shared;

/** The benchmark's bookkeeping: repetitions, skipped parts, median and spread, bad arguments. */
class BenchmarkTest {
    @Test
    void measuresEachRepetition() {
        try (Model m = Models.open(Shared.file("fixtures/llamacpp/tiny-llama-q4_0.gguf"))) {
            Benchmark.Report r = new Benchmark(m).run(16, 8, 3);
            assertEquals(16, r.pp().tokens());
            assertEquals(3, r.pp().tokPerSec().length);
            assertEquals(3, r.tg().tokPerSec().length);
            for (double v : r.tg().tokPerSec()) assertTrue(v > 0 && Double.isFinite(v));
            assertTrue(r.pp().min() <= r.pp().median() && r.pp().median() <= r.pp().max());
            Benchmark.Report onlyTg = new Benchmark(m).run(0, 4, 1);
            assertEquals(0, onlyTg.pp().tokPerSec().length);
            assertEquals(1, onlyTg.tg().tokPerSec().length);
            int context = m.config().contextLength();
            assertThrows(IllegalArgumentException.class, () -> new Benchmark(m).run(context + 1, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> new Benchmark(m).run(4, 4, 0));
        }
    }

    @Test
    void runsAfterAFilledDepth() {
        try (Model m = Models.open(Shared.file("fixtures/llamacpp/tiny-llama-q4_0.gguf"))) {
            Benchmark.Report r = new Benchmark(m).run(4, 4, 2, 8);
            assertEquals(2, r.pp().tokPerSec().length);
            for (double v : r.tg().tokPerSec()) assertTrue(v > 0 && Double.isFinite(v));
            int context = m.config().contextLength();
            assertThrows(IllegalArgumentException.class, () -> new Benchmark(m).run(4, 4, 1, context - 3));
            assertThrows(IllegalArgumentException.class, () -> new Benchmark(m).run(4, 4, 1, -1));
        }
        // a sliding window of 4: a depth past it wraps the cache's ring, which is filled anew for each run
        try (Model m = Models.open(Shared.file("fixtures/swa/tiny-swa-w4.gguf"))) {
            Benchmark.Report r = new Benchmark(m).run(3, 5, 2, 6);
            assertEquals(2, r.tg().tokPerSec().length);
            for (double v : r.pp().tokPerSec()) assertTrue(v > 0 && Double.isFinite(v));
        }
    }

    @Test
    void medianOfEvenAndOddCounts() {
        assertEquals(2.0, new Benchmark.Result(1, new double[] {3, 1, 2}).median());
        assertEquals(2.5, new Benchmark.Result(1, new double[] {4, 1, 3, 2}).median());
    }
}
