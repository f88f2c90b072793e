package org.slm4j.tensor;

import java.util.Arrays;

/**
 * A matmul's input as llama.cpp's CPU backend hands it to the dot products for one weight type (ggml's
 * {@code vec_dot_type}): F32 as is, rounded to F16 or BF16, or quantized to Q8_0, Q8_1 or Q8_K blocks exactly as
 * the AVX2 build's {@code quantize_row_q8_0}, {@code quantize_row_q8_1} and {@code quantize_row_q8_K} do.
 *
 * <p>One per calling thread, grown on demand and reused: buffers are sized for the largest input seen so far.
 * Q8_0, Q8_1 and Q8_K blocks are quantized with the Vector API when {@link Kernels#best()} uses it, to the same bits: at
 * one batch row per matmul the quantizing runs on the calling thread alone, while the other threads wait.
 */
final class Activations {
    float[] f;                          // F32: the input itself; F16, BF16: the input rounded   [batch * cols]
    byte[] q = new byte[0];             // Q8_*: the quants                                      [batch * cols]
    float[] qf = new float[0];          // Q8_*: the same quants as floats (exact), for SIMD     [batch * cols]
    float[] d = new float[0];           // Q8_0, Q8_1: f16-rounded scale; Q8_K: float scale      [batch * cols / block]
    float[] s = new float[0];           // Q8_1: f16(d * sum of the block's quants)              [batch * cols / 32]
    int[] bsums = new int[0];           // Q8_K: sum of each 16 quants                           [batch * cols / 16]
    float[] groupedX = new float[0];     // F16: see evenOdd                                     [batch * cols]
    short[] groupedXs = new short[0];    // Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, one input: see group  [groups * 32 or 16 * lanes]
    float[] groupedD = new float[0];     // the same: d of each block (see group)               [groups * W]
    float[] groupedSums = new float[0];  // Q4_K, Q5_K: each block's quant sum                  [groups * W]
    short[] groupedSums8 = new short[0]; // Q4_0, Q4_K, Q5_K: 8 * each lane's quant sum, 16-bit [groups * W]
    short[] groupedSums32 = new short[0]; // Q6_K: 32 * the sums of each lane's first and last 8 quants [groups * 2W]
    int version;                        // bumped by every prepare: Gemm reuses its transposed copy while it holds
    // a prompt's inputs are quantized on all threads (one token's, a few thousand elements, on the caller's: no task)
    private static final int PARALLEL_WORK = 1 << 16;
    private float[] rounded = new float[0];
    private int[] blockAt = new int[0];   // group: where each lane's block starts in qf
    private float[] blockQuants = new float[0];     // group: quant i of a group's block b at i * blocks per group + b
    private final boolean simd;

    Activations() {
        this(Kernels.best() != Kernels.scalar());
    }

    /** @param simd quantize Q8_0 / Q8_1 / Q8_K with {@link VectorKernels} (the same results as the plain loops) */
    Activations(boolean simd) {
        this.simd = simd;
    }

    /** Prepares {@code x[0 .. batch * cols)} for weights of type {@code type}. */
    void prepare(GgmlType type, float[] x, int batch, int cols) {
        int n = batch * cols;
        version++;
        switch (type) {
            case F32 -> f = x;
            case F16 -> {
                f = rounded = grow(rounded, n);
                for (int i = 0; i < n; i++) f[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
                if (simd) evenOdd(cols, batch);
            }
            case BF16 -> {
                f = rounded = grow(rounded, n);
                for (int i = 0; i < n; i++) f[i] = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(x[i]));
            }
            case Q5_0 -> quantizeQ8(x, n, false);
            case Q4_0, Q8_0 -> {
                quantizeQ8(x, n, false);
                if (simd && batch == 1) group(type, cols, 32, 32);
            }
            case Q4_1, Q5_1 -> quantizeQ8(x, n, true);
            case Q4_K, Q5_K, Q6_K -> {
                quantizeQ8K(x, n);
                if (simd && batch == 1) {
                    group(type, cols, BlockGroups.laneElements(type), Blocks.QK_K);
                    if (type == GgmlType.Q6_K) halfSums32(BlockGroups.groupsFor(type, cols), BlockGroups.shortLanes(type));
                }
            }
            default -> throw new UnsupportedOperationException("no kernel for weight type " + type);
        }
    }

    /** Drops the reference to the caller's input. */
    void release() {
        f = null;
    }

    /**
     * Q8_0 (and Q8_1 when {@code withSums}) in blocks of 32: amax = max |x|, d = amax / 127 stored as f16,
     * q = round-half-even(x * (127 / amax)). The multiplier is 127 / amax, not 1 / d as in ggml's reference
     * quantizer: the two differ in the last bit for some amax and then flip a quant. Q8_1 adds s = f16(d * sum q)
     * with the unrounded d.
     */
    private void quantizeQ8(float[] x, int n, boolean withSums) {
        growQuants(n, Blocks.QK);
        if (withSums && s.length < n / Blocks.QK) s = new float[n / Blocks.QK];
        if (n < PARALLEL_WORK) q8Blocks(x, 0, n / Blocks.QK, withSums);
        else Parallel.forRange(n / Blocks.QK, (k0, k1) -> q8Blocks(x, k0, k1, withSums));
    }

