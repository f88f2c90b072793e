package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The blocked batch multiply ({@link VectorKernels#wholeBatches}: the kernels otherwise take small batches of
 * regrouped types one position at a time) against the scalar reference at its edges: row counts around its tiles (4, 8 and 12
 * rows) and unit (48 rows), batches around its position groups (2 to 9, one vector, two vectors and one more), columns
 * around its passes of 256 elements, odd columns for the float types, F16 rows past one panel. Tolerance as in {@link KernelTwinTest}: the
 * same exact products or block sums, added in another order. {@link VectorWidthTest} runs these cases again at the
 * narrower widths, whose tiles are other code.
 */
class GemmTest {
    static Stream<Arguments> cases() {
        int l = VectorKernels.L;
        List<Arguments> cases = new ArrayList<>();
        for (GgmlType type : GgmlType.values()) {
            if (!type.supported()) continue;
            int[] cols = switch (type.blockSize()) {
                case 1 -> new int[] {1, 5, 127, 129, 300};
                case 32 -> new int[] {32, 96, 128, 160, 416};
                default -> new int[] {256, 512};
            };
            int[] rows = {1, 3, 4, 5, 13, 31, 33, 49, 70};
            int[] batches = {2, 3, 4, 5, 6, 7, 8, 9, l - 1, 2 * l, 2 * l + 1, 4 * l + 3};
            for (int i = 0; i < rows.length; i++) {
                for (int j = 0; j < batches.length; j += 1 + i % 2) {
                    cases.add(Arguments.of(type, rows[i], cols[(i + j) % cols.length], batches[j]));
                }
            }
        }
        // F16 rows come from generation's copy, in column panels of 1024: a narrower last panel, an odd one
        for (int c : new int[] {1040, 2047}) for (int batch : new int[] {3, 2 * l + 1}) cases.add(Arguments.of(GgmlType.F16, 49, c, batch));
        // so do Q8_0 rows, in groups of L blocks: two whole groups and a partial one; then past one panel
        for (int c : new int[] {64 * l + 96, 128 * l + 3200}) for (int batch : new int[] {3, 2 * l + 1}) cases.add(Arguments.of(GgmlType.Q8_0, 49, c, batch));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} rows {1} cols {2} batch {3}")
    @MethodSource("cases")
    void matchesScalar(GgmlType type, int rows, int cols, int batch) {
        String failure = compare(type, rows, cols, batch);
        if (failure != null) fail(failure);
    }

    /**
     * Q8_0 widths one after the other on one thread, as a model's layers alternate them (Gemm keeps the copy's column
     * order per width): a wide row, then a narrower one whose last group is partial, then the wide one again. A table
     * made for another width would put some inputs against the wrong weights.
     */
    @Test
    void q8_0WidthsInTurnEachMatchScalar() {
        int l = VectorKernels.L;
        for (int cols : new int[] {128 * l + 3200, 64 * l + 96, 128 * l + 3200}) {
            String failure = compare(GgmlType.Q8_0, 49, cols, 2 * l + 1);
            if (failure != null) fail(failure);
        }
    }

    /** null when the vector kernels' batch multiply agrees with the scalar one on this case, else what differs. */
    static String compare(GgmlType type, int rows, int cols, int batch) {
        Random rnd = new Random(131L * type.ordinal() + 17L * rows + 7L * cols + batch);
        RandomWeights w = RandomWeights.of(type, rows, cols, rnd);
        float[] x = KernelTwinTest.randomInput(rnd, batch * cols, type.blockSize() == 1 ? 32 : type.blockSize());
        float[] expected = new float[batch * rows], actual = new float[batch * rows];
        Kernels.scalar().matmul(w.matrix(), x, batch, expected);
        VectorKernels.wholeBatches().matmul(w.matrix(), x, batch, actual);
        int block = type.blockSize() == 256 ? 256 : 32;
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
                double magnitude = 0;
                for (int i = 0; i < cols; i++) {
                    int from = b * cols + i / block * block;
                    double xi = 0;
                    if (type.blockSize() == 1) xi = Math.abs(x[b * cols + i]) * 1.01;
                    else for (int j = from; j < from + block; j++) xi = Math.max(xi, Math.abs(x[j]) * 1.01);
                    magnitude += w.magnitude()[r * cols + i] * xi;
                }
                double tolerance = 2 * (cols + 16) * 0x1p-24 * magnitude;
                float e = expected[b * rows + r], a = actual[b * rows + r];
                if (!(Math.abs(e - a) <= tolerance)) {
                    return type + " rows " + rows + " cols " + cols + " batch " + batch + ": out[" + b + ", " + r + "] scalar "
                            + e + ", vector " + a + ", tolerance " + tolerance;
                }
            }
        }
        return null;
    }

    /**
     * Q4_0's 16-bit kernels at their bound: rows of all -8 or all 7 quants times inputs whose quants are all 127 or
     * -127 make block sums of +-32512 and +-28448, the largest a block can reach (one unit over 32767 would wrap a
     * 16-bit lane). Every product here is exact in floats, so both kernels must give the exact value.
     */
    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 2, 33})     // 1: generation's 16-bit kernel (BlockGroups), the others Gemm's
    void q4_0BlockSumsAtTheirLargest(int batch) {
        int cols = 64;
        byte[] nibbles = {0x00, (byte) 0xFF};                  // all q = 0 (weight -8), all q = 15 (weight 7)
        ByteBuffer buf = ByteBuffer.allocate(nibbles.length * 2 * 18).order(ByteOrder.LITTLE_ENDIAN);
        for (byte nibble : nibbles) {
            for (int k = 0; k < 2; k++) {
                buf.putShort(Float.floatToFloat16(0.5f));
                for (int i = 0; i < 16; i++) buf.put(nibble);
            }
        }
        Matrix w = new Matrix("extreme", GgmlType.Q4_0, MemorySegment.ofArray(buf.array()), nibbles.length, cols);
        float[] x = new float[batch * cols];
        for (int b = 0; b < batch; b++) java.util.Arrays.fill(x, b * cols, (b + 1) * cols, b % 2 == 0 ? 4f : -4f);
        float[] expected = new float[batch * nibbles.length], actual = new float[batch * nibbles.length];
        Kernels.scalar().matmul(w, x, batch, expected);
        VectorKernels.wholeBatches().matmul(w, x, batch, actual);
        float dx = Float.float16ToFloat(Float.floatToFloat16(4f / 127));     // every input quant is +-127
        for (int b = 0; b < batch; b++) {
            float sign = b % 2 == 0 ? 1 : -1;
            float[] exact = {sign * -8 * 127 * 32 * 2 * 0.5f * dx, sign * 7 * 127 * 32 * 2 * 0.5f * dx};
            for (int r = 0; r < nibbles.length; r++) {
                assertEquals(exact[r], expected[b * nibbles.length + r], "scalar, position " + b + " row " + r);
                assertEquals(exact[r], actual[b * nibbles.length + r], "vector, position " + b + " row " + r);
            }
        }
    }

    /**
     * Q4_K and Q5_K prompts at their largest sums. Q4_K's 16-bit tile sums a block's (q - 8) * q_x: quants of 0 and
     * 15 times input quants of -127 give block sums of 32512 and -28448 (one unit over 32767 would wrap), and the 8
     * goes back in through the block's input sum. Q5_K sums spans of 64 products, 31 * 63 * 127 * 64 = 15 873 984,
     * just under 2^24, so each span is exact in floats (a span twice as long would round). Every value here is exact,
     * so both kernels must give it.
     */
    @ParameterizedTest(name = "{0} batch {1}")
    @CsvSource({"Q4_K, 2", "Q4_K, 33", "Q5_K, 2", "Q5_K, 33"})
    void kQuantSumsAtTheirLargest(GgmlType type, int batch) {
        int cols = 512;
        boolean five = type == GgmlType.Q5_K;
        byte[] quants = {(byte) 0xFF, 0x00, (byte) 0xFF};      // per row: every quant 15 (Q5_K 31), or 0
        ByteBuffer buf = ByteBuffer.allocate((int) type.bytesFor(cols) * quants.length).order(ByteOrder.LITTLE_ENDIAN);
        for (byte q : quants) {
            for (int k = 0; k < cols / 256; k++) {
                buf.putShort(Float.floatToFloat16(1f)).putShort((short) 0);         // d = 1, dmin = 0
                // 6-bit scales all 63, mins all 0: sub-blocks 0-3 in bytes 0-3, 4-7 low bits in 8-11, high bits atop 0-3
                for (int j = 0; j < 12; j++) buf.put((byte) (j < 4 ? 0xFF : j < 8 ? 0 : 0x0F));
                for (int i = 0; i < (five ? 32 + 128 : 128); i++) buf.put(q);
            }
        }
        Matrix w = new Matrix("extreme", type, MemorySegment.ofArray(buf.array()), quants.length, cols);
        float[] x = new float[batch * cols];
        java.util.Arrays.fill(x, 127f);          // max 127: d_x = -1, every input quant -127
        float[] expected = new float[batch * quants.length], actual = new float[batch * quants.length];
        Kernels.scalar().matmul(w, x, batch, expected);
        VectorKernels.wholeBatches().matmul(w, x, batch, actual);
        for (int i = 0; i < batch * quants.length; i++) {
            float exact = quants[i % quants.length] == 0 ? 0 : (five ? 31 : 15) * 63 * 127 * cols;
            assertEquals(exact, expected[i], "scalar, output " + i);
            assertEquals(exact, actual[i], "vector, output " + i);
        }
    }

    /**
     * F16 values that are not finite (a hostile or broken file), as block scales or as F16 weights, give what the
     * scalar kernel gives: generation and prompts widen F16 weights from their bits in vectors, prompts decode block
     * scales one by one.
     */
    @ParameterizedTest(name = "{0} batch {1}")
    @CsvSource({"Q4_0, 1", "Q4_0, 3", "Q8_0, 1", "Q8_0, 3", "F16, 1", "F16, 3"})
    void nonFiniteHalvesAsTheScalarKernel(GgmlType type, int batch) {
        int cols = 128, rows = 5;
        short[] special = {0x7c00, (short) 0xfc00, 0x7e00, 0x0001, (short) 0x8000};   // +inf, -inf, NaN, tiniest, -0
        Random rnd = new Random(7);
        ByteBuffer buf = ByteBuffer.allocate((int) type.bytesFor(cols) * rows).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols / 32; k++) {       // block 1's scale, or F16 element 40 + r % 2, is special
                if (type == GgmlType.F16) {
                    for (int i = 0; i < 32; i++) {
                        buf.putShort(32 * k + i == 40 + r % 2 ? special[r] : Float.floatToFloat16((float) rnd.nextGaussian()));
                    }
                    continue;
                }
                buf.putShort(k == 1 ? special[r] : Float.floatToFloat16(0.01f * (1 + rnd.nextInt(9))));
                for (int i = 0; i < (int) type.bytesFor(32) - 2; i++) buf.put((byte) rnd.nextInt());
            }
        }
        Matrix w = new Matrix("special", type, MemorySegment.ofArray(buf.array()), rows, cols);
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] expected = new float[batch * rows], actual = new float[batch * rows];
        Kernels.scalar().matmul(w, x, batch, expected);
        VectorKernels.wholeBatches().matmul(w, x, batch, actual);
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < 3; r++) {      // the non-finite ones must agree exactly: inf, -inf or NaN
                float e = expected[b * rows + r];
                assertEquals(false, Float.isFinite(e), "scalar, position " + b + " row " + r);
                assertEquals(e, actual[b * rows + r], "position " + b + " row " + r);
            }
            for (int r = 3; r < rows; r++) {
                float e = expected[b * rows + r], a = actual[b * rows + r];
                assertEquals(e, a, 1e-4f * Math.max(1, Math.abs(e)), "position " + b + " row " + r);
            }
        }
    }

    /**
     * Q6_K's 16-bit generation loop at its bound: every quant 0 (weight -32) times inputs whose quants are all -127
     * sums to 16 * 32 * 127 = 65024 per sub-block, which a 16-bit lane cannot hold; the loop sums two halves of 8.
     */
    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 3})
    void q6KSubBlockSumsAtTheirLargest(int batch) {
        int cols = 512, rows = 3;
        ByteBuffer buf = ByteBuffer.allocate(rows * cols / 256 * 210).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < rows * cols / 256; b++) {
            buf.put(new byte[128 + 64]);                                   // ql, qh: every q = 0, weight -32
            for (int j = 0; j < 16; j++) buf.put((byte) (1 + j % 3));      // sub-block scales
            buf.putShort(Float.floatToFloat16(0.5f));
        }
        Matrix w = new Matrix("extreme", GgmlType.Q6_K, MemorySegment.ofArray(buf.array()), rows, cols);
        float[] x = new float[batch * cols];
        java.util.Arrays.fill(x, 4f);                                      // Q8_K: every quant -127
        float[] expected = new float[batch * rows], actual = new float[batch * rows];
        Kernels.scalar().matmul(w, x, batch, expected);
        VectorKernels.wholeBatches().matmul(w, x, batch, actual);
        for (int i = 0; i < expected.length; i++) {
            // every product is -32 * 0.5 * scale * 4: two super-blocks of 16 sub-blocks of 16, scales summing to 31
            assertEquals(-2 * 31 * 0.5 * 32 * 16 * 4, expected[i], 1e-3, "scalar, output " + i);
            assertEquals(expected[i], actual[i], 1e-6 * Math.abs(expected[i]), "output " + i);
        }
    }
}
