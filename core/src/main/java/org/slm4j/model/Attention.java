package org.slm4j.model;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EXP;
import static jdk.incubator.vector.VectorOperators.LSHL;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.slm4j.tensor.Floats;
import org.slm4j.tensor.Kernels;
import org.slm4j.tensor.Parallel;

/**
 * Softmax(q·kᵀ/√d)·v per batch row and head, over the keys each row may see (causal, and windowed when attention
 * slides).
 *
 * <p>A row alone (decoding) takes one dot product per key. Consecutive rows of one sequence (a prompt) go in blocks
 * of {@code QB} queries, one vector lane per query, like a small matrix multiply: a register tile is 4 keys by QB
 * queries, each step broadcasting one element of each key, so the keys are read in place and only the block's
 * queries are transposed. The scores stay key-major with the queries in lanes, so the softmax of QB rows runs
 * lane-wise without reductions, and the weighted sum of values is tiled the same way (4 dims by QB queries). Keys a
 * query may not see inside the block's range get -inf, hence weight 0. Results differ from the per-row path only in
 * the order of float additions and in the Vector API's exp.
 */
final class Attention {
    // the vector paths read a vector of keys from one key block: lanes no wider than a block (see KvCache)
    private static final boolean VECTOR = Kernels.best() != Kernels.scalar() && KvCache.KEY_BLOCK % Tile.L == 0;

    private final ModelConfig cfg;
    private final float scale;
    private final ThreadLocal<float[]> scores = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<KvCache> heads;   // an F16 cache's head as floats (KvCache.headScratch)
    private final int[] blockRow;   // [blocks + 1] first batch row of each block of one sequence's consecutive rows
    private final Rows rows = new Rows();

    Attention(ModelConfig cfg, int maxBatch) {
        this.cfg = cfg;
        this.scale = (float) (1.0 / Math.sqrt(cfg.headDim()));
        this.blockRow = new int[maxBatch + 1];
        this.heads = ThreadLocal.withInitial(() -> KvCache.headScratch(cfg.headDim(), KvCache.KEY_BLOCK));
    }

    /**
     * This thread's head scratch, room for {@code positions} consecutive positions from any first one. It grows to
     * twice what it held, so a prompt's blocks, each seeing a few more keys, do not each allocate a larger one.
     */
    private KvCache head(int positions) {
        KvCache t = heads.get();
        int slots = ((positions + KvCache.KEY_BLOCK - 1) / KvCache.KEY_BLOCK + 1) * KvCache.KEY_BLOCK;
        if (t.capacity() < slots) heads.set(t = KvCache.headScratch(cfg.headDim(), Math.max(slots, 2 * t.capacity())));
        return t;
    }

    /** The head scratch with keys and values of positions [from, to) of c's layer, head dims from kvo, as floats. */
    private KvCache converted(KvCache c, int layer, int from, int to, int kvo) {
        KvCache t = head(to - from);
        c.keysToFloats(layer, from, to, kvo, cfg.headDim(), t);
        c.valuesToFloats(layer, from, to, kvo, cfg.headDim(), t);
        return t;
    }

    /**
     * att[b, h] for rows [start, start + n) of the batch, reading q [n, qDim] and the caches' layer. The work goes by
     * KV head, each with the query heads that share it (see attendGroup).
     */
    void attend(Batch batch, int start, int n, int layer, float[] q, float[] att) {
        int kvHeads = cfg.kvHeads();
        if (!VECTOR || n == 1 || cfg.headDim() % 4 != 0) {
            rows.set(batch, start, layer, q, att);
            try {
                Parallel.forRange(n * kvHeads, rows);
            } finally {
                rows.set(null, 0, 0, null, null);
            }
            return;
        }
        // blocks of at most QB rows, each of one sequence at consecutive positions
        int blocks = 0;
        for (int b = 0; b < n; b++) {
            boolean joins = b > 0 && b - blockRow[blocks - 1] < Tile.QB
                    && batch.caches()[start + b] == batch.caches()[start + b - 1]
                    && batch.positions()[start + b] == batch.positions()[start + b - 1] + 1;
            if (!joins) blockRow[blocks++] = b;
        }
        blockRow[blocks] = n;
        Parallel.forRange(blocks * kvHeads, (from, to) -> {
            for (int t = from; t < to; t++) attendGroup(batch, start, blockRow[t / kvHeads], blockRow[t / kvHeads + 1], t % kvHeads, layer, q, att);
        });
    }

