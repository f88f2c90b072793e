package org.slm4j.tensor;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2I;
import static org.slm4j.tensor.Blocks.QK;
import static org.slm4j.tensor.Blocks.QK_K;
import static org.slm4j.tensor.Blocks.f16;
import static org.slm4j.tensor.VectorKernels.B;
import static org.slm4j.tensor.VectorKernels.BYTES;
import static org.slm4j.tensor.VectorKernels.F;
import static org.slm4j.tensor.VectorKernels.FIRST_L;
import static org.slm4j.tensor.VectorKernels.I;
import static org.slm4j.tensor.VectorKernels.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * The Vector API kernels of Q5_0 and Q5_1, and the decoding of all 5-bit types for {@link Gemm}, as {@link
 * VectorKernels} does for the 4-bit ones: a block's quants are the nibbles of Q4_0 / Q4_1 / Q4_K with a fifth bit on
 * top, so the lane sums stay exact integers (Q5_0 |q - 16| &lt;= 16 and Q5_1 q &lt;= 31 by |q_x| &lt;= 127, 32 / L per
 * lane and block) and only the float accumulation order differs from {@link ScalarKernels}. Q5_K generates from
 * {@link BlockGroups}.
 */
final class Q5Dots {
    private Q5Dots() {}

    private static final IntVector LANE = IntVector.zero(I).addIndex(1);   // 0, 1, .. L - 1

    /**
     * Q5_0 (q - 16) or Q5_1 (q, plus m_w * s_x per block): per block d_w * d_x times the lane sums. Loops shaped as
     * VectorKernels' Q4_0 and Q4_K ones (see there): a copy per block size, the input's block index linear in the
     * loop, the vector work in the loop body.
     */
    static float q5_0(MemorySegment s, long row, Activations in, int x, int n) {
        float[] qf = in.qf, d = in.d;
        int xb = x / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < n / QK; k++) {
            long block = row + 22L * k;
            IntVector high = IntVector.broadcast(I, s.get(Blocks.INT, block + 2));
            FloatVector dot = FloatVector.zero(F);
            for (int e = 0; e < 16; e += L) {
                IntVector v = VectorKernels.uint8s(s, block + 6 + e);
                IntVector lo = v.and(0xF).or(fifth(high, e)).sub(16), hi = v.lanewise(LSHR, 4).or(fifth(high, e + 16)).sub(16);
                dot = VectorKernels.floats(lo).fma(FloatVector.fromArray(F, qf, x + QK * k + e), dot);
                dot = VectorKernels.floats(hi).fma(FloatVector.fromArray(F, qf, x + QK * k + e + 16), dot);
            }
            acc = dot.fma(FloatVector.broadcast(F, f16(s, block) * d[xb + k]), acc);
        }
        return acc.reduceLanes(ADD);
    }

    static float q5_1(MemorySegment s, long row, Activations in, int x, int n) {
        float[] qf = in.qf, d = in.d, sums = in.s;
        int xb = x / QK;
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int k = 0; k < n / QK; k++) {
            long block = row + 24L * k;
            IntVector high = IntVector.broadcast(I, s.get(Blocks.INT, block + 4));
            FloatVector dot = FloatVector.zero(F);
            for (int e = 0; e < 16; e += L) {
                IntVector v = VectorKernels.uint8s(s, block + 8 + e);
                IntVector lo = v.and(0xF).or(fifth(high, e)), hi = v.lanewise(LSHR, 4).or(fifth(high, e + 16));
                dot = VectorKernels.floats(lo).fma(FloatVector.fromArray(F, qf, x + QK * k + e), dot);
                dot = VectorKernels.floats(hi).fma(FloatVector.fromArray(F, qf, x + QK * k + e + 16), dot);
            }
            acc = dot.fma(FloatVector.broadcast(F, f16(s, block) * d[xb + k]), acc);
            mins += f16(s, block + 2) * sums[xb + k];
        }
        return acc.reduceLanes(ADD) + mins;
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
                byte[] raw = VectorKernels.rowBytes(s, row, 176 * (n / QK_K), dec);
                for (int k = 0; k < n / QK_K; k++) {
                    int block = 176 * k;
                    float d = f16(raw, block);
                    dec.dm[wo / QK_K + k] = -f16(raw, block + 2);
                    for (int c = 0; c < 4; c++) {    // 32 bytes: sub-block 2c in low nibbles, 2c + 1 in high ones
                        int j = 2 * c, b = wo / QK + 8 * k + j, e = wo + QK_K * k + 64 * c;
                        int lo = Blocks.q4kScaleMin(raw, block + Blocks.Q4K_SCALES, j), hi = Blocks.q4kScaleMin(raw, block + Blocks.Q4K_SCALES, j + 1);
                        dec.d[b] = dec.d[b + 1] = d;
                        dec.m[b] = lo >>> 8;
                        dec.m[b + 1] = hi >>> 8;
                        float s0 = lo & 0xFF, s1 = hi & 0xFF;
                        // element l's fifth bit is bit j (j + 1) of qh[l]
                        for (int l = 0; l < 32; l += L) {
                            // written out: a helper taking or returning a vector boxed where C2 left it out of line
                            int qs = block + Blocks.Q5K_QS + 32 * c + l, qh = block + Blocks.Q5K_QH + l;
                            ByteVector bq = BYTES == L ? ByteVector.fromArray(B, raw, qs) : ByteVector.fromArray(B, raw, qs, FIRST_L);
                            ByteVector bh = BYTES == L ? ByteVector.fromArray(B, raw, qh) : ByteVector.fromArray(B, raw, qh, FIRST_L);
                            IntVector q = (IntVector) bq.convertShape(ZERO_EXTEND_B2I, I, 0);
                            IntVector h = ((IntVector) bh.convertShape(ZERO_EXTEND_B2I, I, 0)).lanewise(LSHR, j);
                            ((FloatVector) q.and(0xF).or(h.and(1).lanewise(LSHL, 4)).convertShape(I2F, F, 0)).mul(s0).intoArray(dec.w, e + l);
                            ((FloatVector) q.lanewise(LSHR, 4).or(h.and(2).lanewise(LSHL, 3)).convertShape(I2F, F, 0)).mul(s1).intoArray(dec.w, e + 32 + l);
                        }
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
}
