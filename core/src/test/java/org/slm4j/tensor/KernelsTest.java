package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KernelsTest {
    @Test
    void bestIsTheVectorKernelsWhenTheModuleIsPresent() {
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "tests run with the vector module");
        assertSame(Kernels.vector(), Kernels.best());
        assertTrue(Kernels.best() instanceof VectorKernels);
    }

    @Test
    void matmulChecksItsArguments() {
        Matrix w = new Matrix("w", GgmlType.F32, MemorySegment.ofArray(new byte[2 * 3 * 4]), 2, 3);
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> k.matmul(w, new float[5], 2, new float[4]))
                    .getMessage().startsWith("w: x has 5 floats"));
            assertThrows(IllegalArgumentException.class, () -> k.matmul(w, new float[6], 2, new float[3]));
            assertThrows(IllegalArgumentException.class, () -> k.matmul(w, new float[6], -1, new float[4]));
            k.matmul(w, new float[0], 0, new float[0]);
        }
    }

    /**
     * A small batch of a regrouped type goes through the weights as generation does, each position by itself
     * (VectorKernels.byPosition, a block of rows at a time past every position; F16 all positions in one pass, four
     * per weight vector, each summed as generation sums it): each position's outputs are what that position alone
     * gives (what generation computes), in its own slot, for one matrix and for several sharing the input. Within
     * 1e-5 of the largest output, not bit for bit (see below): Gemm's results would be as close, so the test also
     * checks that these batches take that route. At 4096 columns, 2048 rows hand a thread runs of more than one block.
     */
    @ParameterizedTest
    @ValueSource(ints = {512, 4096})
    void aSmallBatchGivesWhatEachPositionGivesAlone(int cols) {
        Random rnd = new Random(9);
        Matrix[] ws = {RandomWeights.of(GgmlType.Q4_0, 2048, cols, rnd).matrix(), RandomWeights.of(GgmlType.Q4_0, 36, cols, rnd).matrix(),
                RandomWeights.of(GgmlType.Q8_0, 52, cols, rnd).matrix(), RandomWeights.of(GgmlType.F16, 20, cols, rnd).matrix(),
                RandomWeights.of(GgmlType.Q6_K, 24, cols, rnd).matrix()};
        for (int batch : new int[] {2, 5, 8, 16, 20, 28, 40, 56, 57}) {
            for (Matrix w : ws) {
                boolean expected = switch (w.type()) {
                    case F16 -> false;
                    case Q8_0 -> batch <= 5 * VectorKernels.L / 4;
                    case Q6_K -> batch <= (VectorKernels.L >= 8 ? 7 * VectorKernels.L / 2 : 3 * VectorKernels.L / 2 - 1);
                    default -> batch <= (VectorKernels.L >= 8 ? 56 : 28);
                };
                assertEquals(expected, VectorKernels.instance().byPosition(w, batch), w + ", batch " + batch);
            }
            float[] x = KernelTwinTest.randomInput(rnd, batch * cols, 32);
            float[][] together = new float[ws.length][], alone = new float[ws.length][];
            for (int i = 0; i < ws.length; i++) {
                together[i] = new float[batch * ws[i].rows()];
                alone[i] = new float[batch * ws[i].rows()];
                float[] one = new float[ws[i].rows()];
                for (int p = 0; p < batch; p++) {
                    Kernels.vector().matmul(ws[i], Arrays.copyOfRange(x, p * cols, (p + 1) * cols), 1, one);
                    System.arraycopy(one, 0, alone[i], p * one.length, one.length);
                }
            }
            Kernels.vector().matmul(ws, x, batch, together);
            for (int i = 0; i < ws.length; i++) {
                float[] single = new float[batch * ws[i].rows()];
                Kernels.vector().matmul(ws[i], x, batch, single);
                assertClose(alone[i], together[i], ws[i] + " among several, batch " + batch);
                assertClose(alone[i], single, ws[i] + " alone, batch " + batch);
            }
        }
    }

    /**
     * Past 28 positions a Q4_0 batch goes by position only where its rows take two inputs per pass: paired rows (a
     * width of an odd number of half groups, see BlockGroups.setRows) take one, and there Gemm is the faster from
     * 29 on, as it was for every matrix before the two-input pass.
     */
    @Test
    void pairedRowsLeaveSmallBatchesToGemmPast28() {
        int l = VectorKernels.L;
        Random rnd = new Random(5);
        Matrix paired = RandomWeights.of(GgmlType.Q4_0, 64, 32 * (l / 2) * 3, rnd).matrix();
        Matrix single = RandomWeights.of(GgmlType.Q4_0, 64, 32 * l * 3, rnd).matrix();
        assertFalse(paired.groups().twoInputs(), "rows of " + paired.cols() + " columns are paired");
        assertTrue(single.groups().twoInputs());
        VectorKernels k = VectorKernels.instance();
        assertTrue(k.byPosition(paired, 28));
        assertFalse(k.byPosition(paired, 29));
        assertEquals(l >= 8, k.byPosition(single, 29));
        assertEquals(l >= 8, k.byPosition(single, 56));
    }

    /**
     * Q8_0, Q5_K and Q6_K rows take two positions per pass (BlockGroups.bytes2, q5K2, q6K2): their results equal one
     * position's at a time, so only this notices a type falling back to one pass per position, which costs short
     * prompts a fifth to a third of their speed (see BlockGroups.twoInputs).
     */
    @Test
    void byteAndSixBitRowsTakeTwoInputsPerPass() {
        Random rnd = new Random(6);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q5_K, GgmlType.Q6_K}) {
            Matrix w = RandomWeights.of(type, 16, 512, rnd).matrix();
            assertTrue(w.groups().twoInputs(), type.toString());
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        float max = 0;
        for (float e : expected) max = Math.max(max, Math.abs(e));
        for (int k = 0; k < expected.length; k++) assertEquals(expected[k], actual[k], 1e-5f * max, what + ": out[" + k + "]");
    }

    /**
     * Several matrices with one input give what each gives alone, whether consecutive ones share a type (one rounding,
     * one transposition) or not: a stale rounding or transposition, or rows of one matrix written to another's
     * output, would be off by far more than the 1e-5 of the matrix's largest output allowed. Each matrix alone is
     * also checked row by row against a one-row matrix of that row, which no thread split or column panel reaches
     * (the row split is shared by both kernels, so comparing them could not catch it). Not bit for bit: the
     * Vector API's reduceLanes adds lanes in another order when a method runs interpreted than once C2 has compiled
     * it, so two calls of one kernel can differ in the last bits of their largest terms (seen: 2e-6 of an output of
     * 30 whose block terms cancel).
     */
    @Test
    void severalMatricesWithOneInputMatchEachAlone() {
        // small matrices run on the calling thread; big ones as one parallel job per run of matrices sharing a type
        severalMatricesWithOneInput(64, 3, 4);
        severalMatricesWithOneInput(256, 200, 37);
        // F16 wider than 1024 columns, in column panels; more row chunks (38 to 57 a matrix) than a job has claims (32), so
        // a thread's claim covers several chunks and some end one matrix's rows and start the next one's
        severalMatricesWithOneInput(1280, 600, 37);
    }

    private static void severalMatricesWithOneInput(int cols, int rows, int moreRows) {
        Random rnd = new Random(5);
        GgmlType[] types = {GgmlType.Q4_0, GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.F16, GgmlType.F16, GgmlType.Q4_0};
        Matrix[] ws = new Matrix[types.length];
        for (int i = 0; i < ws.length; i++) ws[i] = RandomWeights.of(types[i], rows + moreRows * i, cols, rnd).matrix();
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
            for (int batch : new int[] {1, 5, 40}) {
                float[] x = KernelTwinTest.randomInput(rnd, batch * cols, 32);
                float[][] outs = new float[ws.length][];
                for (int i = 0; i < ws.length; i++) outs[i] = new float[batch * ws[i].rows()];
                k.matmul(ws, x, batch, outs);
                for (int i = 0; i < ws.length; i++) {
                    float[] alone = new float[batch * ws[i].rows()];
                    k.matmul(ws[i], x, batch, alone);
                    float largest = 1;
                    for (float v : alone) largest = Math.max(largest, Math.abs(v));
                    for (int j = 0; j < alone.length; j++) {
                        assertEquals(alone[j], outs[i][j], 1e-5f * largest,
                                k + " " + types[i] + " matrix " + i + " of " + ws[i].rows() + " x " + cols
                                        + ", batch " + batch + ", element " + j);
                    }
                    Matrix w = ws[i];
                    float[] one = new float[batch];
                    for (int r = 0; r < w.rows(); r++) {
                        Matrix row = new Matrix("row " + r, w.type(), w.data().asSlice(r * w.rowBytes(), w.rowBytes()), 1, cols);
                        k.matmul(row, x, batch, one);
                        for (int b = 0; b < batch; b++) {
                            assertEquals(one[b], alone[b * w.rows() + r], 1e-5f * largest,
                                    k + " " + types[i] + " matrix " + i + " row " + r + " alone, batch " + batch + ", input " + b);
                        }
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> k.matmul(ws, new float[cols], 1, new float[1][]));
        }
    }

    /** A 2x3 F32 matrix times two vectors, by hand; extra input and output space is ignored and left alone. */
    @Test
    void f32MatmulByHand() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {1, 2, 3, -1, 0.5f, 4}) b.putFloat(v);
        Matrix w = new Matrix("w", GgmlType.F32, MemorySegment.ofArray(b.array()), 2, 3);
        float[] x = {1, 1, 1, 2, 0, -1, 99};
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
            float[] out = {0, 0, 0, 0, 42};
            k.matmul(w, x, 2, out);
            assertArrayEquals(new float[] {6, 3.5f, -1, -6, 42}, out);
        }
    }

    /**
     * Infinite and NaN F16 weights stay infinite and NaN (the vector kernel widens F16 by hand), for one input and for
     * four (a small batch's pass, BlockGroups.f16x4).
     */
    @Test
    void nonFiniteF16WeightsStayNonFinite() {
        int cols = 64;
        ByteBuffer b = ByteBuffer.allocate(3 * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < cols; i++) {
                short h = 0x3C00;                                          // 1
                if (r == 0 && i == 5) h = 0x7C00;                          // +inf
                if (r == 1 && i == 9) h = 0x7E00;                          // NaN
                if (r == 2 && i == 20) h = (short) 0xFC00;                 // -inf
                b.putShort(h);
            }
        }
        Matrix w = new Matrix("w", GgmlType.F16, MemorySegment.ofArray(b.array()), 3, cols);
        for (int batch : new int[] {1, 4}) {
            float[] x = new float[batch * cols], expected = new float[3 * batch];
            Arrays.fill(x, 1);
            for (int p = 0; p < batch; p++) System.arraycopy(new float[] {Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY}, 0, expected, 3 * p, 3);
            for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
                float[] out = new float[3 * batch];
                k.matmul(w, x, batch, out);
                assertArrayEquals(expected, out, k + ", batch " + batch);
            }
        }
    }

    /**
     * Q4_0 and Q8_0 blocks with an infinite or NaN d give infinite and NaN rows, one input or two (BlockGroups widens
     * their scales by hand, and sends such a Q4_0 matrix to the reference kernel).
     */
    @Test
    void nonFiniteBlockScalesStayNonFinite() {
        int cols = 64;
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0}) {
            ByteBuffer b = ByteBuffer.allocate((int) type.bytesFor(cols) * 3).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < 3 * cols / 32; k++) {
                short d = 0x3C00;                                          // 1
                if (k == 0) d = 0x7C00;                                    // row 0: +inf
                if (k == 3) d = 0x7E00;                                    // row 1: NaN
                if (k == 4) d = (short) 0xFC00;                            // row 2: -inf
                b.putShort(d);
                for (int i = 0; i < type.bytesFor(32) - 2; i++) b.put((byte) (type == GgmlType.Q4_0 ? 0x99 : 1));  // q - 8 = 1; q = 1
            }
            Matrix w = new Matrix("w", type, MemorySegment.ofArray(b.array()), 3, cols);
            for (int batch : new int[] {1, 2}) {
                float[] x = new float[batch * cols];
                Arrays.fill(x, 1);
                float[] out = new float[batch * 3];
                Kernels.vector().matmul(w, x, batch, out);
                for (int p = 0; p < batch; p++) {
                    assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY},
                            Arrays.copyOfRange(out, 3 * p, 3 * p + 3), type + ", batch " + batch);
                }
            }
        }
    }

    /** An input past f16's range rounds to infinity, as ggml rounds it, and stays infinite (or NaN times 0); NaN stays NaN. */
    @Test
    void nonFiniteF16InputsStayNonFinite() {
        int cols = 64;
        ByteBuffer b = ByteBuffer.allocate(3 * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < cols; i++) b.putShort(r == 1 ? (short) 0xBC00 : r == 2 && i == 5 ? 0 : (short) 0x3C00);   // 1, -1, 0
        }
        Matrix w = new Matrix("w", GgmlType.F16, MemorySegment.ofArray(b.array()), 3, cols);
        float[] x = new float[cols];
        Arrays.fill(x, 0.5f);
        x[5] = 70000f;                                                 // f16's largest is 65504
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
            float[] out = new float[3];
            k.matmul(w, x, 1, out);
            assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}, out, k.toString());
            x[5] = Float.NaN;
            k.matmul(w, x, 1, out);
            assertArrayEquals(new float[] {Float.NaN, Float.NaN, Float.NaN}, out, k.toString());
            x[5] = 70000f;
        }
    }
}
