package org.slm4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static org.slm4j.tensor.VectorKernels.F;
import static org.slm4j.tensor.VectorKernels.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * A Q4_0, Q8_0, Q4_K, Q5_K or Q6_K matrix regrouped for generation, as llama.cpp's CPU backend repacks Q4_0: each row's blocks in
 * groups of L (the vector length), side by side, so that a vector lane follows one block.
 *
 * <p>In the file a block is a scale and its quants, and a dot product spends about as many vector operations on
 * scaling each block's lane sums as on its 32 products. Here byte i of the group's L blocks is one load: lane j sums
 * block j's products over the group's loads, and one multiply-add scales all L blocks. One thread then reads Q4_0
 * weights at 17 GB/s instead of 12. The input is regrouped the same way once per matmul ({@link Activations}).
 * Prompts (batches) still go through {@link Gemm} from the file's layout, so these weights are held twice.
 *
 * <pre>
 * group g of row r, n = r * groups + g, B = 16 (Q4_0, Q4_K, Q6_K) or 32 (Q8_0, Q5_K) quant bytes per lane's block:
 *   quants[(n * B + i) * L + j]  byte i of block g * L + j       (blocks past the row's end: zero)
 *   scales[n * L + j]            its scale as a float (f16 widened); Q4_K, Q5_K: d * scale at [2n * L + j],
 *                                dmin * min at [(2n + 1) * L + j]; Q6_K: d * scale
 * </pre>
 *
 * <p>A loop for nibbles, one for bytes and one for Q6_K's short blocks; each type's scaling is a branch once per
 * group, not a helper returning a vector (see {@link VectorKernels} on those). Java arrays, not off-heap memory: C2 proves the array loads in range once per loop and unrolls it, which it
 * did not for the same loads from a memory segment (14 vs 17 GB/s).
 */
final class BlockGroups {
    private final GgmlType type;
    private final byte[] quants;
    private final float[] scales;          // per lane: the block's scale; Q4_K, Q5_K: d * scale, then dmin * min; Q6_K: d * scale
    private final int groups;              // per row: ceil(blocks / L)

    private BlockGroups(GgmlType type, byte[] quants, float[] scales, int groups) {
        this.type = type;
        this.quants = quants;
        this.scales = scales;
        this.groups = groups;
    }

    /** Elements per lane: a block of 32, a Q4_K sub-block of 32, a Q6_K sub-block of 16. */
    static int laneElements(GgmlType type) {
        return type == GgmlType.Q6_K ? 16 : 32;
    }

    /** Groups per row of a matrix of type with cols columns. */
    static int groupsFor(GgmlType type, int cols) {
        return (cols / laneElements(type) + L - 1) / L;
    }

    static boolean regroups(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q8_0 || type == GgmlType.Q4_K || type == GgmlType.Q5_K
                || type == GgmlType.Q6_K;
    }

    /**
     * The regrouped copy of w (Q4_0, Q8_0 or Q4_K), built on the pool's threads. A Q4_K lane is a sub-block of 32,
     * its nibbles rearranged as a Q4_0 block's (element i low, i + 16 high in byte i), with two floats per lane:
     * d * scale and dmin * min (exact: an f16 times a 6-bit integer).
     */
    static BlockGroups of(Matrix w) {
        int bytes = switch (w.type()) {
            case Q4_0, Q4_K, Q6_K -> 16;
            case Q8_0, Q5_K -> 32;
            default -> throw new IllegalArgumentException(w.name() + ": " + w.type() + " is not regrouped");
        };
        boolean k = w.type() == GgmlType.Q4_K, five = w.type() == GgmlType.Q5_K, six = w.type() == GgmlType.Q6_K;
        int groups = groupsFor(w.type(), w.cols()), blocks = w.cols() / laneElements(w.type()), floats = k || five ? 2 : 1;
        if ((long) w.rows() * groups * bytes * L > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(w.name() + ": " + w.rows() + " rows of " + w.cols() + " are too many to regroup");
        }
        byte[] quants;
        float[] scales;
        try {
            quants = new byte[w.rows() * groups * bytes * L];
            scales = new float[w.rows() * groups * floats * L];
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException(w.name() + ": no room in the Java heap (-Xmx) for its regrouped copy of "
                    + (long) w.rows() * groups * (bytes + 4 * floats) * L / (1 << 20) + " MB; Q4_0, Q8_0 and Q4_K weights are"
                    + " held on the heap for generation (bin/slm4j allows 75% of the machine's memory)", e);
        }
        MemorySegment in = w.data();
        long rowBytes = w.rowBytes();
        Parallel.forRange(w.rows(), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int b = 0; b < blocks; b++) {
                    int n = r * groups + b / L, j = b % L;
                    if (six) {          // a sub-block of 16: its (q - 32) as int8, d * scale (exact: f16 times int8)
                        long block = r * rowBytes + 210L * (b / 16);
                        scales[n * L + j] = Blocks.f16(in, block + Blocks.Q6K_D) * in.get(JAVA_BYTE, block + Blocks.Q6K_SCALES + b % 16);
                        for (int i = 0; i < 16; i++) quants[(n * 16 + i) * L + j] = (byte) Blocks.q6k(in, block, 16 * (b % 16) + i);
                    } else if (five) {  // a sub-block of 32: its 5-bit quants as bytes, d * scale and dmin * min
                        long block = r * rowBytes + 176L * (b / 8);
                        int sm = Blocks.q4kScaleMin(in, block + Blocks.Q4K_SCALES, b % 8);
                        scales[(n * 2) * L + j] = Blocks.f16(in, block) * (sm & 0xFF);
                        scales[(n * 2 + 1) * L + j] = Blocks.f16(in, block + 2) * (sm >>> 8);
                        for (int i = 0; i < 32; i++) quants[(n * 32 + i) * L + j] = (byte) Blocks.q5k(in, block, 32 * (b % 8) + i);
                    } else if (k) {
                        long block = r * rowBytes + 144L * (b / 8), qs = block + Blocks.Q4K_QS + 32 * (b % 8 / 2);
                        int sm = Blocks.q4kScaleMin(in, block + Blocks.Q4K_SCALES, b % 8), shift = 4 * (b % 2);
                        scales[(n * 2) * L + j] = Blocks.f16(in, block) * (sm & 0xFF);
                        scales[(n * 2 + 1) * L + j] = Blocks.f16(in, block + 2) * (sm >>> 8);
                        for (int i = 0; i < 16; i++) {
                            int lo = in.get(JAVA_BYTE, qs + i) >> shift & 0xF, hi = in.get(JAVA_BYTE, qs + 16 + i) >> shift & 0xF;
                            quants[(n * 16 + i) * L + j] = (byte) (lo | hi << 4);
                        }
                    } else {
                        long block = r * rowBytes + (long) (2 + bytes) * b;
                        scales[n * L + j] = Blocks.f16(in, block);
                        for (int i = 0; i < bytes; i++) quants[(n * bytes + i) * L + j] = in.get(JAVA_BYTE, block + 2 + i);
                    }
                }
            }
        });
        return new BlockGroups(w.type(), quants, scales, groups);
    }

    /** Row r times the grouped input (see {@link Activations#prepare}). */
    float dot(int r, Activations in) {
        return switch (type) {
            case Q4_0, Q4_K -> nibbles(r, in);
            case Q6_K -> q6K(r, in);
            default -> bytes(r, in);
        };
    }

    /**
     * Q4_0 and Q4_K: per lane the exact integer sum of its block's 32 nibble products (at most 32 * 15 * 127). Q4_0
     * takes off 8 times the block's input sum and scales by d_w * d_x; Q4_K scales by d * scale, takes off dmin * min
     * times the input sum, and multiplies by d_x.
     */
    private float nibbles(int r, Activations in) {
        float[] x = in.groupedX, dx = in.groupedD, sums = in.groupedSums;
        boolean mins = type == GgmlType.Q4_K;
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int n = r * groups + g, q = n * 16 * L, xo = g * 32 * L;
            // four sums: one would be a chain of 32 dependent multiply-adds per group
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < 16; i += 2) {
                IntVector v = VectorKernels.uint8s(quants, q + i * L), u = VectorKernels.uint8s(quants, q + (i + 1) * L);
                a0 = VectorKernels.floats(v.and(0xF)).fma(FloatVector.fromArray(F, x, xo + i * L), a0);
                a1 = VectorKernels.floats(v.lanewise(LSHR, 4)).fma(FloatVector.fromArray(F, x, xo + (16 + i) * L), a1);
                a2 = VectorKernels.floats(u.and(0xF)).fma(FloatVector.fromArray(F, x, xo + (i + 1) * L), a2);
                a3 = VectorKernels.floats(u.lanewise(LSHR, 4)).fma(FloatVector.fromArray(F, x, xo + (17 + i) * L), a3);
            }
            FloatVector dot = a0.add(a1).add(a2.add(a3)), d = FloatVector.fromArray(F, dx, g * L);
            if (mins) {
                dot = dot.mul(FloatVector.fromArray(F, scales, 2 * n * L));
                acc = FloatVector.fromArray(F, scales, (2 * n + 1) * L).neg().fma(FloatVector.fromArray(F, sums, g * L), dot).fma(d, acc);
            } else {
                acc = dot.sub(FloatVector.fromArray(F, sums, g * L)).fma(FloatVector.fromArray(F, scales, n * L).mul(d), acc);
            }
        }
        return acc.reduceLanes(ADD);
    }

    /**
     * Q8_0 and Q5_K: per lane the exact integer sum of its block's 32 byte products (at most 32 * 128 * 127, below
     * 2^24). Q8_0 scales by d_w * d_x; Q5_K as Q4_K in {@link #nibbles}. Q6_K's 16-byte blocks have a loop of their
     * own: a trip count held in a variable cost the two others 3-5 %.
     */
    private float bytes(int r, Activations in) {
        int e = 32;
        float[] x = in.groupedX, dx = in.groupedD, sums = in.groupedSums;
        boolean mins = type == GgmlType.Q5_K;
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int n = r * groups + g, q = n * e * L, xo = g * e * L;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < e; i += 4) {
                a0 = VectorKernels.int8s(quants, q + i * L).fma(FloatVector.fromArray(F, x, xo + i * L), a0);
                a1 = VectorKernels.int8s(quants, q + (i + 1) * L).fma(FloatVector.fromArray(F, x, xo + (i + 1) * L), a1);
                a2 = VectorKernels.int8s(quants, q + (i + 2) * L).fma(FloatVector.fromArray(F, x, xo + (i + 2) * L), a2);
                a3 = VectorKernels.int8s(quants, q + (i + 3) * L).fma(FloatVector.fromArray(F, x, xo + (i + 3) * L), a3);
            }
            FloatVector dot = a0.add(a1).add(a2.add(a3)), d = FloatVector.fromArray(F, dx, g * L);
            if (mins) {
                dot = dot.mul(FloatVector.fromArray(F, scales, 2 * n * L));
                acc = FloatVector.fromArray(F, scales, (2 * n + 1) * L).neg().fma(FloatVector.fromArray(F, sums, g * L), dot).fma(d, acc);
            } else {
                acc = dot.fma(FloatVector.fromArray(F, scales, n * L).mul(d), acc);
            }
        }
        return acc.reduceLanes(ADD);
    }

    /** Q6_K: per lane the exact integer sum of its sub-block's 16 products of |q - 32| &lt;= 32 by |q_x| &lt;= 127. */
    private float q6K(int r, Activations in) {
        float[] x = in.groupedX, dx = in.groupedD;
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int n = r * groups + g, q = n * 16 * L, xo = g * 16 * L;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < 16; i += 4) {
                a0 = VectorKernels.int8s(quants, q + i * L).fma(FloatVector.fromArray(F, x, xo + i * L), a0);
                a1 = VectorKernels.int8s(quants, q + (i + 1) * L).fma(FloatVector.fromArray(F, x, xo + (i + 1) * L), a1);
                a2 = VectorKernels.int8s(quants, q + (i + 2) * L).fma(FloatVector.fromArray(F, x, xo + (i + 2) * L), a2);
                a3 = VectorKernels.int8s(quants, q + (i + 3) * L).fma(FloatVector.fromArray(F, x, xo + (i + 3) * L), a3);
            }
            acc = a0.add(a1).add(a2.add(a3)).fma(FloatVector.fromArray(F, scales, n * L).mul(FloatVector.fromArray(F, dx, g * L)), acc);
        }
        return acc.reduceLanes(ADD);
    }
}
