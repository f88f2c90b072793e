package org.slm4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static org.slm4j.tensor.Blocks.QK;
import static org.slm4j.tensor.Blocks.QK_K;
import static org.slm4j.tensor.Blocks.f16;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels, at the preferred width or at {@code -Dslm4j.vectorBits}.
 *
 * <p>Quantized weights are multiplied with the input's quants in 16-bit lanes (the Vector API has no multiply-add
 * of bytes like AVX2's {@code pmaddubsw}; 16-bit multiplies do 16 products per 256-bit instruction), and the products
 * are widened and summed as ints: the same exact integers the scalar kernel adds up, with the bounds that keep the
 * 16-bit lanes from overflowing noted per kernel. For the 32-element blocks each block's int lane sums are scaled
 * and accumulated with one fused multiply-add per lane, as ggml's AVX2 code does, and the lanes are added at the end:
 * only that float accumulation order differs from {@link ScalarKernels}. The 256-element k-quant blocks are worth a
 * horizontal sum each; their exact sums are then scaled just as the scalar kernel scales them, so for Q4_K and Q6_K
 * the two kernels agree bit for bit.
 *
 * <p>Hot loops are kept small enough for C2 to inline every Vector API call in them: a vector that crosses a call
 * C2 did not inline is boxed on the heap, which costs more than the arithmetic.
 */
final class VectorKernels extends RowKernels {
    static final VectorSpecies<Float> F = floatSpecies();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    static final int L = F.length();
    // The quantized kernels work at most 256 bits wide (a Q4 block holds 16 bytes of nibbles): Q products at a
    // time in 16-bit lanes, summed in pairs into Q / 2 int lanes, bytes loaded Q at a time.
    static final VectorShape QUANT_SHAPE = F.vectorBitSize() > 256 ? VectorShape.S_256_BIT : F.vectorShape();
    static final VectorSpecies<Float> FQ = QUANT_SHAPE.withLanes(float.class);
    static final VectorSpecies<Integer> IQ = QUANT_SHAPE.withLanes(int.class);
    static final VectorSpecies<Short> SQ = QUANT_SHAPE.withLanes(short.class);
    static final VectorSpecies<Byte> BQ = VectorSpecies.of(byte.class, VectorShape.forBitSize(QUANT_SHAPE.vectorBitSize() / 2));
    static final int Q = SQ.length();
    private static final VectorKernels INSTANCE = new VectorKernels();

    private VectorKernels() {}

    static VectorKernels instance() {
        return INSTANCE;
    }

    private static VectorSpecies<Float> floatSpecies() {
        String bits = System.getProperty("slm4j.vectorBits", "").strip();
        VectorSpecies<Float> f = switch (bits) {
            case "" -> FloatVector.SPECIES_PREFERRED;
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("-Dslm4j.vectorBits=" + bits + ": expected 128, 256 or 512");
        };
        if (f.vectorBitSize() < 128) {
            throw new UnsupportedOperationException(f.vectorBitSize() + "-bit vectors are too narrow for slm4j's SIMD kernels");
        }
        return f;
    }

    @Override
    float dot(Matrix w, long row, Activations in, int b) {
        MemorySegment s = w.data();
        int n = w.cols(), x = b * n;
        return switch (w.type()) {
            case F32 -> f32Dot(s, row, in.f, x, n);
            case F16 -> f16Dot(s, row, in.f, x, n);
            case BF16 -> bf16Dot(s, row, in.f, x, n);
            case Q8_0 -> q8_0(s, row, in, x, n);
            case Q4_0 -> q4(s, row, in, x, n, false);
            case Q4_1 -> q4(s, row, in, x, n, true);
            case Q4_K -> q4K(s, row, in, x, n);
            case Q6_K -> q6K(s, row, in, x, n);
            default -> throw new UnsupportedOperationException("no kernel for weight type " + w.type());
        };
    }

