package org.slm4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.slm4j.Model;
import org.slm4j.model.Batch;
import org.slm4j.model.KvCache;
import org.slm4j.model.Transformer;

/**
 * Speed as llama-bench measures it: prompt processing (pp) is one batch of {@code promptTokens} random tokens
 * into an empty cache, logits for the last; text generation (tg) is {@code genTokens} single-token steps from an
 * empty cache. Each is repeated and summarized by its median. First, as llama-bench does, a warm-up runs the whole
 * prompt once and a few generation steps: the JIT compiles the kernels for the prompt's shape there, not in the
 * first measured run (a 32-token warm-up left the 512-token tiles to the first run: 215-220 tok/s where the runs
 * after it read 238-250, TinyLlama Q4_0 on two threads).
 */
public final class Benchmark {
    private static final int WARMUP_STEPS = 8;

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

    /** Runs pp and tg {@code repetitions} times each after a warm-up. */
    public Report run(int promptTokens, int genTokens, int repetitions) {
        if (promptTokens < 0 || genTokens < 0 || repetitions < 1) {
            throw new IllegalArgumentException("prompt " + promptTokens + ", generated " + genTokens + ", repetitions "
                    + repetitions + ": counts must be non-negative, repetitions at least 1");
        }
        int context = model.config().contextLength();
        if (Math.max(promptTokens, genTokens) > context) {
            throw new IllegalArgumentException("a run of " + Math.max(promptTokens, genTokens)
                    + " tokens exceeds the model's context of " + context);
        }
        // one transformer and cache per kind, reused by every repetition: the heap holds no garbage to inflate RSS
        int p = Math.max(1, promptTokens);
        Transformer pt = model.newTransformer(p), gt = model.newTransformer(1);
        KvCache pc = model.newCache(p, p), gc = model.newCache(Math.max(1, genTokens), 1);
        prompt(pt, pc, p);
        generate(gt, gc, Math.min(WARMUP_STEPS, Math.max(1, genTokens)));
        double[] pp = new double[promptTokens > 0 ? repetitions : 0], tg = new double[genTokens > 0 ? repetitions : 0];
        for (int i = 0; i < pp.length; i++) pp[i] = promptTokens / prompt(pt, pc, promptTokens);
        for (int i = 0; i < tg.length; i++) tg[i] = genTokens / generate(gt, gc, genTokens);
        return new Report(new Result(promptTokens, pp), new Result(genTokens, tg));
    }

    /** Seconds to evaluate {@code n} random tokens as one batch from an empty cache. */
    private double prompt(Transformer t, KvCache cache, int n) {
        cache.truncate(0);
        Batch batch = Batch.of(cache, randomTokens(n), false);
        long start = System.nanoTime();
        t.forward(batch);
        return (System.nanoTime() - start) / 1e9;
    }

    /** Seconds for {@code n} single-token steps from an empty cache, each token fed back as the next input. */
    private double generate(Transformer t, KvCache cache, int n) {
        cache.truncate(0);
        int[] token = randomTokens(1);
        int[] position = new int[1];
        Batch step = new Batch(token, position, new KvCache[] {cache}, new boolean[] {true});
        int vocab = model.config().vocabSize();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            position[0] = i;
            float[] out = t.forward(step);
            token[0] = Sampler.argmax(out, 0, vocab);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private int[] randomTokens(int n) {
        int vocab = model.config().vocabSize();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(vocab);
        return ids;
    }
}
