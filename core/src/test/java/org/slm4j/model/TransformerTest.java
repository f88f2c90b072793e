package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Kernels;
import org.slm4j.testing.Allocations;

/** Properties of the forward pass that hold for any weights: batching, caching, windowing, multi-sequence. */
class TransformerTest {
    static ModelConfig config(NormKind norm, RopeLayout rope, int rotary, boolean bias, int layers, int window) {
        return new ModelConfig("test", 64, 32, layers, 4, 2, 8, 48, norm, 1e-5f, bias, rotary, rope, 10000f, 64, window, false, false, 1f);
    }

    /** StableLM 2 12B's shape in small: LayerNorm, QKV biases, partial RoPE, per-head q/k norms. */
    static ModelConfig qkNormConfig(RopeLayout rope, boolean parallelResidual) {
        return new ModelConfig("test", 64, 32, 2, 4, 2, 8, 48, NormKind.LAYER, 1e-5f, true, 4, rope, 10000f, 64, 0, true, parallelResidual, 1f);
    }

    static final int[] TOKENS = {1, 17, 5, 42, 9, 33, 3, 60, 12, 7, 21, 2};

    @ParameterizedTest
    @EnumSource(RopeLayout.class)
    void batchAndIncrementalDecodingAgree(RopeLayout rope) {
        for (ModelConfig c : new ModelConfig[] {
                config(NormKind.RMS, rope, 8, false, 2, 0),
                config(NormKind.LAYER, rope, 4, true, 2, 0),
                config(NormKind.RMS, rope, 8, false, 2, 3),
                qkNormConfig(rope, true)}) {
            Weights w = RandomWeights.of(c, 7);
            float[][] batch = logits(c, w, TOKENS, TOKENS.length);
            float[][] oneByOne = logits(c, w, TOKENS, 1);
            float[][] chunks = logits(c, w, TOKENS, 5);   // 5 + 5 + 2
            // one forward call larger than the transformer's batch: it splits the rows itself
            Transformer small = new Transformer(c, w, Kernels.best(), 5);
            float[] split = small.forward(Batch.of(new KvCache(c, TOKENS.length, 5), TOKENS, true));
            for (int p = 0; p < TOKENS.length; p++) {
                assertArrayEquals(batch[p], oneByOne[p], 1e-5f, c + " position " + p);
                assertArrayEquals(batch[p], chunks[p], 1e-5f, c + " position " + p);
                assertArrayEquals(batch[p], Arrays.copyOfRange(split, p * 64, (p + 1) * 64), 1e-5f, c + " split, position " + p);
            }
        }
    }

