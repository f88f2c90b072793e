package org.slm4j.generate;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final int[] NONE = {};
    private static final double LAST = Math.nextDown(1.0); // a coin that lands on the last kept candidate

    /** Temperature 1, every filter off, fixed seed: each test turns on what it checks. */
    private static final GenerationOptions PLAIN = GenerationOptions.defaults()
            .withTemperature(1).withTopK(0).withTopP(1).withMinP(0).withSeed(1);

    /**
     * Probabilities by id: 0 → .20, 1 → .10, 2 → .05, 3 → .50, 4 → .15; best first that is 3, 0, 4, 1, 2
     * with cumulative sums .50, .70, .85, .95, 1.
     */
    private static final float[] FIVE = logits(0.20, 0.10, 0.05, 0.50, 0.15);

    private static float[] logits(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    private static int pick(GenerationOptions o, float[] logits, double coin) {
        return new Sampler(o, logits.length).sample(logits, 0, NONE, 0, coin);
    }

    private static int greedy(GenerationOptions o, float[] logits, int... recent) {
        return new Sampler(o.withTemperature(0), logits.length).sample(logits, 0, recent, recent.length);
    }

    @Test
    void argmaxTakesTheLowestIdOnTies() {
        assertEquals(1, Sampler.argmax(new float[] {1, 3, 3, 2}, 0, 4));
        assertEquals(0, Sampler.argmax(new float[] {5, 5, 5}, 0, 3));
        assertEquals(1, Sampler.argmax(new float[] {9, 9, Float.NEGATIVE_INFINITY, 4, 4}, 2, 3)); // relative to offset
        assertEquals(3, greedy(PLAIN, FIVE));
        assertEquals(2, greedy(PLAIN, new float[] {-1, 0.5f, 0.75f, 0.75f}));
    }

    @Test
    void greedyReadsTheRowAtTheOffset() {
        float[] rows = {0, 9, 0, /* row 1 */ 1, 2, 7};
        var s = new Sampler(GenerationOptions.greedy(), 3);
        assertEquals(1, s.sample(rows, 0, NONE, 0));
        assertEquals(2, s.sample(rows, 3, NONE, 0));
    }

    @Test
    void repetitionPenaltyFlipsTheArgmax() {
        var p = PLAIN.withRepeatPenalty(1.3f);
        float[] l = {2.0f, 1.9f, -1.0f};
        assertEquals(0, greedy(PLAIN, l, 0));
        assertEquals(1, greedy(p, l, 0));                       // 2.0 / 1.3 = 1.54 < 1.9
        assertEquals(0, greedy(p, l, 2));                       // -1.0 * 1.3 only lowers token 2
        assertEquals(1, greedy(PLAIN.withRepeatPenalty(1.5f), new float[] {-1.0f, -1.2f}, 0)); // -1.5 < -1.2
        float[] before = l.clone();
        greedy(p, l, 0);
        assertArrayEquals(before, l);                           // the caller's logits are untouched
    }

    @Test
    void repetitionPenaltyCountsEachTokenOnce() {
        // once: 2.0 / 1.3 = 1.54 > 1.0; three times it would be 2.0 / 2.197 = 0.91 < 1.0
        assertEquals(0, greedy(PLAIN.withRepeatPenalty(1.3f), new float[] {2.0f, 1.0f}, 0, 0, 0));
        // and a sampler is reusable: the second call penalizes again, exactly once
        var s = new Sampler(PLAIN.withRepeatPenalty(1.3f).withTemperature(0), 2);
        int[] recent = {0, 0, 0};
        assertEquals(0, s.sample(new float[] {2.0f, 1.0f}, 0, recent, 3));
        assertEquals(1, s.sample(new float[] {2.0f, 1.6f}, 0, recent, 3));
    }

    @Test
    void repetitionPenaltyLooksOnlyAtTheLastN() {
        float[] l = {2.0f, 1.9f, 0f};
        var p = PLAIN.withRepeatPenalty(1.3f);
        assertEquals(0, greedy(p.withRepeatLastN(2), l, 0, 2, 2));
        assertEquals(1, greedy(p.withRepeatLastN(3), l, 0, 2, 2));
        assertEquals(0, greedy(p.withRepeatLastN(0), l, 0, 2, 2));
        // entries past recentCount are not read, even when they are not token ids
        var s = new Sampler(p.withTemperature(0), 3);
        assertEquals(1, s.sample(l, 0, new int[] {0, 99_999}, 1));
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        var rnd = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            float[] l = new float[1 + rnd.nextInt(300)];
            for (int i = 0; i < l.length; i++) {
                l[i] = rnd.nextInt(20) * 0.5f - 5; // coarse, so ties happen
            }
            float t = new float[] {0.01f, 1f, 100f}[trial % 3];
            assertEquals(Sampler.argmax(l, 0, l.length), pick(PLAIN.withTopK(1).withTemperature(t), l, rnd.nextDouble()));
        }
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        assertEquals(3, pick(PLAIN.withTopP(0.01f), FIVE, LAST)); // at least the best token
        assertEquals(0, pick(PLAIN.withTopP(0.69f), FIVE, LAST)); // .50 .70
        assertEquals(4, pick(PLAIN.withTopP(0.71f), FIVE, LAST)); // .50 .70 .85
        assertEquals(4, pick(PLAIN.withTopP(0.84f), FIVE, LAST));
        assertEquals(1, pick(PLAIN.withTopP(0.86f), FIVE, LAST)); // .50 .70 .85 .95
        assertEquals(2, pick(PLAIN.withTopP(0.96f), FIVE, LAST)); // everything
        assertEquals(3, pick(PLAIN.withTopP(0.69f), FIVE, 0));
    }

    @Test
    void drawRenormalizesOverTheSurvivors() {
        // top-p 0.8 keeps 3, 0, 4 with masses .50 .20 .15 of .85: boundaries at .588 and .824
        var o = PLAIN.withTopP(0.8f);
        assertEquals(3, pick(o, FIVE, 0.58));
        assertEquals(0, pick(o, FIVE, 0.59));
        assertEquals(0, pick(o, FIVE, 0.82));
        assertEquals(4, pick(o, FIVE, 0.83));
        // at temperature 2 the weights are sqrt(p): .7071 .4472 .3873 of 1.5416, boundaries at .4587 and .7488
        var hot = o.withTemperature(2);
        assertEquals(3, pick(hot, FIVE, 0.45));
        assertEquals(0, pick(hot, FIVE, 0.47));
        assertEquals(0, pick(hot, FIVE, 0.74));
        assertEquals(4, pick(hot, FIVE, 0.76));
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        assertEquals(0, pick(PLAIN.withMinP(0.31f), FIVE, LAST)); // bar .155: .50 .20
        assertEquals(4, pick(PLAIN.withMinP(0.29f), FIVE, LAST)); // bar .145: .50 .20 .15
        assertEquals(1, pick(PLAIN.withMinP(0.19f), FIVE, LAST)); // bar .095
        assertEquals(2, pick(PLAIN.withMinP(0.09f), FIVE, LAST)); // bar .045: everything
        assertEquals(3, pick(PLAIN.withMinP(0.99f), FIVE, LAST)); // only the best
    }

    @Test
    void filtersComposeInLlamaCppOrder() {
        // top-k 4 renormalizes before top-p: .526 .737 .895 reaches .86 with three tokens, the full
        // distribution (.50 .70 .85 .95) needs four
        assertEquals(4, pick(PLAIN.withTopK(4).withTopP(0.86f), FIVE, LAST));
        assertEquals(0, pick(PLAIN.withTopK(2), FIVE, LAST));
        assertEquals(2, pick(PLAIN.withTopK(5).withTopP(0.96f), FIVE, LAST)); // k >= vocabulary cuts nothing
        assertEquals(4, pick(PLAIN.withTopK(4).withMinP(0.29f), FIVE, LAST));
        // top-p and min-p both cut a prefix; the shorter one wins
        assertEquals(4, pick(PLAIN.withTopP(0.96f).withMinP(0.29f), FIVE, LAST));
        assertEquals(0, pick(PLAIN.withTopP(0.71f).withMinP(0.39f), FIVE, LAST));
        assertEquals(0, pick(PLAIN.withTopP(0.69f).withMinP(0.09f), FIVE, LAST));
        // temperature comes last: it reweights but never widens or narrows the candidate set
        assertEquals(0, pick(PLAIN.withTopP(0.69f).withTemperature(5), FIVE, LAST));
        assertEquals(4, pick(PLAIN.withMinP(0.29f).withTemperature(0.2f), FIVE, LAST));
    }

    @Test
    void largeVocabularyMatchesAFullSortReference() {
        var rnd = new Random(11);
        int n = 20_000;
        for (int trial = 0; trial < 60; trial++) {
            float[] l = new float[n];
            for (int i = 0; i < n; i++) {
                l[i] = switch (trial % 4) {
                    case 0 -> (float) rnd.nextGaussian() * 2;
                    case 1 -> Math.round(rnd.nextGaussian() * 4) * 0.5f; // many ties
                    default -> rnd.nextFloat();                            // a flat sea ...
                };
            }
            if (trial % 4 >= 2) {
                l[rnd.nextInt(n)] = trial % 4 == 2 ? 10 : 20; // ... under one spike that holds 30 % or all but 4e-5
            }
            var o = PLAIN.withTemperature(new float[] {0.5f, 1f, 1.7f}[trial % 3])
                    .withTopK(new int[] {0, 0, 1, 40, n - 1}[trial % 5])
                    .withTopP(new float[] {1f, 0.95f, 0.5f, 0.99999f}[trial % 4 == 3 ? 3 : trial % 3])
                    .withMinP(new float[] {0f, 0f, 0.05f, 1e-6f}[trial / 3 % 4]);
            if (o.topK() == 0 && o.topP() == 1 && o.minP() == 0) {
                o = o.withTopP(0.9f); // the unfiltered draw walks in id order, which a sorted reference does not
            }
            var s = new Sampler(o, n);
            for (double coin : new double[] {0, 0.3, 0.7, LAST, rnd.nextDouble()}) {
                assertEquals(reference(o, l, coin), s.sample(l, 0, NONE, 0, coin), o + " coin " + coin);
            }
        }
    }

    /** The chain written the obvious way: sort everything, cut in probability space, draw. */
    private static int reference(GenerationOptions o, float[] l, double coin) {
        Integer[] order = IntStream.range(0, l.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -l[i]).thenComparingInt(i -> i));
        int m = o.topK() > 0 ? Math.min(o.topK(), l.length) : l.length;
        double[] p = new double[m];
        double sum = 0;
        for (int i = 0; i < m; i++) {
            sum += p[i] = Math.exp(l[order[i]] - l[order[0]]);
        }
        double cum = 0;
        for (int i = 0; i < m; i++) {
            cum += p[i] / sum;
            if (cum >= o.topP()) {
                m = i + 1;
                break;
            }
        }
        int kept = 1;
        while (kept < m && p[kept] >= o.minP() * p[0]) {
            kept++;
        }
        double[] w = new double[kept];
        double total = 0;
        for (int i = 0; i < kept; i++) {
            total += w[i] = Math.exp((l[order[i]] - l[order[0]]) / o.temperature());
        }
        double cdf = 0;
        for (int i = 0; i < kept; i++) {
            cdf += w[i];
            if (coin * total < cdf) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    @Test
    void temperatureDrawsFollowExpLogitOverT() {
        float[] l = {1.0f, 0.5f, -0.3f, 2.0f, 0.0f};
        assertDrawsFollow(PLAIN.withTemperature(0.7f).withSeed(42), l, softmax(l, 0.7, 5));
        assertDrawsFollow(PLAIN.withTemperature(1.0f).withSeed(43), l, softmax(l, 1.0, 5));
        // top-k 3 keeps logits 2.0, 1.0, 0.5 (ids 3, 0, 1); temperature 2 then flattens them
        float[] top3 = {l[3], l[0], l[1]};
        double[] p3 = softmax(top3, 2.0, 3);
        assertDrawsFollow(PLAIN.withTopK(3).withTemperature(2).withSeed(44), l, new double[] {p3[1], p3[2], 0, p3[0], 0});
    }

    private static double[] softmax(float[] l, double t, int n) {
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += p[i] = Math.exp(l[i] / t);
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Pearson's chi-square over 200k draws against the 0.999 quantile for the cells with p > 0. */
    private static void assertDrawsFollow(GenerationOptions o, float[] l, double[] expected) {
        int draws = 200_000;
        int[] counts = new int[l.length];
        var s = new Sampler(o, l.length);
        for (int i = 0; i < draws; i++) {
            counts[s.sample(l, 0, NONE, 0)]++;
        }
        double chi2 = 0;
        int cells = 0;
        for (int i = 0; i < l.length; i++) {
            if (expected[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " was cut and must never be drawn");
            } else {
                double e = expected[i] * draws;
                chi2 += (counts[i] - e) * (counts[i] - e) / e;
                cells++;
            }
        }
        double[] q999 = {0, 10.83, 13.82, 16.27, 18.47}; // by degrees of freedom
        assertTrue(chi2 < q999[cells - 1], "chi2 = " + chi2 + " counts " + Arrays.toString(counts));
    }

    @Test
    void theSameSeedRepeatsAndAnotherDiffers() {
        float[] flat = new float[16];
        int[] a = run(PLAIN.withSeed(7), flat), b = run(PLAIN.withSeed(7), flat), c = run(PLAIN.withSeed(8), flat);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        assertEquals(7, new Sampler(PLAIN.withSeed(7), 16).seed());
        long r1 = new Sampler(PLAIN.withSeed(GenerationOptions.RANDOM_SEED), 16).seed();
        long r2 = new Sampler(PLAIN.withSeed(GenerationOptions.RANDOM_SEED), 16).seed();
        assertNotEquals(r1, r2);
        assertArrayEquals(run(PLAIN.withSeed(r1), flat), run(PLAIN.withSeed(r1), flat));
    }

    private static int[] run(GenerationOptions o, float[] l) {
        var s = new Sampler(o, l.length);
        int[] out = new int[100];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(l, 0, NONE, 0);
        }
        return out;
    }

    @Test
    void splitMix64MatchesThePublishedSequence() {
        // the reference outputs for seed 1234567 of Vigna's splitmix64.c
        String[] expected = {"6457827717110365317", "3203168211198807973", "9817491932198370423",
                "4593380528125082431", "16408922859458223821"};
        var r = new SplitMix64(1234567);
        for (String e : expected) {
            assertEquals(Long.parseUnsignedLong(e), r.nextLong());
        }
        var jdk = new SplittableRandom(99); // the JDK's SplittableRandom is the same generator today
        var ours = new SplitMix64(99);
        for (int i = 0; i < 1000; i++) {
            assertEquals(jdk.nextLong(), ours.nextLong());
        }
        double d = new SplitMix64(5).nextDouble();
        assertTrue(d >= 0 && d < 1);
    }

    @Test
    void samplingAllocatesNothing() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().threadId();
        float[] l = new float[5000];
        for (int i = 0; i < l.length; i++) {
            l[i] = (i * 7919 % 1000) / 100f;
        }
        int[] recent = {1, 2, 3, 2, 1};
        for (var o : new GenerationOptions[] {GenerationOptions.defaults().withSeed(1).withRepeatPenalty(1.1f),
                PLAIN.withTopP(0.9f), PLAIN.withMinP(0.05f), PLAIN, GenerationOptions.greedy()}) {
            var s = new Sampler(o, l.length);
            s.sample(l, 0, recent, recent.length);
            long before = mx.getThreadAllocatedBytes(me);
            for (int i = 0; i < 50; i++) {
                s.sample(l, 0, recent, recent.length);
            }
            long allocated = mx.getThreadAllocatedBytes(me) - before;
            assertTrue(allocated < 50 * 8, o + " allocated " + allocated + " bytes in 50 calls");
        }
    }

    @Test
    void badArgumentsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(PLAIN, 0));
        var s = new Sampler(PLAIN, 4);
        assertMessage("logits: need 4 floats from offset 1", () -> s.sample(new float[4], 1, NONE, 0));
        assertMessage("recentCount = 2", () -> s.sample(new float[4], 0, new int[1], 2));
        var penalizing = new Sampler(PLAIN.withRepeatPenalty(1.3f).withTemperature(0), 2);
        assertMessage("recent[1] = 4", () -> penalizing.sample(new float[2], 0, new int[] {0, 4}, 2));
        assertEquals(1, penalizing.sample(new float[] {2.0f, 1.9f}, 0, new int[] {0}, 1)); // still penalizes token 0
        float[] dead = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY};
        assertMessage("logits: maximum is -Infinity", () -> s.sample(dead, 0, NONE, 0));
    }

    private static void assertMessage(String start, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }
}