    /** Four accumulators: one FMA chain would wait on its own latency. */
    private static float f32Dot(MemorySegment s, long row, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            a0 = floats(s, row + 4L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = floats(s, row + 4L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
            a2 = floats(s, row + 4L * (i + 2 * L)).fma(FloatVector.fromArray(F, x, xo + i + 2 * L), a2);
            a3 = floats(s, row + 4L * (i + 3 * L)).fma(FloatVector.fromArray(F, x, xo + i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) a0 = floats(s, row + 4L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(ADD);
        for (; i < n; i++) sum += s.get(Blocks.FLOAT, row + 4L * i) * x[xo + i];
        return sum;
    }

    /**
     * F16 weights, widened in registers; x is already rounded to F16. Two accumulators and two widenings per
     * iteration: more unrolling makes C2 stop inlining before the loop is compiled whole.
     */
    private static float f16Dot(MemorySegment s, long row, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            a0 = f16s(s, row + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = f16s(s, row + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
        }
        float sum = a0.add(a1).reduceLanes(ADD);
        for (; i < n; i++) sum += Float.float16ToFloat(s.get(Blocks.SHORT, row + 2L * i)) * x[xo + i];
        return sum;
    }

    /**
     * L F16 values at {@code offset} as floats. The Vector API has no F16 conversion: exponent and mantissa shifted
     * into a float's place and multiplied by 2^112 (the difference of the biases) give every finite value exactly,
     * subnormals included; infinities and NaNs get the float's all-ones exponent instead.
     */
    private static FloatVector f16s(MemorySegment s, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, offset, LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        IntVector bits = h.and(0x7fff).lanewise(LSHL, 13);
        IntVector finite = bits.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector magnitude = finite.blend(bits.or(0x7f800000), bits.compare(VectorOperators.GE, 0x7c00 << 13));
        return magnitude.or(h.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
    }

    /** BF16 weights: a BF16 is the top half of a float. x is already rounded to BF16. */
    private static float bf16Dot(MemorySegment s, long row, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            a0 = bf16s(s, row + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = bf16s(s, row + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
            a2 = bf16s(s, row + 2L * (i + 2 * L)).fma(FloatVector.fromArray(F, x, xo + i + 2 * L), a2);
            a3 = bf16s(s, row + 2L * (i + 3 * L)).fma(FloatVector.fromArray(F, x, xo + i + 3 * L), a3);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(ADD);
        for (; i < n; i++) sum += HalfFloats.bf16ToFloat(s.get(Blocks.SHORT, row + 2L * i)) * x[xo + i];
        return sum;
    }

    private static FloatVector bf16s(MemorySegment s, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, offset, LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(LSHL, 16).reinterpretAsFloats();
    }

    /** Per block, pairs of 16-bit products (|p| &lt;= 2 * 128 * 127 &lt; 2^15) widened and summed as ints. */
    private static float q8_0(MemorySegment s, long row, Activations in, int x, int n) {
        FloatVector acc = FloatVector.zero(FQ);
        for (int k = 0; k < n / QK; k++) {
            long block = row + 34L * k;
            int xk = x + QK * k;
            IntVector dot = IntVector.zero(IQ);
            for (int i = 0; i < QK; i += 2 * Q) {
                ShortVector p = signedBytes(s, block + 2 + i).mul(quants(in.q, xk + i))
                        .add(signedBytes(s, block + 2 + i + Q).mul(quants(in.q, xk + i + Q)));
                dot = dot.add(pairs(p));
            }
            acc = floats(dot).fma(FloatVector.broadcast(FQ, f16(s, block) * in.d[xk / QK]), acc);
        }
        return acc.reduceLanes(ADD);
    }

    /** Q4_0 (nibble - 8) or Q4_1 (nibble, plus m_w * s_x per block); |16-bit products| &lt;= 2 * 15 * 127. */
    private static float q4(MemorySegment s, long row, Activations in, int x, int n, boolean withMin) {
        int blockBytes = withMin ? 20 : 18, qs = withMin ? 4 : 2;
        short offset = (short) (withMin ? 0 : 8);
        FloatVector acc = FloatVector.zero(FQ);
        float mins = 0;
        for (int k = 0; k < n / QK; k++) {
            long block = row + (long) blockBytes * k;
            int xk = x + QK * k;
            IntVector dot = IntVector.zero(IQ);
            for (int i = 0; i < 16; i += Q) {       // byte i: element i in its low nibble, 16 + i in its high one
                ShortVector v = unsignedBytes(s, block + qs + i);
                ShortVector p = v.and((short) 0xF).sub(offset).mul(quants(in.q, xk + i))
                        .add(v.lanewise(LSHR, 4).sub(offset).mul(quants(in.q, xk + 16 + i)));
                dot = dot.add(pairs(p));
            }
            acc = floats(dot).fma(FloatVector.broadcast(FQ, f16(s, block) * in.d[xk / QK]), acc);
            if (withMin) mins += f16(s, block + 2) * in.s[xk / QK];
        }
        return acc.reduceLanes(ADD) + mins;
    }

    /** Q4_K: the scaling of each super-block's exact sums is the scalar kernel's, so the two agree bit for bit. */
    private static float q4K(MemorySegment s, long row, Activations in, int x, int n) {
        float sum = 0, mins = 0;
        for (int k = 0; k < n / QK_K; k++) {
            long block = row + 144L * k;
            int xk = x + QK_K * k, summ = 0;
            long m = Blocks.q4kMins(s, block + Blocks.Q4K_SCALES);
            for (int j = 0; j < 8; j++) summ += Blocks.sub(m, j) * (in.bsums[xk / 16 + 2 * j] + in.bsums[xk / 16 + 2 * j + 1]);
            float dx = in.d[xk / QK_K];
            sum += (dx * f16(s, block)) * q4KSum(s, block, in.q, xk);
            mins += (dx * f16(s, block + 2)) * summ;
        }
        return sum - mins;
    }

    /**
     * sum_j(sc_j * sum(q_w * q_x)) of one Q4_K super-block, in ints. A 16-bit lane adds 32 / Q products of
     * q &lt;= 15 by |q_x| &lt;= 127: at most 4 * 1905. (A method of its own: inlined into the row loop it would
     * exhaust C2's inlining budget.)
     */
    private static int q4KSum(MemorySegment s, long block, short[] qx, int xk) {
        long scales = Blocks.q4kScales(s, block + Blocks.Q4K_SCALES);
        IntVector sumi = IntVector.zero(IQ);
        for (int c = 0; c < 4; c++) {           // 32 bytes: sub-block 2c in low nibbles, 2c + 1 in high ones
            ShortVector low = ShortVector.zero(SQ), high = low;
            for (int i = 0; i < 32; i += Q) {
                ShortVector v = unsignedBytes(s, block + Blocks.Q4K_QS + 32 * c + i);
                int e = xk + 64 * c + i;
                low = low.add(v.and((short) 0xF).mul(quants(qx, e)));
                high = high.add(v.lanewise(LSHR, 4).mul(quants(qx, e + 32)));
            }
            sumi = sumi.add(pairs(low).mul(Blocks.sub(scales, 2 * c))).add(pairs(high).mul(Blocks.sub(scales, 2 * c + 1)));
        }
        return sumi.reduceLanes(ADD);
    }

    /**
     * Q6_K: sum(scale * (q - 32) * q_x) is summed as sum(scale * q * q_x) - 32 * sum(scale * bsum), with q unsigned,
     * as ggml's AVX2 code does; the same exact integer as the scalar kernel's, scaled the same way.
     */
    private static float q6K(MemorySegment s, long row, Activations in, int x, int n) {
        float sum = 0;
        for (int k = 0; k < n / QK_K; k++) {
            long block = row + 210L * k;
            int xk = x + QK_K * k, sumi = 0;
            for (int j = 0; j < 16; j++) sumi -= 32 * s.get(JAVA_BYTE, block + Blocks.Q6K_SCALES + j) * in.bsums[xk / 16 + j];
            for (int quarter = 0; quarter < 8; quarter++) sumi += q6KQuarter(s, block, in.q, xk, quarter);
            sum += (in.d[xk / QK_K] * f16(s, block + Blocks.Q6K_D)) * sumi;
        }
        return sum;
    }

    /**
     * sum(scale * q * q_x), q the unsigned 6-bit quant, over the 32 elements 32 * quarter .. of a Q6_K super-block.
     * Quarter k of half h takes the low 4 bits of element l from the low (k &lt; 2) or high nibble of
     * ql[64 h + 32 (k % 2) + l] and the top 2 bits from bits 2k of qh[32 h + l]. 16-bit products: at most
     * 63 * 127. A 16-bit lane never spans two sub-blocks of 16, so each product vector has one scale. (One quarter
     * per call, each loaded vector used once: when C2 compiles several shift-and-combine chains from one loaded
     * vector in a loop, the loop runs several times slower.)
     */
    private static int q6KQuarter(MemorySegment s, long block, short[] qx, int xk, int quarter) {
        int half = quarter >> 2, k = quarter & 3;
        long ql = block + 64 * half + 32 * (k & 1), qh = block + Blocks.Q6K_QH + 32 * half;
        long sc = block + Blocks.Q6K_SCALES + 2 * quarter;
        int xq = xk + 32 * quarter;
        IntVector sumi = IntVector.zero(IQ);
        for (int l = 0; l < 32; l += Q) {
            ShortVector low = unsignedBytes(s, ql + l).lanewise(LSHR, 4 * (k >> 1)).and((short) 0xF);
            ShortVector high = unsignedBytes(s, qh + l).lanewise(LSHR, 2 * k).and((short) 3).lanewise(LSHL, 4);
            IntVector scale = IntVector.broadcast(IQ, s.get(JAVA_BYTE, sc + l / 16));
            sumi = sumi.add(pairs(low.or(high).mul(quants(qx, xq + l))).mul(scale));
        }
        return sumi.reduceLanes(ADD);
    }

    /** Q weight bytes at {@code offset} as signed shorts. */
    private static ShortVector signedBytes(MemorySegment s, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(BQ, s, offset, LITTLE_ENDIAN).convertShape(VectorOperators.B2S, SQ, 0);
    }

    /** Q weight bytes at {@code offset} as unsigned shorts. */
    private static ShortVector unsignedBytes(MemorySegment s, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(BQ, s, offset, LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SQ, 0);
    }

    private static ShortVector quants(short[] q, int offset) {
        return ShortVector.fromArray(SQ, q, offset);
    }

    /**
     * The Q 16-bit lanes of p summed in adjacent pairs into Q / 2 int lanes: each int lane holds two shorts, which
     * shifts sign-extend. (Widening with the Vector API's S2I conversion needs one conversion per half, and several
     * upper-half conversions in one loop make C2's code many times slower.)
     */
    private static IntVector pairs(ShortVector p) {
        IntVector v = p.reinterpretAsInts();
        return v.lanewise(VectorOperators.ASHR, 16).add(v.lanewise(LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    private static FloatVector floats(MemorySegment s, long offset) {
        return FloatVector.fromMemorySegment(F, s, offset, LITTLE_ENDIAN);
    }

    private static FloatVector floats(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }
}
