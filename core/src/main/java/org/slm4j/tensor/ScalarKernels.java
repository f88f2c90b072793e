package org.slm4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.slm4j.tensor.Blocks.QK;
import static org.slm4j.tensor.Blocks.QK_K;
import static org.slm4j.tensor.Blocks.f16;

import java.lang.foreign.MemorySegment;

/**
 * The reference kernels: plain loops over the blocks as ggml-common.h lays them out. Quantized dot products sum
 * exact integers per block and scale them as ggml does, {@code (d_w * d_x) * sumi}, in block order.
 */
final class ScalarKernels extends RowKernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {}

    @Override
    float dot(Matrix w, long row, Activations in, int b) {
        MemorySegment s = w.data();
        int n = w.cols(), x = b * n;
        return switch (w.type()) {
            case F32 -> {
                float sum = 0;
                for (int i = 0; i < n; i++) sum += s.get(Blocks.FLOAT, row + 4L * i) * in.f[x + i];
                yield sum;
            }
            case F16 -> {
                float sum = 0;
                for (int i = 0; i < n; i++) sum += f16(s, row + 2L * i) * in.f[x + i];
                yield sum;
            }
            case BF16 -> {
                float sum = 0;
                for (int i = 0; i < n; i++) sum += HalfFloats.bf16ToFloat(s.get(Blocks.SHORT, row + 2L * i)) * in.f[x + i];
                yield sum;
            }
            case Q8_0 -> q8_0(s, row, in, x, n);
            case Q4_0, Q4_1, Q5_0, Q5_1 -> blocks32(s, row, in, x, n, w.type());
            case Q4_K -> kQuants(s, row, in, x, n, false);
            case Q5_K -> kQuants(s, row, in, x, n, true);
            case Q6_K -> q6K(s, row, in, x, n);
            default -> throw new UnsupportedOperationException("no kernel for weight type " + w.type());
        };
    }

    private static float q8_0(MemorySegment s, long row, Activations in, int x, int n) {
        float sum = 0;
        for (int k = 0; k < n / QK; k++) {
            long block = row + 34L * k;
            int xk = x + QK * k, sumi = 0;
            for (int i = 0; i < QK; i++) sumi += s.get(JAVA_BYTE, block + 2 + i) * in.q[xk + i];
            sum += (f16(s, block) * in.d[xk / QK]) * sumi;
        }
        return sum;
    }

    /**
     * Q4_0, Q5_0 x Q8_0 and Q4_1, Q5_1 x Q8_1: per block of 32, d_w * d_x * sum(q_w * q_x) with q_w centred on 8 or 16;
     * the *_1 types add m_w * s_x, summed apart as ggml does.
     */
    private static float blocks32(MemorySegment s, long row, Activations in, int x, int n, GgmlType t) {
        boolean withMin = t == GgmlType.Q4_1 || t == GgmlType.Q5_1, five = t == GgmlType.Q5_0 || t == GgmlType.Q5_1;
        int centre = withMin ? 0 : five ? 16 : 8;
        float sum = 0, mins = 0;
        for (int k = 0; k < n / QK; k++) {
            long block = row + (long) t.blockBytes() * k, qs = block + (withMin ? 4 : 2);
            int xk = x + QK * k, sumi = 0;
            for (int i = 0; i < QK; i++) sumi += (Blocks.quant32(s, qs, i, five) - centre) * in.q[xk + i];
            sum += (f16(s, block) * in.d[xk / QK]) * sumi;
            if (withMin) mins += f16(s, block + 2) * in.s[xk / QK];
        }
        return withMin ? sum + mins : sum;
    }

    /**
     * Q4_K (or with {@code fiveBits} Q5_K) x Q8_K per super-block: d_x * d * sum_j(sc_j * sum(q_w * q_x)) - d_x * dmin *
     * sum_j(m_j * sum(q_x)), the sums of q_x taken from the Q8_K block's bsums. Q5_K only adds a fifth bit to each quant.
     */
    private static float kQuants(MemorySegment s, long row, Activations in, int x, int n, boolean fiveBits) {
        long blockBytes = fiveBits ? 176 : 144;
        float sum = 0, mins = 0;
        for (int k = 0; k < n / QK_K; k++) {
            long block = row + blockBytes * k;
            int xk = x + QK_K * k, sumi = 0, summ = 0;
            for (int j = 0; j < 8; j++) {
                int sm = Blocks.q4kScaleMin(s, block + Blocks.Q4K_SCALES, j);
                int dot = 0;
                for (int e = 32 * j; e < 32 * j + 32; e++) {
                    dot += (fiveBits ? Blocks.q5k(s, block, e) : Blocks.q4k(s, block, e)) * in.q[xk + e];
                }
                sumi += (sm & 0xFF) * dot;
                summ += (sm >>> 8) * (in.bsums[xk / 16 + 2 * j] + in.bsums[xk / 16 + 2 * j + 1]);
            }
            float dx = in.d[xk / QK_K];
            sum += (dx * f16(s, block)) * sumi;
            mins += (dx * f16(s, block + 2)) * summ;
        }
        return sum - mins;
    }

    /** Q6_K x Q8_K per super-block: d_x * d * sum_j(scales_j * sum((q_w - 32) * q_x)) over 16 sub-blocks of 16. */
    private static float q6K(MemorySegment s, long row, Activations in, int x, int n) {
        float sum = 0;
        for (int k = 0; k < n / QK_K; k++) {
            long block = row + 210L * k;
            int xk = x + QK_K * k, sumi = 0;
            for (int j = 0; j < 16; j++) {
                int dot = 0;
                for (int e = 16 * j; e < 16 * j + 16; e++) dot += Blocks.q6k(s, block, e) * in.q[xk + e];
                sumi += s.get(JAVA_BYTE, block + Blocks.Q6K_SCALES + j) * dot;
            }
            sum += (in.d[xk / QK_K] * f16(s, block + Blocks.Q6K_D)) * sumi;
        }
        return sum;
    }
}
