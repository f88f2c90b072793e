package org.slm4j.tensor;

import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static org.slm4j.tensor.Blocks.QK;
import static org.slm4j.tensor.Blocks.QK_K;
import static org.slm4j.tensor.Blocks.f16;
import static org.slm4j.tensor.VectorKernels.B;
import static org.slm4j.tensor.VectorKernels.F;
import static org.slm4j.tensor.VectorKernels.I;
import static org.slm4j.tensor.VectorKernels.L;
import static org.slm4j.tensor.VectorKernels.BYTES;
import static org.slm4j.tensor.VectorKernels.PARTS;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The Vector API kernels of the 5-bit types and their decoding for {@link Gemm}, as {@link VectorKernels} does for
 * the 4-bit ones: a block's quants are the nibbles of Q4_0 / Q4_1 / Q4_K with a fifth bit on top, so the lane sums
 * stay exact integers (Q5_0 |q - 16| &lt;= 16 and Q5_1 q &lt;= 31 by |q_x| &lt;= 127, 32 / L per lane and block;
 * Q5_K below times a 6-bit scale, 8 sub-blocks: 8 * 63 * (32 / L) * 31 * 127 &lt; 2^24 for L &gt;= 4) and only the
 * float accumulation order differs from {@link ScalarKernels}.
 */
final class Q5Dots {
    private Q5Dots() {}

    private static final IntVector LANE = IntVector.zero(I).addIndex(1);   // 0, 1, .. L - 1