    /**
     * A prompt long enough that its per-position steps are split across threads gives the steps' logits; windowed,
     * the steps and chunks of 5 go round a ring of 16 slots (a key block) four times. The whole context (64): the
     * last steps score 64 keys, four vectors of them at a time on AVX-512 (Attention.Tile.keyScores' wide loop).
     */
    @Test
    void aLongBatchAgreesWithIncrementalDecoding() {
        int[] tokens = new int[64];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 37 + 11) % 64;
        for (ModelConfig c : new ModelConfig[] {
                config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 2, 0),
                config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 2, 3),
                qkNormConfig(RopeLayout.HALF, true)}) {
            Weights w = RandomWeights.of(c, 9);
            float[][] batch = logits(c, w, tokens, tokens.length);
            float[][] oneByOne = logits(c, w, tokens, 1);
            float[][] chunks = logits(c, w, tokens, 5);
            for (int p = 0; p < tokens.length; p++) {
                assertArrayEquals(batch[p], oneByOne[p], 1e-5f, c + " position " + p);
                assertArrayEquals(batch[p], chunks[p], 1e-5f, c + " chunks, position " + p);
            }
        }
    }

    /**
     * An F16 cache goes through other code than an F32 one: a decoding query, or a block of queries, reads its KV
     * head converted to floats once for the query heads that share it (two here; heads of 8 dims are too narrow to
     * be read in place, which AttentionTest covers). A batch and chunks of 5 compute the same keys and values, bit
     * for bit, so they agree as with an F32 cache. One by one, the projections sum in another order, and an element that lies near the middle of two
     * F16 values may round the other way: that moves a logit by about 1e-4 (1.2e-4 measured), where a misread
     * chunk moves it by 1e-1. Against the F32 cache they differ by the rounding alone.
     */
    @Test
    void anF16CacheAgreesWithItselfAcrossPathsAndNearlyWithF32() {
        int[] tokens = new int[150];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 37 + 11) % 64;
        for (int window : new int[] {0, 3, 70}) {
            ModelConfig c = new ModelConfig("test", 64, 32, 2, 4, 2, 8, 48, NormKind.RMS, 1e-5f, false, 8,
                    RopeLayout.ADJACENT, 10000f, 160, window, false, false, 1f);
            Weights w = RandomWeights.of(c, 13);
            float[][] batch = logits(c, w, tokens, tokens.length, GgmlType.F16);
            float[][] oneByOne = logits(c, w, tokens, 1, GgmlType.F16);
            float[][] chunks = logits(c, w, tokens, 5, GgmlType.F16);
            float[][] f32 = logits(c, w, tokens, 1, GgmlType.F32);
            double far = 0;
            for (int p = 0; p < tokens.length; p++) {
                assertArrayEquals(batch[p], oneByOne[p], 1e-3f, "window " + window + ", position " + p);
                assertArrayEquals(batch[p], chunks[p], 1e-5f, "window " + window + ", chunks, position " + p);
                assertArrayEquals(f32[p], oneByOne[p], 1e-2f, "window " + window + ", F32, position " + p);
                for (int i = 0; i < f32[p].length; i++) far = Math.max(far, Math.abs(f32[p][i] - oneByOne[p][i]));
            }
            assertTrue(far > 1e-5, "window " + window + ": an F16 cache computed what an F32 one does (" + far + ")");
        }
    }

    @Test
    void keysOutsideTheWindowHaveNoEffect() {
        // one layer: position i sees i-W+1 .. i only, so a token before that cannot change its logits
        ModelConfig windowed = config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 1, 3);
        Weights w = RandomWeights.of(windowed, 11);
        int[] other = TOKENS.clone();
        other[2] = 50;   // visible to positions 2..4 only
        float[][] a = logits(windowed, w, TOKENS, TOKENS.length), b = logits(windowed, w, other, TOKENS.length);
        // 1e-6, not 0: two runs may differ in the last bit (reduceLanes adds in another order before C2 compiles it)
        for (int p = 5; p < TOKENS.length; p++) assertArrayEquals(a[p], b[p], 1e-6f, "position " + p);
        assertFalse(Arrays.equals(a[3], b[3]), "the changed token is inside position 3's window");
        // the control: with full attention the same change reaches every later position
        ModelConfig full = windowed.withSlidingWindow(0);
        float[][] fa = logits(full, w, TOKENS, TOKENS.length), fb = logits(full, w, other, TOKENS.length);
        assertFalse(Arrays.equals(fa[TOKENS.length - 1], fb[TOKENS.length - 1]));
    }

    @Test
    void windowedCacheStaysBounded() {
        ModelConfig c = config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 2, 4);
        KvCache cache = new KvCache(c, 64, 2);
        assertEquals(16, cache.capacity());      // window 4 + batch 2 - 1, rounded up to a key block
        assertEquals(16 * c.kvDim(), cache.keys[0].length);
        Transformer t = new Transformer(c, RandomWeights.of(c, 3), Kernels.scalar(), 2);
        for (int p = 0; p < 60; p++) t.forward(Batch.of(cache, new int[] {p % 64}, false));
        assertEquals(60, cache.length());
        assertEquals(16 * c.kvDim(), cache.keys[0].length);
        assertEquals(64, new KvCache(c.withSlidingWindow(0), 64, 2).capacity());
    }

    @Test
    void sequencesInOneBatchDoNotSeeEachOther() {
        ModelConfig c = config(NormKind.LAYER, RopeLayout.HALF, 4, true, 2, 0);
        Weights w = RandomWeights.of(c, 5);
        int[] s1 = Arrays.copyOf(TOKENS, 6), s2 = Arrays.copyOfRange(TOKENS, 6, 12);
        float[][] alone1 = logits(c, w, s1, 6), alone2 = logits(c, w, s2, 6);
        boolean[] want = new boolean[12];
        Arrays.fill(want, true);
        float[] out = new Transformer(c, w, Kernels.best(), 12).forward(interleaved(c, s1, s2, 12, want));
        for (int i = 0; i < 6; i++) {
            assertArrayEquals(alone1[i], Arrays.copyOfRange(out, (2 * i) * 64, (2 * i + 1) * 64), 1e-5f);
            assertArrayEquals(alone2[i], Arrays.copyOfRange(out, (2 * i + 1) * 64, (2 * i + 2) * 64), 1e-5f);
        }
    }

    /**
     * Past the last layer's attention only the rows that want logits go on (Transformer.logitRows): two sequences
     * interleaved, wanted rows 5, 10 and 11 (the second's position 2, then both last positions), in chunks of 12 and
     * of 4 (a chunk wanting none, then one, then two). Each must give its own sequence's logits at that position, in
     * row order; the parallel residual's feed-forward reads the compacted normed input too.
     */
    @Test
    void onlyTheRowsWantingLogitsGoThroughTheLastLayer() {
        for (ModelConfig c : new ModelConfig[] {config(NormKind.RMS, RopeLayout.ADJACENT, 4, false, 2, 0),
                qkNormConfig(RopeLayout.HALF, true)}) {
            Weights w = RandomWeights.of(c, 11);
            int[] s1 = Arrays.copyOf(TOKENS, 6), s2 = Arrays.copyOfRange(TOKENS, 6, 12);
            float[][] alone1 = logits(c, w, s1, 6), alone2 = logits(c, w, s2, 6);
            float[][] expected = {alone2[2], alone1[5], alone2[5]};
            for (int chunk : new int[] {12, 4}) {
                boolean[] want = new boolean[12];
                want[5] = want[10] = want[11] = true;
                int vocab = c.vocabSize();
                float[] out = new Transformer(c, w, Kernels.best(), chunk).forward(interleaved(c, s1, s2, chunk, want));
                for (int r = 0; r < 3; r++) {
                    assertArrayEquals(expected[r], Arrays.copyOfRange(out, r * vocab, (r + 1) * vocab), 1e-5f, c + ", chunks of " + chunk + ", logit row " + r);
                }
            }
        }
    }

    @Test
    void badBatchesAreRejected() {
        ModelConfig c = config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 1, 0);
        Transformer t = new Transformer(c, RandomWeights.of(c, 1), Kernels.scalar(), 4);
        KvCache cache = new KvCache(c, 8, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> t.forward(Batch.of(cache, new int[] {64}, false)));
        assertTrue(e.getMessage().contains("token id 64"), e.getMessage());
        t.forward(Batch.of(cache, new int[] {1, 2}, false));
        e = assertThrows(IllegalArgumentException.class,
                () -> t.forward(new Batch(new int[] {1}, new int[] {5}, new KvCache[] {cache}, new boolean[] {true})));
        assertTrue(e.getMessage().contains("next position is 2"), e.getMessage());
        t.forward(Batch.of(cache, new int[] {1, 2, 3, 4, 5, 6}, false));
        e = assertThrows(IllegalArgumentException.class, () -> t.forward(Batch.of(cache, new int[] {1}, false)));
        assertTrue(e.getMessage().contains("past this sequence's context"), e.getMessage());
    }

    @Test
    void aGenerationStepAllocatesNothing() {
        ModelConfig c = qkNormConfig(RopeLayout.HALF, false);
        Transformer t = new Transformer(c, RandomWeights.of(c, 3), Kernels.best(), 1);
        KvCache cache = new KvCache(c, 64, 1);
        int[] token = {5}, position = {0};
        Batch step = new Batch(token, position, new KvCache[] {cache}, new boolean[] {true});
        long bytes = Allocations.fewestPerRound(() -> {
            cache.truncate(position[0]);
            t.forward(step);
            position[0] = (position[0] + 1) % 32;
        }, 20_000, 30, 30 * 8);
        assertTrue(bytes < 30 * 8, "30 steps allocated " + bytes + " bytes");
    }

    /** Two sequences of equal length, each with a fresh cache, interleaved row by row in one batch. */
    private static Batch interleaved(ModelConfig c, int[] s1, int[] s2, int chunk, boolean[] want) {
        KvCache c1 = new KvCache(c, 16, chunk), c2 = new KvCache(c, 16, chunk);
        int n = s1.length;
        int[] tokens = new int[2 * n], positions = new int[2 * n];
        KvCache[] caches = new KvCache[2 * n];
        for (int i = 0; i < n; i++) {
            tokens[2 * i] = s1[i]; positions[2 * i] = i; caches[2 * i] = c1;
            tokens[2 * i + 1] = s2[i]; positions[2 * i + 1] = i; caches[2 * i + 1] = c2;
        }
        return new Batch(tokens, positions, caches, want);
    }

    /** Logits of every position, feeding the sequence in chunks of {@code chunk} positions. */
    static float[][] logits(ModelConfig c, Weights w, int[] tokens, int chunk) {
        return logits(c, w, tokens, chunk, GgmlType.F32);
    }

    static float[][] logits(ModelConfig c, Weights w, int[] tokens, int chunk, GgmlType cacheType) {
        Transformer t = new Transformer(c, w, Kernels.best(), chunk);
        KvCache cache = new KvCache(c, tokens.length, chunk, cacheType);
        float[][] out = new float[tokens.length][];
        for (int s = 0; s < tokens.length; s += chunk) {
            int[] part = Arrays.copyOfRange(tokens, s, Math.min(tokens.length, s + chunk));
            float[] l = t.forward(Batch.of(cache, part, true));
            for (int i = 0; i < part.length; i++) out[s + i] = Arrays.copyOfRange(l, i * c.vocabSize(), (i + 1) * c.vocabSize());
        }
        return out;
    }
}