    /**
     * Rows [b0, b1) (one row, or a block of one sequence's consecutive rows) and the query heads that share KV head g.
     * An F16 cache is read in place where {@link #inPlace} says, else its head is converted to floats once for all
     * the query heads (converted per query head, TinyLlama's 8 per KV head converted it 8 times).
     */
    private void attendGroup(Batch batch, int start, int b0, int b1, int g, int layer, float[] q, float[] att) {
        KvCache c = batch.caches()[start + b0];
        int hd = cfg.headDim(), gs = cfg.groupSize(), from = c.firstVisible(batch.positions()[start + b0]), to = batch.positions()[start + b1 - 1] + 1;
        KvCache kv = inPlace(c, b1 - b0, gs, hd, q, b0 * cfg.qDim() + g * gs * hd) ? c : converted(c, layer, from, to, g * hd);
        int at = kv == c ? layer : 0, kvo = kv == c ? g * hd : 0;
        for (int h = g * gs; h < (g + 1) * gs; h++) {
            if (b1 - b0 == 1) attendRow(batch, start, b0, h, kv, at, kvo, q, att);
            else Tile.SCRATCH.get().attend(this, batch, start, b0, b1, h, kv.keys[at], kv.values[at], kv, kvo, q, att);
        }
    }

    /**
     * Whether {@code rows} rows read cache c in place, with {@code heads} query heads of hd dims per KV head, their
     * elements from q[qo] on: an F32 cache always; an F16 one for a decoding row with at most 2 query heads per KV
     * head (the vector kernels, an even head of at least 2L dims), unless the cache holds an inf or NaN or some |q|
     * exceeds F16's range (see Tile.halfKeyScores). Read in place, each query head converts the KV head again:
     * converted once, TinyLlama (8 per KV head) generates at 1024 positions 38.7 tok/s against 34.1 in place, Danube
     * (4) 21.8 against 21.0 (F32: 40.3 and 22.0; Q4_0, `bench -p 0 -n 64 -d 1024 -t 2`).
     */
    static boolean inPlace(KvCache c, int rows, int heads, int hd, float[] q, int qo) {
        return !c.half() || rows == 1 && heads <= 2 && VECTOR && hd % 2 == 0 && hd >= 2 * Tile.L && !c.nonFinite()
                && Tile.halfRange(q, qo, heads * hd);
    }

    /** Rows and KV heads one at a time, as a task kept for every call: a generated token allocates nothing here. */
    private final class Rows implements Parallel.RangeTask {
        private Batch batch;
        private int start, layer;
        private float[] q, att;

        void set(Batch batch, int start, int layer, float[] q, float[] att) {
            this.batch = batch;
            this.start = start;
            this.layer = layer;
            this.q = q;
            this.att = att;
        }

        @Override
        public void run(int from, int to) {
            int kvHeads = cfg.kvHeads();
            for (int t = from; t < to; t++) attendGroup(batch, start, t / kvHeads, t / kvHeads + 1, t % kvHeads, layer, q, att);
        }
    }

