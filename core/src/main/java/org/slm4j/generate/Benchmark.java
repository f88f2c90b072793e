package org.slm4j.generate;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.slm4j.Model;
import org.slm4j.model.Batch;
import org.slm4j.model.KvCache;
import org.slm4j.model.Transformer;

/**
 * Speed as llama-bench measures it: prompt processing (pp) is one batch of {@code promptTokens} random tokens
 * into the cache, logits for the last; text generation (tg) is {@code genTokens} single-token steps. Both start
 * from an empty cache, or from one holding {@code depth} tokens (llama-bench's {@code -d}: attention then reads that
 * many keys more per token), filled before the clock starts. Each is repeated and summarized by its median.
 *
 * <p>First comes a warm-up, as in llama-bench, but one a JIT needs: whole runs of what is measured, the prompt and
 * then the generation, each repeated while the JIT still compiled for a while during its last run. Shorter ones
 * left work to the first measured run: a 32-token prompt left the 512-token tiles (215-220 tok/s where the runs after
 * it read 238-250, TinyLlama Q4_0 on two threads); 8 generation steps left the attention's longer spans (an
 * uncommon trap at a new branch, then a recompilation) and the methods called a few times per layer, which reach
 * C2 only after a few thousand calls. TinyLlama Q4_0, two threads, four 128-token runs per JVM: the first ran at
 * 0.77-0.91 of the mean of the other three in four JVMs, and even after 48 warm-up steps the JIT spent 185 ms in
 * the first run, 36 in the second and 1 in the third; with this warm-up the first ran at 0.85-1.20 of the others.
 */
public final class Benchmark {
    private static final int WARMUP_RUNS = 3;             // at most, of each kind
    private static final long QUIET_MS = 20;              // JIT time during a run that ends the warm-up
    private static final int FILL_BATCH = 512;        // depth tokens per forward pass

    private final Model model;
    private final SplittableRandom random = new SplittableRandom(1234);

    public Benchmark(Model model) {
        this.model = model;
    }

    /** Tokens per second of each repetition, and their summary. */
    public record Result(int tokens, double[] tokPerSec) {
        public double median() {
            double[] s = tokPerSec.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        public double min() { return Arrays.stream(tokPerSec).min().orElse(Double.NaN); }

        public double max() { return Arrays.stream(tokPerSec).max().orElse(Double.NaN); }
    }

    /** Both measurements; a count of 0 skips that one (its result has no repetitions). */
    public record Report(Result pp, Result tg) {}

    /** Runs pp and tg {@code repetitions} times each after a warm-up, from an empty cache. */
    public Report run(int promptTokens, int genTokens, int repetitions) {
        return run(promptTokens, genTokens, repetitions, 0);
    }

    /** Runs pp and tg {@code repetitions} times each after a warm-up, each from a cache holding depth tokens. */
    public Report run(int promptTokens, int genTokens, int repetitions, int depth) {
        if (promptTokens < 0 || genTokens < 0 || repetitions < 1 || depth < 0) {
            throw new IllegalArgumentException("prompt " + promptTokens + ", generated " + genTokens + ", repetitions "
                    + repetitions + ", depth " + depth + ": counts must be non-negative, repetitions at least 1");
        }
        int context = model.config().contextLength();
        if ((long) depth + Math.max(promptTokens, genTokens) > context) {
            throw new IllegalArgumentException("a run of " + Math.max(promptTokens, genTokens) + " tokens after a depth of "
                    + depth + " exceeds the model's context of " + context);
        }
        // one transformer and cache per kind, reused by every repetition: the heap holds no garbage to inflate RSS;
        // the prompt's transformer also fills the depth
        int p = Math.max(1, promptTokens), fill = Math.min(depth, FILL_BATCH);
        Transformer pt = model.newTransformer(Math.max(p, fill)), gt = model.newTransformer(1);
        KvCache pc = model.newCache(depth + p, Math.max(p, fill)), gc = model.newCache(depth + Math.max(1, genTokens), Math.max(1, fill));
        warmUp(() -> prompt(pt, pc, p, depth));
        warmUp(() -> generate(gt, gc, Math.max(1, genTokens), pt, depth));
        double[] pp = new double[promptTokens > 0 ? repetitions : 0], tg = new double[genTokens > 0 ? repetitions : 0];
        for (int i = 0; i < pp.length; i++) pp[i] = promptTokens / prompt(pt, pc, promptTokens, depth);
        for (int i = 0; i < tg.length; i++) tg[i] = genTokens / generate(gt, gc, genTokens, pt, depth);
        return new Report(new Result(promptTokens, pp), new Result(genTokens, tg));
    }

    /** Runs {@code run} until the JIT compiles for less than QUIET_MS during it, at most WARMUP_RUNS times. */
    private static void warmUp(Runnable run) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        for (int i = 0; i < WARMUP_RUNS; i++) {
            long before = timed ? jit.getTotalCompilationTime() : 0;
            run.run();
            if (!timed || jit.getTotalCompilationTime() - before < QUIET_MS) return;
        }
    }

    /** Seconds to evaluate {@code n} random tokens as one batch after depth tokens. */
    private double prompt(Transformer t, KvCache cache, int n, int depth) {
        fill(t, cache, depth);
        Batch batch = Batch.of(cache, randomTokens(n), false);
        long start = System.nanoTime();
        t.forward(batch);
        return (System.nanoTime() - start) / 1e9;
    }

    /** Seconds for {@code n} single-token steps after depth tokens (filled by filler), each token fed back as the next input. */
    private double generate(Transformer t, KvCache cache, int n, Transformer filler, int depth) {
        fill(filler, cache, depth);
        int[] token = randomTokens(1);
        int[] position = new int[1];
        Batch step = new Batch(token, position, new KvCache[] {cache}, new boolean[] {true});
        int vocab = model.config().vocabSize();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            position[0] = depth + i;
            float[] out = t.forward(step);
            token[0] = Sampler.argmax(out, 0, vocab);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Leaves depth random tokens in the cache: the ones a previous run left, when the cache can be rewound to them
     * (a sliding window's ring may have overwritten them), else new ones in batches of FILL_BATCH.
     */
    private void fill(Transformer filler, KvCache cache, int depth) {
        if (cache.length() >= depth && depth > 0 && cache.capacity() == cache.maxPositions()) {
            cache.truncate(depth);
            return;
        }
        cache.truncate(0);
        for (int done = 0; done < depth; done += FILL_BATCH) {
            filler.forward(Batch.of(cache, randomTokens(Math.min(FILL_BATCH, depth - done)), false));
        }
    }

    private int[] randomTokens(int n) {
        int vocab = model.config().vocabSize();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(vocab);
        return ids;
    }
}
