package org.slm4j.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static org.slm4j.tensor.Blocks.QK;
import static org.slm4j.tensor.Blocks.QK_K;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector kernels' matmul for a batch of inputs (a prompt): a blocked matrix multiply.
 *
 * <p>The inputs are transposed once per call into groups of {@code G} positions, element-major, so one vector holds
 * one element of L positions. A register tile is {@code ROWS} weight rows (8 on AVX-512, 4 on AVX2; Q4_0 and Q4_K 12 or 4)
 * by G positions: each step broadcasts one decoded weight per row and multiplies it with two input
 * vectors, so a weight is loaded once for G positions and an input vector once for all the tile's rows. Work is
 * split in units of up to {@code SUB} rows, as many tiles for each thread (see {@link #units}); a unit decodes its
 * rows once and then passes over {@code KC} elements at a time, every group and tile in turn, so each pass's inputs
 * (KC x G floats) are reused from L1 by all the unit's tiles.
 *
 * <p>Quantized weights are decoded to integers, the quants times any integer sub-block scale: each lane sums one
 * position's products over one block of 32, an exact integer (at most 32 products of |w| by |q_x| &lt;= 127: Q5_K
 * 31 * 63, Q6_K 32 * 128, all under 2^24), and then adds it times {@code d_w * d_x} with one
 * fused multiply-add, block after block. A super-block's integer sum is thus split in exact parts, each scaled;
 * only that order of float additions differs from the scalar kernel. Q5_K, whose d_w and d_x hold for a whole
 * super-block, sums spans of 64 products before scaling, the most that stay exact (64 * 31 * 63 * 127 &lt; 2^24):
 * a 5632 x 2048 matmul of 512 positions on one thread, 166 -> 156 ms. The min terms of Q4_1, Q5_1, Q4_K and Q5_K are summed
 * apart the same way (see {@link #mins}). Float weights sum their products in element order, one chain per output.
 * So does Q8_0, its quants times their f16 scale, weights and inputs alike: both products are exact floats (8 by
 * 11 significant bits), so only the order of additions differs from ggml's, and the tile runs without the per-block
 * scaling (a 5632 x 2048 matmul of 512 positions, one thread: 133 -> 119 ms, F16's 118; TinyLlama Q8_0 prompts 81
 * -> 100 tok/s).
 * Q4_0 does the same sums in 16-bit integer lanes, NIBBLE_ROWS rows by 2G positions (see {@link #nibbles}): measured
 * on AVX-512, a 16-bit multiply and add serve about 3 times the products per second of float FMAs. So does Q4_K,
 * its quants taken as q - 8 like Q4_0's and each block scaled by d * scale (exact); the 8 goes back in as
 * 8 * scale times the block's input sum, a second min term (exact: 8 * 63 * 32 * 127 * 8 &lt; 2^24). Against
 * float tiles, a 5632 x 2048 matmul of 512 positions on one thread 128 -> 91 ms (Q4_0 78), TinyLlama Q4_K prompts
 * 83 -> 121 tok/s (llama.cpp 131).
 */
final class Gemm implements Parallel.RangeTask {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = VectorKernels.L;
    private static final VectorSpecies<Short> S = VectorKernels.SHORTS;   // G lanes
    private static final int R = 4;                // weight rows per quad: a small tile, and what scale and mins take
    // weight rows per register tile where there are 32 vector registers (AVX-512), 4 with 16 (AVX2), where more
    // rows spill (floats: 8 rows 31 against 56 GMAC/s per core in a microbenchmark; Q4_0: a 5632 x 2048 matmul of
    // 512 positions 99 against 70 ms). Floats: 8 rows' 16 accumulators cover the FMA's latency (4 rows: 103, 8 rows:
    // 127 GMAC/s). Q4_0: 12 rows' 24 accumulators, so each input vector loaded serves 12 rows (that matmul on one
    // thread: 4 rows 39.7, 8 rows 37.3 - 38.2, 12 rows 36.9 ms)
    private static final int ROWS = L >= 16 ? 8 : 4;
    private static final int NIBBLE_ROWS = L >= 16 ? 12 : 4;
    private static final int G = 2 * L;            // positions per register tile: two vectors
    private static final int SUB = 48;             // rows per unit of work, decoded once per call: whole tiles
    private static final int KC = 256;             // elements per pass: its inputs (G * KC) stay in L1 or L2
    private static final long SERIAL_WORK = 1 << 15;
    private static final int TRANSPOSE_SPAN = 64;
    private static final ThreadLocal<Gemm> CALLS = ThreadLocal.withInitial(Gemm::new);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private float[] xt = new float[0];             // inputs by group, element, lane          [groups * cols * G]
    private short[] xs = new short[0];             // Q4_0, Q4_K: xt's quants as 16-bit integers, by pair of groups, element, lane  [(groups + 1) / 2 * 2 * cols * G]
    private float[] dxt = new float[0];            // input block scales by group, block, lane [groups * cols / 32 * G]
    private float[] mst = new float[0];            // Q4_1, Q5_1: s_x; Q4_K, Q5_K: sum of the block's quants  [groups * cols / 32 * G]
    private float[] mdt = new float[0];            // scale of mst: Q4_1, Q5_1 1; Q4_K, Q5_K d_x per min block  [groups * cols / 32 * G]
    private int[] q8Order;                         // Q8_0: the column at each place of a row from the copy (q8Column)
    private int[][] q8Orders = new int[0][];       // q8Order for each row width met: a model's 2 or 3, made once
    private final Parallel.RangeTask transpose = this::transpose;
    private Matrix w;
    private Activations in;
    private Activations lastIn;                    // the input xt holds, at lastVersion for lastType, when not null
    private int lastVersion;
    private GgmlType lastType;
    private int batch, groups;
    private boolean quantized;                     // block sums scaled per block (dxt); Q8_0 is not: see scaled
    private boolean scaled;                        // Q8_0: weights and inputs carry their block scales, as floats
    private boolean shorts;                        // Q4_0, Q4_K: 16-bit products summed per block in 16-bit lanes
    private boolean halves;                        // F16: rows from the regrouped copy, inputs as generation's (f16Floats)
    private int span;                              // elements summed before one scaling: a block, or more (class doc)
    private int minBlock;                          // elements per min term scale: Q4_1, Q5_1 32; Q4_K, Q5_K 256; else 0
    private int rt;                                // rows per register tile: ROWS, or NIBBLE_ROWS for 16-bit sums
    private int tiles, units;                      // the matrix's tiles, and the units of work they are split in
    private float[] out;

    /** One worker's decoded rows and accumulators, reused by its next unit. */
    private static final class Scratch {
        final VectorKernels.Decoded dec = new VectorKernels.Decoded();
        float[] acc = new float[0];                // by group, tile, row, lane              [groups * SUB * G]
        // Q4_0, Q4_K: a pass's block sums by block, group, row, lane
        final short[] sums = new short[KC / QK * 2 * NIBBLE_ROWS * G];
    }

    static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_0, Q5_1, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** out = w times the batch of {@code in}, prepared for w's type; {@link #supports} must hold. */
    static void multiply(Matrix w, Activations in, int batch, float[] out) {
        Gemm g = CALLS.get();
        g.prepare(w, in, batch, out);
        try {
            if ((long) w.rows() * w.cols() * batch < SERIAL_WORK) g.run(0, g.units);
            else Parallel.forRange(g.units, g);
        } finally {
            g.w = null;
            g.in = null;
            g.out = null;
        }
    }

    private void prepare(Matrix w, Activations in, int batch, float[] out) {
        this.w = w;
        this.in = in;
        this.batch = batch;
        this.out = out;
        int n = w.cols();
        groups = (batch + G - 1) / G;
        scaled = w.type() == GgmlType.Q8_0;
        quantized = w.type().blockSize() > 1 && !scaled;
        shorts = w.type() == GgmlType.Q4_0 || w.type() == GgmlType.Q4_K;
        halves = w.type() == GgmlType.F16;
        span = w.type() == GgmlType.Q5_K ? 64 : QK;
        rt = shorts ? NIBBLE_ROWS : ROWS;
        tiles = (w.rows() + rt - 1) / rt;
        units = units(tiles, SUB / rt, Parallel.threads());
        minBlock = switch (w.type()) {
            case Q4_1, Q5_1 -> QK;
            case Q4_K, Q5_K -> QK_K;
            default -> 0;
        };
        if (!shorts && xt.length < groups * n * G) xt = new float[groups * n * G];
        if (shorts && xs.length < (groups + 1) / 2 * 2 * n * G) xs = new short[(groups + 1) / 2 * 2 * n * G];
        if (quantized && dxt.length < groups * n / QK * G) {
            dxt = new float[groups * n / QK * G];
            mst = new float[groups * n / QK * G];
            mdt = new float[groups * n / QK * G];
        }
        // a matrix sharing the previous call's prepared input (Kernels' several-matrix matmul) shares its transposition
        if (in == lastIn && in.version == lastVersion && w.type() == lastType) return;
        lastIn = null;
        if (scaled) q8Order = q8Order(n);
        if ((long) batch * n < SERIAL_WORK) transpose(0, groups);
        else Parallel.forRange(groups, transpose);
        lastIn = in;
        lastVersion = in.version;
        lastType = w.type();
    }

    /**
     * The columns of a Q8_0 row of width n in the copy's order. Kept per width: one table remade whenever the width
     * changed was remade twice per layer (down's 5632 columns, then the next layer's 2048).
     */
    private int[] q8Order(int n) {
        for (int[] order : q8Orders) if (order.length == n) return order;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = BlockGroups.q8Column(i, n);
        q8Orders = Arrays.copyOf(q8Orders, q8Orders.length + 1);
        q8Orders[q8Orders.length - 1] = order;
        return order;
    }

    /** Groups [g0, g1) of the inputs (and their block scales) into xt (and dxt); positions past the batch are 0. */
    private void transpose(int g0, int g1) {
        int n = w.cols(), nb = n / QK;
        float[] x = quantized || scaled ? in.qf : in.f;
        // 16-bit: a group's G positions, TRANSPOSE_SPAN elements at a time, so that the span's lines of xs (each
        // written by every position) stay in L1 while the group's positions fill them (position after position
        // over all n elements wrote each line back and forth from L2: 2 KB x n)
        for (int g = g0; shorts && g < g1; g++) {
            for (int i0 = 0; i0 < n; i0 += TRANSPOSE_SPAN) {
                int i1 = Math.min(n, i0 + TRANSPOSE_SPAN);
                for (int p = g * G; p < (g + 1) * G; p++) {
                    // lane 2j holds the group's position j, lane 2j + 1 position L + j: see scale
                    int j = p % G, pair = g / 2 * n * 2 * G + g % 2 * G + (j < L ? 2 * j : 2 * (j - L) + 1);
                    if (p < batch) for (int i = i0; i < i1; i++) xs[pair + i * 2 * G] = (short) x[p * n + i];
                    else for (int i = i0; i < i1; i++) xs[pair + i * 2 * G] = 0;
                }
            }
        }
        for (int p = g0 * G; p < g1 * G; p++) {
            int base = p / G * n * G + p % G;
            if (halves) {
                // generation's input, whose order and scale f16Floats follows; the last n % 2L elements are in x
                int whole = n - n % (2 * L);
                for (int i = 0; i < n; i++) xt[base + i * G] = p >= batch ? 0 : i < whole ? in.groupedX[p * n + i] : x[p * n + i];
            } else if (scaled) {
                // in the order of the rows from generation's copy (BlockGroups.q8Floats)
                for (int i = 0; i < n; i++) {
                    int c = q8Order[i];
                    xt[base + i * G] = p >= batch ? 0 : x[p * n + c] * in.d[p * nb + c / QK];
                }
            } else if (!shorts) {
                for (int i = 0; i < n; i++) xt[base + i * G] = p >= batch ? 0 : x[p * n + i];
            }
            if (!quantized) continue;
            base = p / G * nb * G + p % G;
            boolean real = p < batch, superBlocks = w.type().blockSize() == QK_K;
            // 16-bit sums: a group's first L positions are read from the low 16 bits shifted to the top (see scale)
            float unit = shorts && p % G < L ? 0x1p-16f : 1;
            for (int k = 0; k < nb; k++) dxt[base + k * G] = !real ? 0 : (superBlocks ? in.d[p * nb / 8 + k / 8] : in.d[p * nb + k]) * unit;
            if (minBlock == QK) {
                for (int k = 0; k < nb; k++) {
                    mst[base + k * G] = real ? in.s[p * nb + k] : 0;
                    mdt[base + k * G] = 1;
                }
            } else if (minBlock == QK_K) {
                for (int k = 0; k < nb; k++) mst[base + k * G] = real ? in.bsums[2 * (p * nb + k)] + in.bsums[2 * (p * nb + k) + 1] : 0;
                int mbase = p / G * (nb / 8) * G + p % G;
                for (int k = 0; k < nb / 8; k++) mdt[mbase + k * G] = real ? in.d[p * nb / 8 + k] : 0;
            }
        }
    }

    /**
     * Units of at most SUB rows, whole tiles, a multiple of the thread count, each thread's share of them the same
     * number of tiles to a tile: units of exactly SUB rows left one thread up to a unit's rows longer than the other
     * (K and V of TinyLlama, 256 rows: 144 against 112). JMH, 256 x 2048 by 512 positions on two threads: Q8_0 4.30
     * -> 3.72 ms, Q4_0 2.84 -> 2.65 ms; TinyLlama Q8_0 prompts 98.1 -> 100.0 tok/s (three alternating rounds).
     */
    private static int units(int tiles, int perUnit, int threads) {
        return Math.min(tiles, threads * ((tiles + threads * perUnit - 1) / (threads * perUnit)));
    }

    /** Units [start, end) of {@link #units}: unit u takes tiles [u * tiles / units, (u + 1) * tiles / units). */
    @Override
    public void run(int start, int end) {
        Scratch s = SCRATCH.get();
        int n = w.cols(), rows = w.rows(), rt = this.rt;
        for (int u = start; u < end; u++) {
            int r0 = (int) ((long) u * this.tiles / units) * rt, r1 = Math.min(rows, (int) ((long) (u + 1) * this.tiles / units) * rt);
            int count = r1 - r0, tiles = (count + rt - 1) / rt;
            int passes = (n + KC - 1) / KC;
            VectorKernels.Decoded dec = s.dec.fit(tiles * rt, shorts ? passes * KC : n, shorts);
            // the last tile's missing rows multiply what the scratch holds; those outputs are never stored
            for (int r = 0; r < count; r++) {
                int at = (r / NIBBLE_ROWS * passes * NIBBLE_ROWS + r % NIBBLE_ROWS) * KC;     // 16-bit: by tile, pass, row
                if (shorts) VectorKernels.decodeNibbles(w, r0 + r, dec, r * (n / QK), at, KC, NIBBLE_ROWS * KC);
                else VectorKernels.decode(w, r0 + r, dec, r * n);
            }
            if (shorts) VectorKernels.widenQuants(dec, tiles * rt * passes * KC);
            if (dec.nonFinite) {
                // a broken file: a Q8_0 weight of 0 times an inf scale would be NaN where ggml's block sum times
                // the scale gives inf, so these rows go through the reference kernel
                for (int r = r0; r < r0 + count; r++) {
                    for (int p = 0; p < batch; p++) out[p * rows + r] = ScalarKernels.INSTANCE.dot(w, r * w.rowBytes(), in, p);
                }
                continue;
            }
            int accSize = groups * tiles * rt * G;
            if (s.acc.length < accSize) s.acc = new float[accSize];
            float[] acc = s.acc;
            Arrays.fill(acc, 0, accSize, 0);
            for (int k0 = 0; k0 < n; k0 += KC) {
                int k1 = Math.min(n, k0 + KC);
                for (int g = 0; g < groups; g += shorts ? 2 : 1) {
                    for (int t = 0; t < tiles; t++) {
                        int ao = (g * tiles + t) * rt * G;
                        if (shorts) nibbles(dec, s.sums, t, passes, n, xs, dxt, g, g + 1 < groups, k0, k1, acc, ao, tiles * NIBBLE_ROWS * G);
                        else if (quantized && rt == 8) blocks8(dec, t * rt * n, n, xt, dxt, g, k0, k1, span, acc, ao);
                        else if (quantized) blocks(dec, t * rt * n, n, xt, dxt, g, k0, k1, span, acc, ao);
                        else if (rt == 8) floats8(dec.w, t * rt * n, n, xt, g * n * G, k0, k1, acc, ao);
                        else floats(dec.w, t * rt * n, n, xt, g * n * G, k0, k1, acc, ao);
                    }
                }
            }
            if (minBlock > 0) {
                for (int g = 0; g < groups; g++) {
                    // by 4 rows: a tile of 8 is two of them, one after the other in dec and acc
                    for (int t = 0; t < tiles * rt / R; t++) {
                        int ao = (g * tiles * rt / R + t) * R * G;
                        mins(dec.m, dec.dm, t * R * n, n, minBlock, mst, mdt, g, acc, ao);
                        // Q4_K in 16 bits: the 8 taken off each quant, put back as 8 * scale times the block's input sum
                        if (shorts) mins(dec.m8, dec.dd, t * R * n, n, minBlock, mst, mdt, g, acc, ao);
                    }
                }
            }
            // each position's outputs: its lane of the unit's rows (a group's lanes stay in L1). Not a Vector API
            // gather: in some test runs C2 left its index check out of line and it allocated per call
            for (int g = 0; g < groups; g++) {
                for (int j = 0; j < G && g * G + j < batch; j++) {
                    int o = (g * G + j) * rows + r0, a = g * tiles * rt * G + j;
                    for (int r = 0; r < count; r++) out[o + r] = acc[a + r * G];
                }
            }
        }
    }

    /** Adds elements [k0, k1) of 4 float rows (at wo, wo + n, ..) times group g's inputs (at xo) to acc at ao. */
    private static void floats(float[] wf, int wo, int n, float[] xt, int xo, int k0, int k1, float[] acc, int ao) {
        FloatVector a00 = FloatVector.fromArray(F, acc, ao), a01 = FloatVector.fromArray(F, acc, ao + L);
        FloatVector a10 = FloatVector.fromArray(F, acc, ao + 2 * L), a11 = FloatVector.fromArray(F, acc, ao + 3 * L);
        FloatVector a20 = FloatVector.fromArray(F, acc, ao + 4 * L), a21 = FloatVector.fromArray(F, acc, ao + 5 * L);
        FloatVector a30 = FloatVector.fromArray(F, acc, ao + 6 * L), a31 = FloatVector.fromArray(F, acc, ao + 7 * L);
        for (int i = k0; i < k1; i++) {
            int e = xo + i * G;
            FloatVector x0 = FloatVector.fromArray(F, xt, e), x1 = FloatVector.fromArray(F, xt, e + L);
            FloatVector w = FloatVector.broadcast(F, wf[wo + i]);
            a00 = w.fma(x0, a00);
            a01 = w.fma(x1, a01);
            w = FloatVector.broadcast(F, wf[wo + n + i]);
            a10 = w.fma(x0, a10);
            a11 = w.fma(x1, a11);
            w = FloatVector.broadcast(F, wf[wo + 2 * n + i]);
            a20 = w.fma(x0, a20);
            a21 = w.fma(x1, a21);
            w = FloatVector.broadcast(F, wf[wo + 3 * n + i]);
            a30 = w.fma(x0, a30);
            a31 = w.fma(x1, a31);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + L);
        a10.intoArray(acc, ao + 2 * L);
        a11.intoArray(acc, ao + 3 * L);
        a20.intoArray(acc, ao + 4 * L);
        a21.intoArray(acc, ao + 5 * L);
        a30.intoArray(acc, ao + 6 * L);
        a31.intoArray(acc, ao + 7 * L);
    }

    /** {@link #floats} for 8 rows. */
    private static void floats8(float[] wf, int wo, int n, float[] xt, int xo, int k0, int k1, float[] acc, int ao) {
        FloatVector a00 = FloatVector.fromArray(F, acc, ao), a01 = FloatVector.fromArray(F, acc, ao + L);
        FloatVector a10 = FloatVector.fromArray(F, acc, ao + 2 * L), a11 = FloatVector.fromArray(F, acc, ao + 3 * L);
        FloatVector a20 = FloatVector.fromArray(F, acc, ao + 4 * L), a21 = FloatVector.fromArray(F, acc, ao + 5 * L);
        FloatVector a30 = FloatVector.fromArray(F, acc, ao + 6 * L), a31 = FloatVector.fromArray(F, acc, ao + 7 * L);
        FloatVector a40 = FloatVector.fromArray(F, acc, ao + 8 * L), a41 = FloatVector.fromArray(F, acc, ao + 9 * L);
        FloatVector a50 = FloatVector.fromArray(F, acc, ao + 10 * L), a51 = FloatVector.fromArray(F, acc, ao + 11 * L);
        FloatVector a60 = FloatVector.fromArray(F, acc, ao + 12 * L), a61 = FloatVector.fromArray(F, acc, ao + 13 * L);
        FloatVector a70 = FloatVector.fromArray(F, acc, ao + 14 * L), a71 = FloatVector.fromArray(F, acc, ao + 15 * L);
        for (int i = k0; i < k1; i++) {
            int e = xo + i * G;
            FloatVector x0 = FloatVector.fromArray(F, xt, e), x1 = FloatVector.fromArray(F, xt, e + L);
            FloatVector w0 = FloatVector.broadcast(F, wf[wo + i]);
            a00 = w0.fma(x0, a00);
            a01 = w0.fma(x1, a01);
            FloatVector w1 = FloatVector.broadcast(F, wf[wo + n + i]);
            a10 = w1.fma(x0, a10);
            a11 = w1.fma(x1, a11);
            FloatVector w2 = FloatVector.broadcast(F, wf[wo + 2 * n + i]);
            a20 = w2.fma(x0, a20);
            a21 = w2.fma(x1, a21);
            FloatVector w3 = FloatVector.broadcast(F, wf[wo + 3 * n + i]);
            a30 = w3.fma(x0, a30);
            a31 = w3.fma(x1, a31);
            FloatVector w4 = FloatVector.broadcast(F, wf[wo + 4 * n + i]);
            a40 = w4.fma(x0, a40);
            a41 = w4.fma(x1, a41);
            FloatVector w5 = FloatVector.broadcast(F, wf[wo + 5 * n + i]);
            a50 = w5.fma(x0, a50);
            a51 = w5.fma(x1, a51);
            FloatVector w6 = FloatVector.broadcast(F, wf[wo + 6 * n + i]);
            a60 = w6.fma(x0, a60);
            a61 = w6.fma(x1, a61);
            FloatVector w7 = FloatVector.broadcast(F, wf[wo + 7 * n + i]);
            a70 = w7.fma(x0, a70);
            a71 = w7.fma(x1, a71);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + L);
        a10.intoArray(acc, ao + 2 * L);
        a11.intoArray(acc, ao + 3 * L);
        a20.intoArray(acc, ao + 4 * L);
        a21.intoArray(acc, ao + 5 * L);
        a30.intoArray(acc, ao + 6 * L);
        a31.intoArray(acc, ao + 7 * L);
        a40.intoArray(acc, ao + 8 * L);
        a41.intoArray(acc, ao + 9 * L);
        a50.intoArray(acc, ao + 10 * L);
        a51.intoArray(acc, ao + 11 * L);
        a60.intoArray(acc, ao + 12 * L);
        a61.intoArray(acc, ao + 13 * L);
        a70.intoArray(acc, ao + 14 * L);
        a71.intoArray(acc, ao + 15 * L);
    }

    /**
     * {@link #floats} for quants: per span of elements (a block of 32, or more, see the class doc) the exact integer
     * sums of 4 rows by G positions, then each times its d_w * d_x, added to acc with one fused multiply-add.
     */
    private static void blocks(VectorKernels.Decoded dec, int wo, int n, float[] xt, float[] dxt, int g, int k0, int k1, int span,
                               float[] acc, int ao) {
        float[] wf = dec.w, dw = dec.d;
        int nb = n / QK, xo = g * n * G, dxo = g * nb * G, d0 = wo / QK;
        FloatVector a00 = FloatVector.fromArray(F, acc, ao), a01 = FloatVector.fromArray(F, acc, ao + L);
        FloatVector a10 = FloatVector.fromArray(F, acc, ao + 2 * L), a11 = FloatVector.fromArray(F, acc, ao + 3 * L);
        FloatVector a20 = FloatVector.fromArray(F, acc, ao + 4 * L), a21 = FloatVector.fromArray(F, acc, ao + 5 * L);
        FloatVector a30 = FloatVector.fromArray(F, acc, ao + 6 * L), a31 = FloatVector.fromArray(F, acc, ao + 7 * L);
        for (int k = k0; k < k1; k += span) {
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int i = k; i < k + span; i++) {
                int e = xo + i * G;
                FloatVector x0 = FloatVector.fromArray(F, xt, e), x1 = FloatVector.fromArray(F, xt, e + L);
                FloatVector w = FloatVector.broadcast(F, wf[wo + i]);
                s00 = w.fma(x0, s00);
                s01 = w.fma(x1, s01);
                w = FloatVector.broadcast(F, wf[wo + n + i]);
                s10 = w.fma(x0, s10);
                s11 = w.fma(x1, s11);
                w = FloatVector.broadcast(F, wf[wo + 2 * n + i]);
                s20 = w.fma(x0, s20);
                s21 = w.fma(x1, s21);
                w = FloatVector.broadcast(F, wf[wo + 3 * n + i]);
                s30 = w.fma(x0, s30);
                s31 = w.fma(x1, s31);
            }
            int b = k / QK, e = dxo + b * G;
            FloatVector dx0 = FloatVector.fromArray(F, dxt, e), dx1 = FloatVector.fromArray(F, dxt, e + L);
            float w0 = dw[d0 + b], w1 = dw[d0 + nb + b], w2 = dw[d0 + 2 * nb + b], w3 = dw[d0 + 3 * nb + b];
            a00 = s00.fma(dx0.mul(w0), a00);
            a01 = s01.fma(dx1.mul(w0), a01);
            a10 = s10.fma(dx0.mul(w1), a10);
            a11 = s11.fma(dx1.mul(w1), a11);
            a20 = s20.fma(dx0.mul(w2), a20);
            a21 = s21.fma(dx1.mul(w2), a21);
            a30 = s30.fma(dx0.mul(w3), a30);
            a31 = s31.fma(dx1.mul(w3), a31);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + L);
        a10.intoArray(acc, ao + 2 * L);
        a11.intoArray(acc, ao + 3 * L);
        a20.intoArray(acc, ao + 4 * L);
        a21.intoArray(acc, ao + 5 * L);
        a30.intoArray(acc, ao + 6 * L);
        a31.intoArray(acc, ao + 7 * L);
    }

    /**
     * {@link #blocks} for 8 rows. Their 16 span sums fill the registers, so each span is scaled into acc in memory
     * (a load, a multiply-add and a store per 16 * span multiply-adds).
     */
    private static void blocks8(VectorKernels.Decoded dec, int wo, int n, float[] xt, float[] dxt, int g, int k0, int k1, int span,
                                float[] acc, int ao) {
        float[] wf = dec.w, dw = dec.d;
        int nb = n / QK, xo = g * n * G, dxo = g * nb * G, d0 = wo / QK;
        for (int k = k0; k < k1; k += span) {
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00, s60 = s00, s61 = s00, s70 = s00, s71 = s00;
            for (int i = k; i < k + span; i++) {
                int e = xo + i * G;
                FloatVector x0 = FloatVector.fromArray(F, xt, e), x1 = FloatVector.fromArray(F, xt, e + L);
                FloatVector w0 = FloatVector.broadcast(F, wf[wo + i]);
                s00 = w0.fma(x0, s00);
                s01 = w0.fma(x1, s01);
                FloatVector w1 = FloatVector.broadcast(F, wf[wo + n + i]);
                s10 = w1.fma(x0, s10);
                s11 = w1.fma(x1, s11);
                FloatVector w2 = FloatVector.broadcast(F, wf[wo + 2 * n + i]);
                s20 = w2.fma(x0, s20);
                s21 = w2.fma(x1, s21);
                FloatVector w3 = FloatVector.broadcast(F, wf[wo + 3 * n + i]);
                s30 = w3.fma(x0, s30);
                s31 = w3.fma(x1, s31);
                FloatVector w4 = FloatVector.broadcast(F, wf[wo + 4 * n + i]);
                s40 = w4.fma(x0, s40);
                s41 = w4.fma(x1, s41);
                FloatVector w5 = FloatVector.broadcast(F, wf[wo + 5 * n + i]);
                s50 = w5.fma(x0, s50);
                s51 = w5.fma(x1, s51);
                FloatVector w6 = FloatVector.broadcast(F, wf[wo + 6 * n + i]);
                s60 = w6.fma(x0, s60);
                s61 = w6.fma(x1, s61);
                FloatVector w7 = FloatVector.broadcast(F, wf[wo + 7 * n + i]);
                s70 = w7.fma(x0, s70);
                s71 = w7.fma(x1, s71);
            }
            int b = k / QK, e = dxo + b * G;
            FloatVector dx0 = FloatVector.fromArray(F, dxt, e), dx1 = FloatVector.fromArray(F, dxt, e + L);
            s00.fma(dx0.mul(dw[d0 + b]), FloatVector.fromArray(F, acc, ao)).intoArray(acc, ao);
            s01.fma(dx1.mul(dw[d0 + b]), FloatVector.fromArray(F, acc, ao + L)).intoArray(acc, ao + L);
            s10.fma(dx0.mul(dw[d0 + nb + b]), FloatVector.fromArray(F, acc, ao + 2 * L)).intoArray(acc, ao + 2 * L);
            s11.fma(dx1.mul(dw[d0 + nb + b]), FloatVector.fromArray(F, acc, ao + 3 * L)).intoArray(acc, ao + 3 * L);
            s20.fma(dx0.mul(dw[d0 + 2 * nb + b]), FloatVector.fromArray(F, acc, ao + 4 * L)).intoArray(acc, ao + 4 * L);
            s21.fma(dx1.mul(dw[d0 + 2 * nb + b]), FloatVector.fromArray(F, acc, ao + 5 * L)).intoArray(acc, ao + 5 * L);
            s30.fma(dx0.mul(dw[d0 + 3 * nb + b]), FloatVector.fromArray(F, acc, ao + 6 * L)).intoArray(acc, ao + 6 * L);
            s31.fma(dx1.mul(dw[d0 + 3 * nb + b]), FloatVector.fromArray(F, acc, ao + 7 * L)).intoArray(acc, ao + 7 * L);
            s40.fma(dx0.mul(dw[d0 + 4 * nb + b]), FloatVector.fromArray(F, acc, ao + 8 * L)).intoArray(acc, ao + 8 * L);
            s41.fma(dx1.mul(dw[d0 + 4 * nb + b]), FloatVector.fromArray(F, acc, ao + 9 * L)).intoArray(acc, ao + 9 * L);
            s50.fma(dx0.mul(dw[d0 + 5 * nb + b]), FloatVector.fromArray(F, acc, ao + 10 * L)).intoArray(acc, ao + 10 * L);
            s51.fma(dx1.mul(dw[d0 + 5 * nb + b]), FloatVector.fromArray(F, acc, ao + 11 * L)).intoArray(acc, ao + 11 * L);
            s60.fma(dx0.mul(dw[d0 + 6 * nb + b]), FloatVector.fromArray(F, acc, ao + 12 * L)).intoArray(acc, ao + 12 * L);
            s61.fma(dx1.mul(dw[d0 + 6 * nb + b]), FloatVector.fromArray(F, acc, ao + 13 * L)).intoArray(acc, ao + 13 * L);
            s70.fma(dx0.mul(dw[d0 + 7 * nb + b]), FloatVector.fromArray(F, acc, ao + 14 * L)).intoArray(acc, ao + 14 * L);
            s71.fma(dx1.mul(dw[d0 + 7 * nb + b]), FloatVector.fromArray(F, acc, ao + 15 * L)).intoArray(acc, ao + 15 * L);
        }
    }

    /**
     * {@link #blocks} for Q4_0 and Q4_K in 16-bit lanes: the NIBBLE_ROWS rows of tile t (decoded by tile, pass and row: see run) by the
     * 2G positions of groups g and g + 1 (or G, the last group of an odd count). A block's products (|q_w| &lt;= 8
     * times |q_x| &lt;= 127) sum to at most 32 * 1016 = 32512, so each lane holds the exact integer sum of a block in
     * 16 bits, then converted and scaled as in {@link #blocks}: the same arithmetic, with twice the lanes per
     * multiply. The pass's block sums are kept (sums) and scaled after its last block, so the float
     * accumulators are loaded and stored once per pass, not once per block (with the 4 x 2 tile: 52.6 -> 43.1 ms
     * per 5632 x 2048 matmul of 512 positions, one thread; 10 % faster TinyLlama prompts). Group g + 1's
     * accumulators are {@code next} after g's.
     */
    private static void nibbles(VectorKernels.Decoded dec, short[] sums, int t, int passes, int n, short[] xs, float[] dxt, int g, boolean pair,
                                int k0, int k1, float[] acc, int ao, int next) {
        int nb = n / QK, xo = g / 2 * n * 2 * G, dxo = g * nb * G, d0 = t * NIBBLE_ROWS * nb, qo = (t * passes + k0 / KC) * NIBBLE_ROWS * KC - k0;
        int blocks = (k1 - k0) / QK;
        if (pair && NIBBLE_ROWS == 12) nibblePair12(dec.q, qo + k0, xs, xo + k0 * 2 * G, sums, blocks);
        else if (pair) nibblePair(dec.q, qo + k0, xs, xo + k0 * 2 * G, sums, blocks);
        else for (int r = 0; r < NIBBLE_ROWS; r += R) nibbleGroup(dec.q, qo + k0 + r * KC, xs, xo + k0 * 2 * G, sums, r * G, blocks);
        scale(sums, blocks, pair ? 2 : 1, dxt, dxo + k0 / QK * G, nb * G, dec.d, d0 + k0 / QK, nb, acc, ao, next);
    }

    /**
     * The blocks of a pass of {@link #nibbles} for a pair of groups and a tile of 4 rows (AVX2): weights at
     * q[wo + r * KC + i], inputs at xs[xo + i * 2G] (G lanes of each group), each block's 8 sums (4 rows of group g,
     * then of g + 1) into sums at k * 8G. Each broadcast weight serves two input vectors: 8 rows by one vector took
     * twice the broadcasts and ran 15 % (AVX-512) to 50 % (AVX2) slower for the same products. The rows lie a
     * constant KC apart, so each load is one register plus a fixed offset (rows n apart took a register each, and C2
     * spilled them). A method of its own so C2 allocates its registers apart from the loops around it; called once
     * per pass, not per block (the calls' spills were 2.4 % of a TinyLlama prompt).
     */
    private static void nibblePair(short[] q, int wo, short[] xs, int xo, short[] sums, int blocks) {
        for (int k = 0; k < blocks; k++) {
            ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int wk = wo + k * QK, xk = xo + k * QK * 2 * G;
            for (int i = 0; i < QK; i++) {
                int e = xk + i * 2 * G, b = wk + i;
                ShortVector x = ShortVector.fromArray(S, xs, e), y = ShortVector.fromArray(S, xs, e + G);
                ShortVector v = ShortVector.broadcast(S, q[b]);
                a0 = x.mul(v).add(a0);
                b0 = y.mul(v).add(b0);
                v = ShortVector.broadcast(S, q[b + KC]);
                a1 = x.mul(v).add(a1);
                b1 = y.mul(v).add(b1);
                v = ShortVector.broadcast(S, q[b + 2 * KC]);
                a2 = x.mul(v).add(a2);
                b2 = y.mul(v).add(b2);
                v = ShortVector.broadcast(S, q[b + 3 * KC]);
                a3 = x.mul(v).add(a3);
                b3 = y.mul(v).add(b3);
            }
            // through an array, to be scaled after the pass: a helper taking a vector would box it
            int so = k * 2 * NIBBLE_ROWS * G;
            a0.intoArray(sums, so);
            a1.intoArray(sums, so + G);
            a2.intoArray(sums, so + 2 * G);
            a3.intoArray(sums, so + 3 * G);
            b0.intoArray(sums, so + 4 * G);
            b1.intoArray(sums, so + 5 * G);
            b2.intoArray(sums, so + 6 * G);
            b3.intoArray(sums, so + 7 * G);
        }
    }

    /** {@link #nibblePair} for a tile of 12 rows (AVX-512): its 24 sums per block, 12 rows of group g, then of g + 1. */
    private static void nibblePair12(short[] q, int wo, short[] xs, int xo, short[] sums, int blocks) {
        for (int k = 0; k < blocks; k++) {
            ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
            ShortVector a10 = a0, a11 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0, b8 = a0;
            ShortVector b9 = a0, b10 = a0, b11 = a0;
            int wk = wo + k * QK, xk = xo + k * QK * 2 * G;
            for (int i = 0; i < QK; i++) {
                int e = xk + i * 2 * G, b = wk + i;
                ShortVector x = ShortVector.fromArray(S, xs, e), y = ShortVector.fromArray(S, xs, e + G);
                ShortVector v = ShortVector.broadcast(S, q[b]);
                a0 = x.mul(v).add(a0);
                b0 = y.mul(v).add(b0);
                v = ShortVector.broadcast(S, q[b + KC]);
                a1 = x.mul(v).add(a1);
                b1 = y.mul(v).add(b1);
                v = ShortVector.broadcast(S, q[b + 2 * KC]);
                a2 = x.mul(v).add(a2);
                b2 = y.mul(v).add(b2);
                v = ShortVector.broadcast(S, q[b + 3 * KC]);
                a3 = x.mul(v).add(a3);
                b3 = y.mul(v).add(b3);
                v = ShortVector.broadcast(S, q[b + 4 * KC]);
                a4 = x.mul(v).add(a4);
                b4 = y.mul(v).add(b4);
                v = ShortVector.broadcast(S, q[b + 5 * KC]);
                a5 = x.mul(v).add(a5);
                b5 = y.mul(v).add(b5);
                v = ShortVector.broadcast(S, q[b + 6 * KC]);
                a6 = x.mul(v).add(a6);
                b6 = y.mul(v).add(b6);
                v = ShortVector.broadcast(S, q[b + 7 * KC]);
                a7 = x.mul(v).add(a7);
                b7 = y.mul(v).add(b7);
                v = ShortVector.broadcast(S, q[b + 8 * KC]);
                a8 = x.mul(v).add(a8);
                b8 = y.mul(v).add(b8);
                v = ShortVector.broadcast(S, q[b + 9 * KC]);
                a9 = x.mul(v).add(a9);
                b9 = y.mul(v).add(b9);
                v = ShortVector.broadcast(S, q[b + 10 * KC]);
                a10 = x.mul(v).add(a10);
                b10 = y.mul(v).add(b10);
                v = ShortVector.broadcast(S, q[b + 11 * KC]);
                a11 = x.mul(v).add(a11);
                b11 = y.mul(v).add(b11);
            }
            int so = k * 2 * NIBBLE_ROWS * G;
            a0.intoArray(sums, so);
            a1.intoArray(sums, so + G);
            a2.intoArray(sums, so + 2 * G);
            a3.intoArray(sums, so + 3 * G);
            a4.intoArray(sums, so + 4 * G);
            a5.intoArray(sums, so + 5 * G);
            a6.intoArray(sums, so + 6 * G);
            a7.intoArray(sums, so + 7 * G);
            a8.intoArray(sums, so + 8 * G);
            a9.intoArray(sums, so + 9 * G);
            a10.intoArray(sums, so + 10 * G);
            a11.intoArray(sums, so + 11 * G);
            b0.intoArray(sums, so + 12 * G);
            b1.intoArray(sums, so + 13 * G);
            b2.intoArray(sums, so + 14 * G);
            b3.intoArray(sums, so + 15 * G);
            b4.intoArray(sums, so + 16 * G);
            b5.intoArray(sums, so + 17 * G);
            b6.intoArray(sums, so + 18 * G);
            b7.intoArray(sums, so + 19 * G);
            b8.intoArray(sums, so + 20 * G);
            b9.intoArray(sums, so + 21 * G);
            b10.intoArray(sums, so + 22 * G);
            b11.intoArray(sums, so + 23 * G);
        }
    }

    /** {@link #nibblePair} for one group, the last of an odd count, and 4 of the tile's rows: their sums at {@code at} on. */
    private static void nibbleGroup(short[] q, int wo, short[] xs, int xo, short[] sums, int at, int blocks) {
        for (int k = 0; k < blocks; k++) {
            ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int wk = wo + k * QK, xk = xo + k * QK * 2 * G;
            for (int i = 0; i < QK; i++) {
                ShortVector x = ShortVector.fromArray(S, xs, xk + i * 2 * G);
                int b = wk + i;
                a0 = x.mul(q[b]).add(a0);
                a1 = x.mul(q[b + KC]).add(a1);
                a2 = x.mul(q[b + 2 * KC]).add(a2);
                a3 = x.mul(q[b + 3 * KC]).add(a3);
            }
            int so = at + k * 2 * NIBBLE_ROWS * G;
            a0.intoArray(sums, so);
            a1.intoArray(sums, so + G);
            a2.intoArray(sums, so + 2 * G);
            a3.intoArray(sums, so + 3 * G);
        }
    }

    /**
     * Adds the pass's block sums of a tile's rows by {@code count} groups (block k, group h, row r at sums[((2k + h) *
     * NIBBLE_ROWS + r) * G]), 4 rows at a time, times d_w (dw[db + r * nb + k]) * d_x (dxt[e + h * en + k * G ..]) to
     * acc[ao + h * next + r * G]. The
     * 16-bit lanes are read as ints, each holding two sums: the low half (lane 2j) is position j, the high half
     * (lane 2j + 1) position L + j, as the transposition placed them, so shifts split a vector into the group's two
     * float vectors in position order (widening the upper half of a 16-bit vector took a two-table shuffle, vpermw
     * and a blend, per vector). The low half is shifted to the top and read as its sum times 2^16, exact; the
     * transposition put 2^-16 into those positions' d_x, which saves a shift per vector. d_x and d_w are f16 values
     * (at least 2^-24 when not 0), so d_x * 2^-16 * d_w stays a normal float and every product has the same bits as
     * without the 2^-16. Q4_K's d_x is a float: the same holds unless a block's inputs are all below about 2^-79. The 4 rows' accumulators stay in registers over the pass.
     */
    private static void scale(short[] sums, int blocks, int count, float[] dxt, int e, int en, float[] dw, int db, int nb,
                              float[] acc, int ao, int next) {
        for (int hq = 0; hq < count * NIBBLE_ROWS / R; hq++) {
            int h = hq / (NIBBLE_ROWS / R), quad = hq % (NIBBLE_ROWS / R), o = ao + h * next + quad * R * G;
            FloatVector l0 = FloatVector.fromArray(F, acc, o), h0 = FloatVector.fromArray(F, acc, o + L);
            FloatVector l1 = FloatVector.fromArray(F, acc, o + G), h1 = FloatVector.fromArray(F, acc, o + G + L);
            FloatVector l2 = FloatVector.fromArray(F, acc, o + 2 * G), h2 = FloatVector.fromArray(F, acc, o + 2 * G + L);
            FloatVector l3 = FloatVector.fromArray(F, acc, o + 3 * G), h3 = FloatVector.fromArray(F, acc, o + 3 * G + L);
            for (int k = 0; k < blocks; k++) {
                int x = e + h * en + k * G, so = ((2 * k + h) * NIBBLE_ROWS + quad * R) * G, d = db + quad * R * nb + k;
                FloatVector dx0 = FloatVector.fromArray(F, dxt, x), dx1 = FloatVector.fromArray(F, dxt, x + L);
                IntVector v = ShortVector.fromArray(S, sums, so).reinterpretAsInts();
                FloatVector c = FloatVector.broadcast(F, dw[d]);
                l0 = ((FloatVector) v.lanewise(LSHL, 16).convertShape(I2F, F, 0)).fma(dx0.mul(c), l0);
                h0 = ((FloatVector) v.lanewise(ASHR, 16).convertShape(I2F, F, 0)).fma(dx1.mul(c), h0);
                v = ShortVector.fromArray(S, sums, so + G).reinterpretAsInts();
                c = FloatVector.broadcast(F, dw[d + nb]);
                l1 = ((FloatVector) v.lanewise(LSHL, 16).convertShape(I2F, F, 0)).fma(dx0.mul(c), l1);
                h1 = ((FloatVector) v.lanewise(ASHR, 16).convertShape(I2F, F, 0)).fma(dx1.mul(c), h1);
                v = ShortVector.fromArray(S, sums, so + 2 * G).reinterpretAsInts();
                c = FloatVector.broadcast(F, dw[d + 2 * nb]);
                l2 = ((FloatVector) v.lanewise(LSHL, 16).convertShape(I2F, F, 0)).fma(dx0.mul(c), l2);
                h2 = ((FloatVector) v.lanewise(ASHR, 16).convertShape(I2F, F, 0)).fma(dx1.mul(c), h2);
                v = ShortVector.fromArray(S, sums, so + 3 * G).reinterpretAsInts();
                c = FloatVector.broadcast(F, dw[d + 3 * nb]);
                l3 = ((FloatVector) v.lanewise(LSHL, 16).convertShape(I2F, F, 0)).fma(dx0.mul(c), l3);
                h3 = ((FloatVector) v.lanewise(ASHR, 16).convertShape(I2F, F, 0)).fma(dx1.mul(c), h3);
            }
            l0.intoArray(acc, o);
            h0.intoArray(acc, o + L);
            l1.intoArray(acc, o + G);
            h1.intoArray(acc, o + G + L);
            l2.intoArray(acc, o + 2 * G);
            h2.intoArray(acc, o + 2 * G + L);
            l3.intoArray(acc, o + 3 * G);
            h3.intoArray(acc, o + 3 * G + L);
        }
    }

    /**
     * Adds the min terms of 4 rows (at wo) for group g to acc at ao: per min block of {@code qm} elements, the exact
     * sum of the rows' integer terms m times the input's block sums (Q4_K: the 6-bit mins, or 8 * scale), or the one
     * product m_w * s_x (Q4_1), times dm_w * dm_x with one fused multiply-add; the terms are summed apart and added
     * at the end, as ggml does.
     */
    private static void mins(float[] m, float[] dm, int wo, int n, int qm, float[] mst, float[] mdt, int g, float[] acc, int ao) {
        int nb = n / QK, nq = n / qm, per = qm / QK, m0 = wo / QK, q0 = wo / qm, xo = g * nb * G, dxo = g * nq * G;
        FloatVector t00 = FloatVector.zero(F), t01 = t00, t10 = t00, t11 = t00, t20 = t00, t21 = t00, t30 = t00, t31 = t00;
        for (int q = 0; q < nq; q++) {
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int j = q * per; j < (q + 1) * per; j++) {
                int e = xo + j * G;
                FloatVector x0 = FloatVector.fromArray(F, mst, e), x1 = FloatVector.fromArray(F, mst, e + L);
                FloatVector v = FloatVector.broadcast(F, m[m0 + j]);
                s00 = v.fma(x0, s00);
                s01 = v.fma(x1, s01);
                v = FloatVector.broadcast(F, m[m0 + nb + j]);
                s10 = v.fma(x0, s10);
                s11 = v.fma(x1, s11);
                v = FloatVector.broadcast(F, m[m0 + 2 * nb + j]);
                s20 = v.fma(x0, s20);
                s21 = v.fma(x1, s21);
                v = FloatVector.broadcast(F, m[m0 + 3 * nb + j]);
                s30 = v.fma(x0, s30);
                s31 = v.fma(x1, s31);
            }
            int e = dxo + q * G;
            FloatVector dx0 = FloatVector.fromArray(F, mdt, e), dx1 = FloatVector.fromArray(F, mdt, e + L);
            float d0 = dm[q0 + q], d1 = dm[q0 + nq + q], d2 = dm[q0 + 2 * nq + q], d3 = dm[q0 + 3 * nq + q];
            t00 = s00.fma(dx0.mul(d0), t00);
            t01 = s01.fma(dx1.mul(d0), t01);
            t10 = s10.fma(dx0.mul(d1), t10);
            t11 = s11.fma(dx1.mul(d1), t11);
            t20 = s20.fma(dx0.mul(d2), t20);
            t21 = s21.fma(dx1.mul(d2), t21);
            t30 = s30.fma(dx0.mul(d3), t30);
            t31 = s31.fma(dx1.mul(d3), t31);
        }
        FloatVector.fromArray(F, acc, ao).add(t00).intoArray(acc, ao);
        FloatVector.fromArray(F, acc, ao + L).add(t01).intoArray(acc, ao + L);
        FloatVector.fromArray(F, acc, ao + 2 * L).add(t10).intoArray(acc, ao + 2 * L);
        FloatVector.fromArray(F, acc, ao + 3 * L).add(t11).intoArray(acc, ao + 3 * L);
        FloatVector.fromArray(F, acc, ao + 4 * L).add(t20).intoArray(acc, ao + 4 * L);
        FloatVector.fromArray(F, acc, ao + 5 * L).add(t21).intoArray(acc, ao + 5 * L);
        FloatVector.fromArray(F, acc, ao + 6 * L).add(t30).intoArray(acc, ao + 6 * L);
        FloatVector.fromArray(F, acc, ao + 7 * L).add(t31).intoArray(acc, ao + 7 * L);
    }
}