    /**
     * One row and head: a score per visible key, then the softmax and the weighted sum of values; the keys and values
     * in kv's layer (F16 only with the vector kernels), the head's dims from kvo.
     */
    private void attendRow(Batch batch, int start, int b, int h, KvCache kv, int layer, int kvo, float[] q, float[] att) {
        int hd = cfg.headDim();
        int pos = batch.positions()[start + b];
        KvCache c = batch.caches()[start + b];
        int first = c.firstVisible(pos), span = pos - first + 1;
        // vector scores start at a whole vector of keys: the score of position p at s[p - from]
        int from = VECTOR ? first - first % Tile.L : first, padded = VECTOR ? (pos - from + Tile.L) / Tile.L * Tile.L : span;
        float[] s = scores.get();
        if (s.length < padded) scores.set(s = new float[Math.max(padded, 2 * s.length)]);
        int qo = b * cfg.qDim() + h * hd, ao = qo;
        if (VECTOR) {
            if (kv.half()) Tile.halfKeyScores(q, qo, kv.halfKeys[layer], kv, from, padded, kvo, hd, scale, s);
            else Tile.keyScores(q, qo, kv.keys[layer], kv, from, padded, KvCache.KEY_BLOCK * kvo, hd, scale, s);
            float max = Float.NEGATIVE_INFINITY;
            for (int i = first - from; i < first - from + span; i++) max = Math.max(max, s[i]);
            float inv = 1f / Tile.exps(s, first - from, span, max);
            if (kv.half()) Tile.halfWeighValues(s, first - from, span, inv, kv.halfValues[layer], kv, first, kvo, hd, att, ao);
            else Tile.weighValues(s, first - from, span, inv, kv.values[layer], kv, first, kvo, hd, att, ao);
            return;
        }
        float[] kc = kv.keys[layer], vc = kv.values[layer];
        float max = Float.NEGATIVE_INFINITY;
        for (int p = first; p <= pos; p++) {
            float sc = 0;
            for (int d = 0, k = kv.keyAt(p) + KvCache.KEY_BLOCK * kvo; d < hd; d++) sc += q[qo + d] * kc[k + KvCache.KEY_BLOCK * d];
            s[p - first] = sc * scale;
            max = Math.max(max, sc * scale);
        }
        double sum = 0;
        for (int i = 0; i < span; i++) {
            float e = (float) Math.exp(s[i] - max);
            s[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        Arrays.fill(att, ao, ao + hd, 0f);
        for (int p = first; p <= pos; p++) Floats.addScaled(s[p - first] * inv, vc, kv.valueAt(p) + kvo, att, ao, hd);
    }

    /**
     * One thread's scratch for blocks of queries, and the single query's vector path (weighValues); loaded only when
     * the Vector API is in use.
     */
    private static final class Tile {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, F.vectorShape());   // F16: 2L halves
        static final int L = F.length(), QB = 2 * L;      // queries per block: two vectors
        // the first (second) L lanes of two vectors' lanes taken in turns: even dims' and odd dims' sums interleaved
        static final VectorShuffle<Float> ZIP_LOW = VectorShuffle.fromOp(F, i -> i % 2 == 0 ? i / 2 : i / 2 - L);
        static final VectorShuffle<Float> ZIP_HIGH = VectorShuffle.fromOp(F, i -> i % 2 == 0 ? (L + i) / 2 : (L + i) / 2 - L);
        static final ThreadLocal<Tile> SCRATCH = ThreadLocal.withInitial(Tile::new);

        float[] qt = new float[0];     // the block's queries by dim, lane          [hd * QB]
        float[] st = new float[0];     // scores, then exp weights, by key, lane    [keys rounded up to 4 * QB]
        float[] ot = new float[0];     // weighted sums of values by dim, lane      [hd * QB]
        final int[] off = new int[4];

        /** Rows [b0, b1) (one sequence, consecutive positions, at most QB) and head h, as attendRow reads kc and vc. */
        void attend(Attention a, Batch batch, int start, int b0, int b1, int h, float[] kc, float[] vc, KvCache kv, int kvo, float[] q, float[] att) {
            ModelConfig cfg = a.cfg;
            int hd = cfg.headDim(), qDim = cfg.qDim(), count = b1 - b0;
            KvCache c = batch.caches()[start + b0];
            int pos0 = batch.positions()[start + b0], last = pos0 + count - 1;
            int lo = c.firstVisible(pos0), keys = last - lo + 1, padded = (keys + 3) & ~3;
            if (qt.length < hd * QB) {
                qt = new float[hd * QB];
                ot = new float[hd * QB];
            }
            if (st.length < padded * QB) st = new float[Math.max(padded * QB, 2 * st.length)];
            Arrays.fill(qt, 0, hd * QB, 0f);
            for (int j = 0; j < count; j++) {
                int qo = (b0 + j) * qDim + h * hd;
                for (int d = 0; d < hd; d++) qt[d * QB + j] = q[qo + d];
            }

            // scores, 4 keys at a time; the padding keys repeat the last one and are never read
            for (int i = 0; i < padded; i += 4) {
                for (int r = 0; r < 4; r++) off[r] = kv.keyAt(Math.min(lo + i + r, last)) + KvCache.KEY_BLOCK * kvo;
                scores(kc, off, hd, i * QB);
            }
            // -inf where a query may not look: keys after it (causal), keys before its window
            for (int j = 0; j < count; j++) {
                int pos = pos0 + j, first = c.firstVisible(pos);
                for (int p = pos + 1; p <= last; p++) st[(p - lo) * QB + j] = Float.NEGATIVE_INFINITY;
                for (int p = lo; p < first; p++) st[(p - lo) * QB + j] = Float.NEGATIVE_INFINITY;
            }
            // softmax by lane: scaled scores, their max, exp, sum
            FloatVector s = FloatVector.broadcast(F, a.scale), max0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), max1 = max0;
            for (int i = 0; i < keys; i++) {
                FloatVector x0 = FloatVector.fromArray(F, st, i * QB).mul(s), x1 = FloatVector.fromArray(F, st, i * QB + L).mul(s);
                x0.intoArray(st, i * QB);
                x1.intoArray(st, i * QB + L);
                max0 = x0.max(max0);
                max1 = x1.max(max1);
            }
            FloatVector sum0 = FloatVector.zero(F), sum1 = sum0;
            for (int i = 0; i < keys; i++) {
                FloatVector e0 = FloatVector.fromArray(F, st, i * QB).sub(max0).lanewise(EXP);
                FloatVector e1 = FloatVector.fromArray(F, st, i * QB + L).sub(max1).lanewise(EXP);
                e0.intoArray(st, i * QB);
                e1.intoArray(st, i * QB + L);
                sum0 = e0.add(sum0);
                sum1 = e1.add(sum1);
            }
            // weighted sums of values, 4 dims at a time, then divided by the sums
            for (int d = 0; d < hd; d += 4) values(vc, kv, lo, keys, kvo + d, d * QB);
            FloatVector inv0 = FloatVector.broadcast(F, 1f).div(sum0), inv1 = FloatVector.broadcast(F, 1f).div(sum1);
            for (int d = 0; d < hd; d++) {
                FloatVector.fromArray(F, ot, d * QB).mul(inv0).intoArray(ot, d * QB);
                FloatVector.fromArray(F, ot, d * QB + L).mul(inv1).intoArray(ot, d * QB + L);
            }
            for (int j = 0; j < count; j++) {
                int ao = (b0 + j) * qDim + h * hd;
                for (int d = 0; d < hd; d++) att[ao + d] = ot[d * QB + j];
            }
        }

        /** s[so, so + n) = exp(s - max), L at a time; returns their sum. */
        static float exps(float[] s, int so, int n, float max) {
            FloatVector m = FloatVector.broadcast(F, max), sum = FloatVector.zero(F);
            int i = 0;
            for (; i <= n - L; i += L) {
                FloatVector e = FloatVector.fromArray(F, s, so + i).sub(m).lanewise(EXP);
                e.intoArray(s, so + i);
                sum = e.add(sum);
            }
            float total = sum.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                float e = (float) Math.exp(s[so + i] - max);
                s[so + i] = e;
                total += e;
            }
            return total;
        }