    private void q8Blocks(float[] x, int k0, int k1, boolean withSums) {
        for (int k = k0; k < k1; k++) {
            int o = Blocks.QK * k;
            float amax = 0;
            if (simd) amax = VectorKernels.absMax(x, o, Blocks.QK);
            else for (int i = 0; i < Blocks.QK; i++) amax = Math.max(amax, Math.abs(x[o + i]));
            float scale = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            int sum = 0;
            if (simd) {
                sum = VectorKernels.quantize(x, o, Blocks.QK, id, qf, q);
            } else {
                for (int i = 0; i < Blocks.QK; i++) sum += setQuant(o + i, x[o + i] * id);
            }
            d[k] = Float.float16ToFloat(Float.floatToFloat16(scale));
            if (withSums) s[k] = Float.float16ToFloat(Float.floatToFloat16(scale * sum));
        }
    }

    /** Group g's first count lanes of pairs (see group), from blockAt and the byte quants. */
    private void pairs(int g, int count) {
        byte[] q = this.q;
        short[] xs = groupedXs;
        // by pair of quants, then lane: the stores go one after the other
        for (int i = 0; i < 32; i += 2) {
            int o = BlockGroups.pairAt(g, i, 0);
            for (int j = 0; j < count; j++) {
                xs[o + 2 * j] = q[blockAt[j] + i];
                xs[o + 2 * j + 1] = q[blockAt[j] + i + 1];
            }
        }
    }

    /**
     * F16's input for the vector kernels, each position's at p * cols (see BlockGroups.f16, f16x4 and f16Floats):
     * of each 2L rounded elements the even ones, then the odd ones, times 2^112, into groupedX; the elements past
     * the last whole 2L are left in f.
     */
    private void evenOdd(int cols, int batch) {
        int l = VectorKernels.L;
        if (groupedX.length < batch * cols) groupedX = new float[batch * cols];
        for (int p = 0; p < batch * cols; p += cols) {
            for (int c = p; c + 2 * l <= p + cols; c += 2 * l) {
                for (int k = 0; k < l; k++) {
                    groupedX[c + k] = f[c + 2 * k] * 0x1p112f;
                    groupedX[c + l + k] = f[c + 2 * k + 1] * 0x1p112f;
                }
            }
        }
    }

    /**
     * The quants of one input regrouped as {@link BlockGroups} groups the weights, as 16-bit integers in lanes of e
     * elements, W lanes per group: element i of lane j's block at groupedXs[(g * e + i) * W + j] (Q8_0, W = L: at
     * {@link BlockGroups#pairAt}), 8 times the block's quants' sum at groupedSums8[g * W + j]; per block b of the
     * group (its blocksPerGroup), the d of the quantization block it lies in (dBlock elements) at groupedD[g * W + b]
     * and its quants' sum at groupedSums[g * W + b]; zeros past the last block. Lane j's block is b = j for Q8_0; for
     * Q5_K and Q6_K lane {@link BlockGroups#laneOf}(b) holds block b; Q4_0 and Q4_K, whose lanes go in pairs on one
     * block (two sets of rows), hold block b in lanes 2b and 2b + 1. Where BlockGroups lays out two
     * rows as one sequence ({@link BlockGroups#setRows}), the input follows the same sequence: twice over, the second
     * time from the middle group's second half.
     */
    private void group(GgmlType type, int cols, int e, int dBlock) {
        int lanes = BlockGroups.shortLanes(type), groups = BlockGroups.groupsFor(type, cols), blocks = cols / e;
        int per = BlockGroups.blocksPerGroup(type), twin = lanes / per;      // blocks per group; lanes per block
        boolean pairs = type == GgmlType.Q8_0;
        if (groupedXs.length < groups * e * lanes) groupedXs = new short[groups * e * lanes];
        if (groupedD.length < groups * lanes) {
            groupedD = new float[groups * lanes];
            groupedSums = new float[groups * lanes];
            groupedSums8 = new short[groups * lanes];
        }
        Arrays.fill(groupedXs, (groups - 1) * e * lanes, groups * e * lanes, (short) 0);
        Arrays.fill(groupedD, (groups - 1) * lanes, groups * lanes, 0f);
        Arrays.fill(groupedSums, (groups - 1) * lanes, groups * lanes, 0f);
        Arrays.fill(groupedSums8, (groups - 1) * lanes, groups * lanes, (short) 0);
        int sequence = BlockGroups.setRows(type, cols) * blocks;     // one row's blocks, or a pair's
        if (blockAt.length < per) blockAt = new int[per];
        for (int g = 0; g * per < sequence; g++) {
            int count = Math.min(per, sequence - g * per), o = g * e * lanes;     // real blocks
            for (int b = 0; b < count; b++) {
                int k = (g * per + b) % blocks;
                blockAt[b] = e * k;
                groupedD[g * lanes + b] = d[e * k / dBlock];
            }
            if (pairs) {
                // Q8_0: plain loops over each lane's 32 quants. Gathered with the Vector API, in some
                // test runs the compiled gather allocated 1.3 KB per group (JFR: its index check and the gather's
                // fallback), and which runs did was not found
                pairs(g, count);
                continue;
            }
            // the blocks' quants side by side, quant by quant (padding blocks 0), so that the vector loops load each
            // quant of the group's blocks as one vector. Those loops had gathered them (one element at a time had
            // left the other thread waiting 3 % of a Danube Q4_0 token), and in some runs, even in a JVM doing
            // nothing else, the compiled gather's index check allocated (JFR: 3 KB per Q6_K matmul)
            if (blockQuants.length < e * per) blockQuants = new float[e * per];
            for (int b = 0; b < count; b++) {
                for (int i = 0, from = blockAt[b], to = b; i < e; i++, to += per) blockQuants[to] = qf[from + i];
            }
            for (int b = count; b < per; b++) {
                for (int i = 0, to = b; i < e; i++, to += per) blockQuants[to] = 0;
            }
            if (twin == 2) VectorKernels.groupTwins(blockQuants, e, groupedXs, o, groupedSums, groupedSums8, g * lanes);
            else VectorKernels.groupBlocks(blockQuants, e, groupedXs, o, groupedSums, groupedSums8, g * lanes);
        }
    }

