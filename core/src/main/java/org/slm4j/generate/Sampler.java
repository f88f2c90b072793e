package org.slm4j.generate;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * Picks the next token from a row of logits, as llama.cpp's common sampler chain does: repetition
 * penalty → top-k → top-p → min-p → temperature → softmax → a draw with a seeded generator.
 *
 * <p>Top-p and min-p judge the candidates at temperature 1 (temperature comes after them in the chain);
 * top-p sees the probabilities renormalized over what top-k kept. Temperature 0 is greedy: the most
 * likely token after the penalty, the lowest id on ties.
 *
 * <p>All scratch is allocated once, sized by the vocabulary; {@link #sample} allocates nothing and never
 * writes to the caller's arrays. Not thread-safe: one sampler per generation run.
 */
public final class Sampler {
    private final GenerationOptions options;
    private final int vocabSize;
    private final long seed;
    private final SplitMix64 rng;
    private final float[] z;        // [vocabSize] the logits after the repetition penalty
    private final int[] ids;        // [vocabSize] candidate token ids, best first once sorted
    private final float[] weights;  // [vocabSize] unnormalized probabilities of ids[i] at the temperature
    private final boolean[] seen;   // [vocabSize] marks penalized tokens, all false between calls

    public Sampler(GenerationOptions options, int vocabSize) {
        this.options = Objects.requireNonNull(options, "options");
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize = " + vocabSize + ": expected > 0");
        }
        this.vocabSize = vocabSize;
        this.seed = options.seed() == GenerationOptions.RANDOM_SEED ? new SecureRandom().nextLong() : options.seed();
        this.rng = new SplitMix64(seed);
        this.z = new float[vocabSize];
        this.ids = new int[vocabSize];
        this.weights = new float[vocabSize];
        this.seen = new boolean[vocabSize];
    }

    /** The seed in use: the options' seed, or the one drawn for {@link GenerationOptions#RANDOM_SEED}. */
    public long seed() {
        return seed;
    }

    /**
     * Picks the next token from {@code logits[offset .. offset + vocabSize)}.
     *
     * @param recent      the tokens seen so far (prompt and generated), newest last; only read. The
     *                    repetition penalty looks at the last {@code repeatLastN} of the first {@code recentCount}.
     * @param recentCount how many entries of {@code recent} are in use
     * @throws IllegalArgumentException if the ranges do not fit the arrays, a recent token the penalty looks
     *                                  at is outside the vocabulary, or the logits have no finite maximum
     */
    public int sample(float[] logits, int offset, int[] recent, int recentCount) {
        return sample(logits, offset, recent, recentCount, rng.nextDouble());
    }

    /** {@link #sample} with the draw's uniform number {@code coin} in [0, 1) given (run.c's style), for tests. */
    int sample(float[] logits, int offset, int[] recent, int recentCount, double coin) {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(recent, "recent");
        if (offset < 0 || offset > logits.length - vocabSize) {
            throw new IllegalArgumentException("logits: need " + vocabSize + " floats from offset " + offset
                    + ", the array has " + logits.length);
        }
        if (recentCount < 0 || recentCount > recent.length) {
            throw new IllegalArgumentException("recentCount = " + recentCount + ": expected 0 .. " + recent.length);
        }
        int n = vocabSize;
        System.arraycopy(logits, offset, z, 0, n);
        penalize(recent, Math.max(0, recentCount - options.repeatLastN()), recentCount);
        int best = argmax(z, 0, n);
        float zmax = z[best];
        if (!Float.isFinite(zmax)) {
            throw new IllegalArgumentException("logits: maximum is " + zmax + ", expected a finite value");
        }
        if (options.temperature() == 0) {
            return best;
        }
        int m = candidates(n, zmax);
        return draw(m, zmax, coin);
    }

    /** Index (relative to {@code offset}) of the largest of {@code logits[offset .. offset + n)}; the lowest on ties. */
    public static int argmax(float[] logits, int offset, int n) {
        Objects.checkFromIndexSize(offset, n, logits.length);
        if (n == 0) {
            throw new IllegalArgumentException("argmax of no logits");
        }
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    /** Penalizes each distinct token of {@code recent[from .. to)} once, however often it occurs. */
    private void penalize(int[] recent, int from, int to) {
        float penalty = options.repeatPenalty();
        if (penalty == 1 || from == to) {
            return;
        }
        for (int i = from; i < to; i++) { // all checked before any is marked, so a throw leaves seen[] clear
            if (recent[i] < 0 || recent[i] >= vocabSize) {
                throw new IllegalArgumentException("recent[" + i + "] = " + recent[i] + ": expected a token id in [0, "
                        + vocabSize + ")");
            }
        }
        for (int i = from; i < to; i++) {
            int t = recent[i];
            if (!seen[t]) {
                seen[t] = true;
                z[t] = z[t] > 0 ? z[t] / penalty : z[t] * penalty;
            }
        }
        for (int i = from; i < to; i++) {
            seen[recent[i]] = false;
        }
    }

    /**
     * Fills {@code ids[0 .. m)} with the tokens that survive top-k, top-p and min-p and returns m. The
     * survivors come best first, except when no filter is on: then all tokens stay, in id order.
     */
    private int candidates(int n, float zmax) {
        int topK = options.topK();
        float topP = options.topP();
        float minP = options.minP();
        // min-p's bar in logit space: p >= minP * pmax  <=>  logit >= max logit + ln(minP), as llama.cpp tests it
        double minLogit = minP > 0 ? zmax + Math.log(minP) : Double.NEGATIVE_INFINITY;
        int m;
        double total; // sum of exp(z - zmax) over the distribution top-p measures against
        if (topK > 0 && topK < n) {
            m = topK(n, topK);
            total = sumExp(m, zmax);
        } else if (topP < 1 || minP > 0) {
            total = 0;
            for (int i = 0; i < n; i++) {
                total += Math.exp(z[i] - zmax);
            }
            m = aboveFloor(n, zmax, minLogit, topP * total);
        } else {
            for (int i = 0; i < n; i++) {
                ids[i] = i;
            }
            return n;
        }
        if (topP < 1) {
            double cum = 0;
            for (int i = 0; i < m; i++) {
                cum += Math.exp(z[ids[i]] - zmax);
                if (cum >= topP * total) {
                    m = i + 1;
                    break;
                }
            }
        }
        int kept = 1; // the best token always passes min-p
        while (kept < m && z[ids[kept]] >= minLogit) {
            kept++;
        }
        return kept;
    }

    /**
     * Without top-k, sorting the whole vocabulary per token would be wasteful. Top-p's prefix lies inside any
     * set {logit >= floor} whose mass reaches {@code needed}, and min-p's survivors are such a set by
     * definition (if they fall short of top-p's mass, top-p cuts nothing more). So only tokens above a floor
     * are collected and sorted, the floor dropping until enough mass is in.
     */
    private int aboveFloor(int n, float zmax, double minLogit, double needed) {
        for (int round = 1; ; round++) {
            // floors zmax - 8 (e^-8 ≈ 3e-4 of the best token), zmax - 16, then every token; never below min-p's bar,
            // and on reaching that bar (at the latest in round 3) the collected set is the answer
            double floor = Math.max(round < 3 ? zmax - 8.0 * round : Double.NEGATIVE_INFINITY, minLogit);
            int m = 0;
            double mass = 0;
            for (int i = 0; i < n; i++) {
                if (z[i] >= floor) {
                    ids[m++] = i;
                    mass += Math.exp(z[i] - zmax);
                }
            }
            if (mass >= needed || floor == minLogit) {
                for (int i = m / 2 - 1; i >= 0; i--) {
                    siftDown(i, m);
                }
                sortHeap(m);
                return m;
            }
        }
    }

    /** Puts the k best tokens, best first, into {@code ids[0 .. k)}: a heap of the k best so far, O(n log k). */
    private int topK(int n, int k) {
        for (int i = 0; i < k; i++) {
            ids[i] = i;
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(i, k);
        }
        for (int i = k; i < n; i++) {
            if (z[i] > z[ids[0]]) { // a later id only displaces the weakest if strictly better
                ids[0] = i;
                siftDown(0, k);
            }
        }
        sortHeap(k);
        return k;
    }

    /** Ranking of candidates: by logit, then lower id first (llama.cpp's greedy rule). */
    private boolean worse(int a, int b) {
        return z[a] < z[b] || (z[a] == z[b] && a > b);
    }

    /** Restores the heap below {@code i} in {@code ids[0 .. size)}; the root is the worst candidate. */
    private void siftDown(int i, int size) {
        int id = ids[i];
        for (int c; (c = 2 * i + 1) < size; i = c) {
            if (c + 1 < size && worse(ids[c + 1], ids[c])) {
                c++;
            }
            if (!worse(ids[c], id)) {
                break;
            }
            ids[i] = ids[c];
        }
        ids[i] = id;
    }

    /** Turns the heap {@code ids[0 .. size)} into a best-first list: the worst goes to the end, repeatedly. */
    private void sortHeap(int size) {
        for (int end = size - 1; end > 0; end--) {
            int worst = ids[0];
            ids[0] = ids[end];
            ids[end] = worst;
            siftDown(0, end);
        }
    }

    private double sumExp(int m, float zmax) {
        double total = 0;
        for (int i = 0; i < m; i++) {
            total += Math.exp(z[ids[i]] - zmax);
        }
        return total;
    }

    /** Softmax of the candidates at the temperature, then the token where {@code coin} falls in the cumulative sum. */
    private int draw(int m, float zmax, double coin) {
        float temperature = options.temperature();
        double total = 0;
        for (int i = 0; i < m; i++) {
            weights[i] = (float) Math.exp((z[ids[i]] - zmax) / temperature);
            total += weights[i];
        }
        double target = coin * total;
        double cdf = 0;
        int last = 0; // the last candidate with any weight, should rounding leave target beyond the sum
        for (int i = 0; i < m; i++) {
            cdf += weights[i];
            if (target < cdf) {
                return ids[i];
            }
            if (weights[i] > 0) {
                last = i;
            }
        }
        return ids[last];
    }
}