        /**
         * One query's weighted sum of the values of positions [first, first + n), weights s[so, so + n), times inv, to
         * att at ao. The values are summed in registers, 4L dims at a time, so that no partial sum goes through memory
         * between keys (added into att key by key, each key's FMAs waited on the last one's store).
         */
        static void weighValues(float[] s, int so, int n, float inv, float[] vc, KvCache c, int first, int kvo, int hd, float[] att, int ao) {
            int d = 0;
            for (; d <= hd - 4 * L; d += 4 * L) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < n; k++) {
                    FloatVector w = FloatVector.broadcast(F, s[so + k]);
                    int o = c.valueAt(first + k) + kvo + d;
                    a0 = FloatVector.fromArray(F, vc, o).fma(w, a0);
                    a1 = FloatVector.fromArray(F, vc, o + L).fma(w, a1);
                    a2 = FloatVector.fromArray(F, vc, o + 2 * L).fma(w, a2);
                    a3 = FloatVector.fromArray(F, vc, o + 3 * L).fma(w, a3);
                }
                a0.mul(inv).intoArray(att, ao + d);
                a1.mul(inv).intoArray(att, ao + d + L);
                a2.mul(inv).intoArray(att, ao + d + 2 * L);
                a3.mul(inv).intoArray(att, ao + d + 3 * L);
            }
            for (; d <= hd - L; d += L) {
                FloatVector a = FloatVector.zero(F);
                for (int k = 0; k < n; k++) a = FloatVector.fromArray(F, vc, c.valueAt(first + k) + kvo + d).fma(FloatVector.broadcast(F, s[so + k]), a);
                a.mul(inv).intoArray(att, ao + d);
            }
            for (; d < hd; d++) {
                float a = 0;
                for (int k = 0; k < n; k++) a += s[so + k] * vc[c.valueAt(first + k) + kvo + d];
                att[ao + d] = a * inv;
            }
        }

        /** Whether every |q[qo, qo + n)| is below F16's largest value, so that q times 2^112 is finite (halfKeyScores). */
        static boolean halfRange(float[] q, int qo, int n) {
            for (int i = 0; i < n; i++) if (!(Math.abs(q[qo + i]) <= 65504f)) return false;
            return true;
        }

        /**
         * {@link #weighValues} from an F16 cache's values in place, hd >= 2L. An int lane holds two dims' halves, which
         * shifted and masked become their floats times 2^-112 (as BlockGroups.f16 widens F16 weights): the even dims'
         * and the odd dims' sums go in separate vectors and are interleaved at the end. Each weight is taken times
         * 2^112 (exact: a weight is at most 1), so each product is the plain one, and every sum is weighValues' on
         * the converted values, bit for bit once both are compiled, where that sums in vectors (hd a multiple of L).
         * A twin of weighValues, not a shared loop: the arrays' element types differ.
         */
        static void halfWeighValues(float[] s, int so, int n, float inv, short[] vc, KvCache c, int first, int kvo, int hd, float[] att, int ao) {
            int d = 0;
            for (; d <= hd - 4 * L; d += 4 * L) {
                FloatVector e0 = FloatVector.zero(F), o0 = e0, e1 = e0, o1 = e0;
                for (int k = 0; k < n; k++) {
                    FloatVector w = FloatVector.broadcast(F, s[so + k] * 0x1p112f);
                    int o = c.valueAt(first + k) + kvo + d;
                    IntVector v0 = ShortVector.fromArray(SH, vc, o).reinterpretAsInts(), v1 = ShortVector.fromArray(SH, vc, o + 2 * L).reinterpretAsInts();
                    e0 = v0.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(w, e0);
                    o0 = v0.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(w, o0);
                    e1 = v1.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(w, e1);
                    o1 = v1.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(w, o1);
                }
                e0 = e0.mul(inv);
                o0 = o0.mul(inv);
                e1 = e1.mul(inv);
                o1 = o1.mul(inv);
                e0.rearrange(ZIP_LOW, o0).intoArray(att, ao + d);
                e0.rearrange(ZIP_HIGH, o0).intoArray(att, ao + d + L);
                e1.rearrange(ZIP_LOW, o1).intoArray(att, ao + d + 2 * L);
                e1.rearrange(ZIP_HIGH, o1).intoArray(att, ao + d + 3 * L);
            }
            for (; d < hd; d += 2 * L) {
                // the last 2L dims end at the head's end, some of them already summed: summed again, the same
                int at = Math.min(d, hd - 2 * L);
                FloatVector even = FloatVector.zero(F), odd = even;
                for (int k = 0; k < n; k++) {
                    FloatVector w = FloatVector.broadcast(F, s[so + k] * 0x1p112f);
                    IntVector v = ShortVector.fromArray(SH, vc, c.valueAt(first + k) + kvo + at).reinterpretAsInts();
                    even = v.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(w, even);
                    odd = v.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(w, odd);
                }
                even = even.mul(inv);
                odd = odd.mul(inv);
                even.rearrange(ZIP_LOW, odd).intoArray(att, ao + at);
                even.rearrange(ZIP_HIGH, odd).intoArray(att, ao + at + L);
            }
        }

        /**
         * {@link #keyScores} from an F16 cache's keys in place (see KvCache.halfKeyAt): an int lane holds one key's
         * dims d and d + 1, which shifted and masked become their floats times 2^-112; the query is taken times 2^112
         * (exact: the caller has checked halfRange), so each product is the plain one and every score keyScores'
         * on the converted keys, bit for bit once both are compiled. kvo: the head's first dim, even.
         */
        static void halfKeyScores(float[] q, int qo, short[] kc, KvCache c, int from, int n, int kvo, int hd, float scale, float[] s) {
            int i = 0, ko = KvCache.KEY_BLOCK * kvo;
            for (; i <= n - 4 * L; i += 4 * L) {
                int k0 = c.halfKeyAt(from + i) + ko, k1 = c.halfKeyAt(from + i + L) + ko, k2 = c.halfKeyAt(from + i + 2 * L) + ko, k3 = c.halfKeyAt(from + i + 3 * L) + ko;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int d = 0; d < hd; d += 2) {
                    FloatVector x = FloatVector.broadcast(F, q[qo + d] * 0x1p112f), y = FloatVector.broadcast(F, q[qo + d + 1] * 0x1p112f);
                    int e = KvCache.KEY_BLOCK * d;
                    IntVector v0 = ShortVector.fromArray(SH, kc, k0 + e).reinterpretAsInts(), v1 = ShortVector.fromArray(SH, kc, k1 + e).reinterpretAsInts();
                    IntVector v2 = ShortVector.fromArray(SH, kc, k2 + e).reinterpretAsInts(), v3 = ShortVector.fromArray(SH, kc, k3 + e).reinterpretAsInts();
                    a0 = v0.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x, a0);
                    a1 = v1.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x, a1);
                    a2 = v2.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x, a2);
                    a3 = v3.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x, a3);
                    a0 = v0.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(y, a0);
                    a1 = v1.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(y, a1);
                    a2 = v2.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(y, a2);
                    a3 = v3.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(y, a3);
                }
                a0.mul(scale).intoArray(s, i);
                a1.mul(scale).intoArray(s, i + L);
                a2.mul(scale).intoArray(s, i + 2 * L);
                a3.mul(scale).intoArray(s, i + 3 * L);
            }
            for (; i < n; i += L) {
                int k = c.halfKeyAt(from + i) + ko;
                FloatVector a = FloatVector.zero(F);
                for (int d = 0; d < hd; d += 2) {
                    IntVector v = ShortVector.fromArray(SH, kc, k + KvCache.KEY_BLOCK * d).reinterpretAsInts();
                    a = v.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(FloatVector.broadcast(F, q[qo + d] * 0x1p112f), a);
                    a = v.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(FloatVector.broadcast(F, q[qo + d + 1] * 0x1p112f), a);
                }
                a.mul(scale).intoArray(s, i);
            }
        }

        /**
         * One query's scores (q at qo, times scale) against the keys of positions [from, from + n), from and n whole
         * vectors: the score of position p at s[p - from]. A key block's dim (at ko + KEY_BLOCK * d, see KvCache) is
         * a vector of consecutive positions' elements, multiplied by the query's element broadcast: the products
         * sum in element order, as the scalar loop does, and four vectors of positions take each broadcast. A
         * vector's lanes past the query's last key (or before its first) are computed and never read.
         */
        static void keyScores(float[] q, int qo, float[] kc, KvCache c, int from, int n, int ko, int hd, float scale, float[] s) {
            int i = 0;
            for (; i <= n - 4 * L; i += 4 * L) {
                int k0 = c.keyAt(from + i) + ko, k1 = c.keyAt(from + i + L) + ko, k2 = c.keyAt(from + i + 2 * L) + ko, k3 = c.keyAt(from + i + 3 * L) + ko;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int d = 0; d < hd; d++) {
                    FloatVector x = FloatVector.broadcast(F, q[qo + d]);
                    int e = KvCache.KEY_BLOCK * d;
                    a0 = FloatVector.fromArray(F, kc, k0 + e).fma(x, a0);
                    a1 = FloatVector.fromArray(F, kc, k1 + e).fma(x, a1);
                    a2 = FloatVector.fromArray(F, kc, k2 + e).fma(x, a2);
                    a3 = FloatVector.fromArray(F, kc, k3 + e).fma(x, a3);
                }
                a0.mul(scale).intoArray(s, i);
                a1.mul(scale).intoArray(s, i + L);
                a2.mul(scale).intoArray(s, i + 2 * L);
                a3.mul(scale).intoArray(s, i + 3 * L);
            }
            for (; i < n; i += L) {
                int k = c.keyAt(from + i) + ko;
                FloatVector a = FloatVector.zero(F);
                for (int d = 0; d < hd; d++) a = FloatVector.fromArray(F, kc, k + KvCache.KEY_BLOCK * d).fma(FloatVector.broadcast(F, q[qo + d]), a);
                a.mul(scale).intoArray(s, i);
            }
        }

        /** st at so = the dot products of the keys at off[0..4) (dims KEY_BLOCK apart) with the block's queries, by key and lane. */
        private void scores(float[] kc, int[] off, int hd, int so) {
            int k0 = off[0], k1 = off[1], k2 = off[2], k3 = off[3];
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int d = 0; d < hd; d++) {
                FloatVector x0 = FloatVector.fromArray(F, qt, d * QB), x1 = FloatVector.fromArray(F, qt, d * QB + L);
                FloatVector k = FloatVector.broadcast(F, kc[k0 + KvCache.KEY_BLOCK * d]);
                a00 = k.fma(x0, a00);
                a01 = k.fma(x1, a01);
                k = FloatVector.broadcast(F, kc[k1 + KvCache.KEY_BLOCK * d]);
                a10 = k.fma(x0, a10);
                a11 = k.fma(x1, a11);
                k = FloatVector.broadcast(F, kc[k2 + KvCache.KEY_BLOCK * d]);
                a20 = k.fma(x0, a20);
                a21 = k.fma(x1, a21);
                k = FloatVector.broadcast(F, kc[k3 + KvCache.KEY_BLOCK * d]);
                a30 = k.fma(x0, a30);
                a31 = k.fma(x1, a31);
            }
            a00.intoArray(st, so);
            a01.intoArray(st, so + L);
            a10.intoArray(st, so + QB);
            a11.intoArray(st, so + QB + L);
            a20.intoArray(st, so + 2 * QB);
            a21.intoArray(st, so + 2 * QB + L);
            a30.intoArray(st, so + 3 * QB);
            a31.intoArray(st, so + 3 * QB + L);
        }

        /** ot at oo = sum over the keys of weight (st) times 4 value dims from vo on, by dim and lane. */
        private void values(float[] vc, KvCache c, int lo, int keys, int vo, int oo) {
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int i = 0; i < keys; i++) {
                int e = c.valueAt(lo + i) + vo;
                FloatVector p0 = FloatVector.fromArray(F, st, i * QB), p1 = FloatVector.fromArray(F, st, i * QB + L);
                FloatVector v = FloatVector.broadcast(F, vc[e]);
                a00 = v.fma(p0, a00);
                a01 = v.fma(p1, a01);
                v = FloatVector.broadcast(F, vc[e + 1]);
                a10 = v.fma(p0, a10);
                a11 = v.fma(p1, a11);
                v = FloatVector.broadcast(F, vc[e + 2]);
                a20 = v.fma(p0, a20);
                a21 = v.fma(p1, a21);
                v = FloatVector.broadcast(F, vc[e + 3]);
                a30 = v.fma(p0, a30);
                a31 = v.fma(p1, a31);
            }
            a00.intoArray(ot, oo);
            a01.intoArray(ot, oo + L);
            a10.intoArray(ot, oo + QB);
            a11.intoArray(ot, oo + QB + L);
            a20.intoArray(ot, oo + 2 * QB);
            a21.intoArray(ot, oo + 2 * QB + L);
            a30.intoArray(ot, oo + 3 * QB);
            a31.intoArray(ot, oo + 3 * QB + L);
        }
    }
}