    /** Q5_0 (q - 16) or Q5_1 (q, plus m_w * s_x per block): per block d_w * d_x times the lane sums. */
    static float q5(MemorySegment s, long row, Activations in, int x, int n, boolean withMin) {
        int blockBytes = withMin ? 24 : 22, qh = withMin ? 4 : 2, offset = withMin ? 0 : 16;
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int k = 0; k < n / QK; k++) {
            long block = row + (long) blockBytes * k;
            int xk = x + QK * k;
            IntVector high = IntVector.broadcast(I, s.get(Blocks.INT, block + qh));
            FloatVector dot = FloatVector.zero(F);
            for (int i = 0; i < 16; i += BYTES) {
                ByteVector q = ByteVector.fromMemorySegment(B, s, block + qh + 4 + i, LITTLE_ENDIAN);
                for (int p = 0; p < PARTS; p++) {
                    IntVector v = widen(q, p);
                    int e = i + p * L;
                    IntVector lo = v.and(0xF).or(fifth(high, e)).sub(offset);
                    IntVector hi = v.lanewise(LSHR, 4).or(fifth(high, e + 16)).sub(offset);
                    dot = floats(lo).fma(FloatVector.fromArray(F, in.qf, xk + e), dot);
                    dot = floats(hi).fma(FloatVector.fromArray(F, in.qf, xk + e + 16), dot);
                }
            }
            acc = dot.fma(FloatVector.broadcast(F, f16(s, block) * in.d[xk / QK]), acc);
            if (withMin) mins += f16(s, block + 2) * in.s[xk / QK];
        }
        return acc.reduceLanes(ADD) + mins;
    }

    /** Q5_K: Q4_K's sums, each sub-block's lane sums times its 6-bit scale, the mins from the input's bsums. */
    static float q5K(MemorySegment s, long row, Activations in, int x, int n) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int k = 0; k < n / QK_K; k++) {
            long block = row + 176L * k;
            int xk = x + QK_K * k, summ = 0;
            FloatVector sumi = FloatVector.zero(F);
            for (int c = 0; c < 4; c++) {           // 32 bytes: sub-block 2c in low nibbles, 2c + 1 in high ones
                int lowSm = Blocks.q4kScaleMin(s, block + Blocks.Q4K_SCALES, 2 * c);
                int highSm = Blocks.q4kScaleMin(s, block + Blocks.Q4K_SCALES, 2 * c + 1);
                int bs = xk / 16 + 4 * c;
                summ += (lowSm >>> 8) * (in.bsums[bs] + in.bsums[bs + 1]) + (highSm >>> 8) * (in.bsums[bs + 2] + in.bsums[bs + 3]);
                FloatVector low = FloatVector.zero(F), high = low;
                for (int i = 0; i < 32; i += BYTES) {
                    ByteVector q = ByteVector.fromMemorySegment(B, s, block + Blocks.Q5K_QS + 32 * c + i, LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, s, block + Blocks.Q5K_QH + i, LITTLE_ENDIAN);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector v = widen(q, p), hv = widen(h, p);
                        int e = xk + 64 * c + i + p * L;
                        IntVector lo = v.and(0xF).or(hv.lanewise(LSHR, 2 * c).and(1).lanewise(LSHL, 4));
                        IntVector hi = v.lanewise(LSHR, 4).or(hv.lanewise(LSHR, 2 * c + 1).and(1).lanewise(LSHL, 4));
                        low = floats(lo).fma(FloatVector.fromArray(F, in.qf, e), low);
                        high = floats(hi).fma(FloatVector.fromArray(F, in.qf, e + 32), high);
                    }
                }
                sumi = low.fma(FloatVector.broadcast(F, lowSm & 0xFF), sumi);
                sumi = high.fma(FloatVector.broadcast(F, highSm & 0xFF), sumi);
            }
            float dx = in.d[xk / QK_K];
            acc = sumi.fma(FloatVector.broadcast(F, dx * f16(s, block)), acc);
            mins += (dx * f16(s, block + 2)) * summ;
        }
        return acc.reduceLanes(ADD) - mins;
    }

    /**
     * {@link VectorKernels#decode} for the 5-bit types: Q5_0 q - 16, Q5_1 q with its min at wo / 32 (scale 1), Q5_K
     * q times the 6-bit sub-block scale, the 6-bit mins at wo / 32 and -dmin at wo / 256; d per block of 32.
     */
    static void decode(Matrix w, int r, VectorKernels.Decoded dec, int wo) {
        MemorySegment s = w.data();
        int n = w.cols();
        long row = r * w.rowBytes();
        switch (w.type()) {
            case Q5_0, Q5_1 -> {
                boolean withMin = w.type() == GgmlType.Q5_1;
                int blockBytes = withMin ? 24 : 22, offset = withMin ? 0 : 16;
                long qh = withMin ? 4 : 2;
                for (int k = 0; k < n / QK; k++) {
                    long block = row + (long) blockBytes * k;
                    int b = wo / QK + k;
                    dec.d[b] = f16(s, block);
                    if (withMin) {
                        dec.m[b] = f16(s, block + 2);
                        dec.dm[b] = 1;
                    }
                    for (int i = 0; i < QK; i++) dec.w[wo + QK * k + i] = Blocks.q5(s, block + qh, i) - offset;
                }
            }
            case Q5_K -> {
                for (int k = 0; k < n / QK_K; k++) {
                    long block = row + 176L * k;
                    float d = f16(s, block);
                    dec.dm[wo / QK_K + k] = -f16(s, block + 2);
                    for (int j = 0; j < 8; j++) {
                        int sm = Blocks.q4kScaleMin(s, block + Blocks.Q4K_SCALES, j), b = wo / QK + 8 * k + j;
                        dec.d[b] = d;
                        dec.m[b] = sm >>> 8;
                        int sc = sm & 0xFF;
                        for (int e = 32 * j; e < 32 * j + 32; e++) dec.w[wo + QK_K * k + e] = Blocks.q5k(s, block, e) * sc;
                    }
                }
            }
            default -> throw new AssertionError(w.type());
        }
    }

    /** Bits e .. e + L of the block's fifth bits {@code qh}, each at bit 4 of its lane. */
    private static IntVector fifth(IntVector qh, int e) {
        return qh.lanewise(LSHR, LANE.add(e)).and(1).lanewise(LSHL, 4);
    }

    private static FloatVector floats(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** Part p (L lanes) of the unsigned bytes q, as ints. */
    private static IntVector widen(ByteVector q, int p) {
        return (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
    }
}