    /**
     * Q6_K, after {@link #group}: 32 times the sum of each lane's elements 0-7 at groupedSums32[g * 2W + j], of its
     * elements 8-15 W further, wrapped to 16 bits, as BlockGroups.q6K takes them off (see there).
     */
    private void halfSums32(int groups, int lanes) {
        if (groupedSums32.length < groups * 2 * lanes) groupedSums32 = new short[groups * 2 * lanes];
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < lanes; j++) {
                int first = 0, last = 0;
                for (int i = 0; i < 8; i++) {
                    first += groupedXs[(g * 16 + i) * lanes + j];
                    last += groupedXs[(g * 16 + i + 8) * lanes + j];
                }
                groupedSums32[g * 2 * lanes + j] = (short) (32 * first);
                groupedSums32[g * 2 * lanes + lanes + j] = (short) (32 * last);
            }
        }
    }

    /**
     * Q8_K in blocks of 256: max = the element of largest magnitude (the first one on ties), with its sign;
     * iscale = -127 / max, q = min(127, round-half-even(iscale * x)), float d = 1 / iscale, plus the sums of each
     * 16 quants. An all-zero block gets d = 0 and zero quants.
     */
    private void quantizeQ8K(float[] x, int n) {
        growQuants(n, Blocks.QK_K);
        if (bsums.length < n / 16) bsums = new int[n / 16];
        if (n < PARALLEL_WORK) q8KBlocks(x, 0, n / Blocks.QK_K);
        else Parallel.forRange(n / Blocks.QK_K, (k0, k1) -> q8KBlocks(x, k0, k1));
    }

    private void q8KBlocks(float[] x, int k0, int k1) {
        for (int k = k0; k < k1; k++) {
            int o = Blocks.QK_K * k, first = -1;
            if (simd) {
                first = VectorKernels.firstLargest(x, o, Blocks.QK_K);
            } else {
                float amax = 0;
                for (int i = o; i < o + Blocks.QK_K; i++) {
                    if (Math.abs(x[i]) > amax) {
                        amax = Math.abs(x[i]);
                        first = i;
                    }
                }
            }
            if (first < 0) {
                d[k] = 0;
                Arrays.fill(q, o, o + Blocks.QK_K, (byte) 0);
                Arrays.fill(qf, o, o + Blocks.QK_K, 0f);
                Arrays.fill(bsums, o / 16, (o + Blocks.QK_K) / 16, 0);
                continue;
            }
            float iscale = -127f / x[first];
            for (int i = o; i < o + Blocks.QK_K; i += 16) {
                if (simd) {
                    bsums[i / 16] = VectorKernels.quantize(x, i, 16, iscale, qf, q);
                    continue;
                }
                int sum = 0;
                for (int j = i; j < i + 16; j++) sum += setQuant(j, iscale * x[j]);
                bsums[i / 16] = sum;
            }
            d[k] = 1 / iscale;
        }
    }

    /** Stores round-half-even(v) at i and returns it, saturated to int8 (AVX2's packs; Q8_K's min(127, q)). */
    private int setQuant(int i, float v) {
        int r = (int) Math.max(-128, Math.min(127, Math.rint(v)));
        q[i] = (byte) r;
        qf[i] = r;
        return r;
    }

    private void growQuants(int n, int block) {
        if (q.length < n) {
            q = new byte[n];
            qf = new float[n];
        }
        if (d.length < n / block) d = new float[n / block];
    }

    private static float[] grow(float[] a, int n) {
        return a.length >= n ? a : new float[n];
    }
}
