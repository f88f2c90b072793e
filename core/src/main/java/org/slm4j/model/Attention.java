package org.slm4j.model;

import static jdk.incubator.vector.VectorOperators.EXP;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
     * An F16 cache's head is converted to floats once for all of them: converted per query head, TinyLlama's 8 per
     * KV head converted it 8 times.
     */
    private void attendGroup(Batch batch, int start, int b0, int b1, int g, int layer, float[] q, float[] att) {
        KvCache c = batch.caches()[start + b0];
        int hd = cfg.headDim(), from = c.firstVisible(batch.positions()[start + b0]), to = batch.positions()[start + b1 - 1] + 1;
        KvCache kv = c.half() ? converted(c, layer, from, to, g * hd) : c;
        float[] kc = kv.keys[kv == c ? layer : 0], vc = kv.values[kv == c ? layer : 0];
        int kvo = kv == c ? g * hd : 0;
        for (int h = g * cfg.groupSize(); h < (g + 1) * cfg.groupSize(); h++) {
            if (b1 - b0 == 1) attendRow(batch, start, b0, h, kc, vc, kv, kvo, q, att);
            else Tile.SCRATCH.get().attend(this, batch, start, b0, b1, h, kc, vc, kv, kvo, q, att);
        }
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
     * in kc and vc, laid out as kv's, the head's dims from kvo.
     */
    private void attendRow(Batch batch, int start, int b, int h, float[] kc, float[] vc, KvCache kv, int kvo, float[] q, float[] att) {
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
            Tile.keyScores(q, qo, kc, kv, from, padded, KvCache.KEY_BLOCK * kvo, hd, scale, s);
            float max = Float.NEGATIVE_INFINITY;
            for (int i = first - from; i < first - from + span; i++) max = Math.max(max, s[i]);
            float inv = 1f / Tile.exps(s, first - from, span, max);
            Tile.weighValues(s, first - from, span, inv, vc, kv, first, kvo, hd, att, ao);
            return;
        }
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
        static final int L = F.length(), QB = 2 * L;      // queries per block: two vectors
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
