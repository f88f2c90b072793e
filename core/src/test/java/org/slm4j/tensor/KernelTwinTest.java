package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector kernels agree with the scalar reference for every weight type, sizes around the vector widths and
 * batches 1, 2 and 7, on random data with boundary values.
 *
 * <p>Tolerance: both compute the same exact integers per block (quantized types) or the same exact products (float
 * types, whose inputs are rounded identically) and differ only in the order of float additions. The error of a
 * float sum of n terms is at most about n * 2^-24 times the sum of their magnitudes, so each output may differ by
 * 2 * (cols + 16) * 2^-24 * sum_i(|w_i| * |x_i|), with |w_i| bounded by the block's scale times the largest quant
 * (plus |min|) and |x_i| by its quantization block's largest |x|.
 */
class KernelTwinTest {
    private static final int[] FLOAT_COLS = {1, 3, 7, 15, 17, 33, 255, 257, 1021, 32, 64, 96, 256, 512, 1280};
    // 768, 1024, 2560: with 2L-wide groups (Q4_0, Q4_K), rows whose last group is padded or not
    private static final int[] BLOCK_COLS = {32, 64, 96, 256, 512, 768, 1024, 1280, 2560};
    private static final int[] SUPER_BLOCK_COLS = {256, 512, 768, 1280, 2048, 2560};

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (GgmlType type : GgmlType.values()) {
            if (!type.supported()) continue;
            int[] cols = switch (type.blockSize()) {
                case 1 -> FLOAT_COLS;
                case 32 -> BLOCK_COLS;
                default -> SUPER_BLOCK_COLS;
            };
            for (int c : cols) for (int batch : new int[] {1, 2, 7}) cases.add(Arguments.of(type, c, batch, 0));
        }
        // rows of an odd number of half groups go in pairs (BlockGroups.setRows: 768 and 3840 columns at 512 bits,
        // 24 and 120 blocks; 384, 640 and 896 at 256 bits; 576 and 1216 at 128; Q4_K's rows, 8 blocks to a
        // super-block, only at 512 bits); odd counts leave the last pair without its second row (a zero row, its
        // result dropped); 17 and 33 also reach past the first chunks of 16 rows. Pairs of 3840 columns at 512 bits,
        // 896 at 256 and 1216 at 128 go in two panels, the first holding the middle group
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_K}) {
            for (int c : new int[] {384, 576, 640, 768, 896, 1216, 2560, 3840}) {
                if (c % type.blockSize() != 0) continue;
                for (int rows : new int[] {1, 2, 17, 33}) cases.add(Arguments.of(type, c, 1, rows));
            }
        }
        // rows whose grouped input passes BlockGroups.PANEL_INPUT go through their groups panel by panel (6912: 7
        // groups of Q4_0 at 512 bits, 14 of Q8_0 and Q6_K, 27 of Q4_0 at 128 bits), the last panel narrower; 5632
        // (TinyLlama's and StableLM's FFN down) in two even panels
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            for (int c : new int[] {5632, 6912}) for (int rows : new int[] {1, 17, 33}) cases.add(Arguments.of(type, c, 1, rows));
        }
        // F16 rows wider than 1024 are copied panel by panel (BlockGroups.panelWidth), the last panel narrower (2047:
        // odd, as 1021's one panel); a thread's rows then span several chunks of 16 in one call
        for (int c : new int[] {1021, 1280, 2047, 2560}) for (int rows : new int[] {1, 17, 33, 100}) cases.add(Arguments.of(GgmlType.F16, c, 1, rows));
        // small F16 batches go through that copy too, four inputs at a time and the rest one by one, over blocks of
        // 64 rows (BlockGroups.f16x4): 4, 6 and 9 inputs, up to 300 rows (a thread's share past one block)
        for (int c : new int[] {1021, 2047}) {
            for (int batch : new int[] {4, 6, 9}) for (int rows : new int[] {17, 100, 300}) cases.add(Arguments.of(GgmlType.F16, c, batch, rows));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} cols {1} batch {2} rows {3}")
    @MethodSource("cases")
    void vectorMatchesScalar(GgmlType type, int cols, int batch, int rows) {
        String failure = compare(Kernels.vector(), type, cols, batch, rows);
        assertEquals(null, failure);
    }

    /**
     * A small F16 batch over more rows than one block of 64 in a single call (BlockGroups.f16x4's row blocks; the
     * thread split cuts a matmul into smaller calls than that), 9 inputs: two passes of four and one alone.
     */
    @Test
    void f16SmallBatchInOneCallOverSeveralRowBlocks() {
        Kernels oneCall = new Kernels() {
            @Override
            public void matmul(Matrix w, float[] x, int batch, float[] out) {
                Activations in = new Activations(true);
                in.prepare(w.type(), x, batch, w.cols());
                w.groups().rows(0, w.rows(), in, batch, out);
            }

            @Override
            public void matmul(Matrix[] ws, float[] x, int batch, float[][] outs) {
                throw new UnsupportedOperationException();
            }
        };
        Random rnd = new Random(5);
        int rows = 200, cols = 1280, batch = 9;
        RandomWeights w = RandomWeights.of(GgmlType.F16, rows, cols, rnd);
        assertEquals(null, compare(oneCall, w, randomInput(rnd, batch * cols, 32), batch));
    }

    /**
     * Null when the kernels agree, else what differs; rows 0: 1 to 40 drawn from the case's seed. Also run by
     * {@link VectorWidthTest} in JVMs of other widths.
     */
    static String compare(Kernels vector, GgmlType type, int cols, int batch, int rows) {
        Random rnd = new Random(31L * type.ordinal() + 7L * cols + batch);
        int drawn = 1 + rnd.nextInt(40);
        if (rows == 0) rows = drawn;
        RandomWeights w = RandomWeights.of(type, rows, cols, rnd);
        float[] x = randomInput(rnd, batch * cols, type.blockSize() == 1 ? 32 : type.blockSize());
        return compare(vector, w, x, batch);
    }

    /**
     * Q8_0 at its largest products: quants of -128 and 127 against inputs that quantize to -127 and 127 with the
     * same signs, so every product is 16256 or 16129 and every block's sum 32 times that (the 16-bit products of
     * BlockGroups' generation loop are added in pairs: 32512 fits, three would not).
     */
    @ParameterizedTest(name = "batch {0}")
    @MethodSource("batches")
    void q8LargestProductsMatchScalar(int batch) {
        int rows = 5, cols = 1024;
        ByteBuffer buf = ByteBuffer.allocate((int) (GgmlType.Q8_0.bytesFor(cols) * rows)).order(ByteOrder.LITTLE_ENDIAN);
        float[] magnitude = new float[rows * cols], x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = i % cols % 3 == 0 ? 2.5f : -2.5f;
        for (int k = 0; k < rows * cols / 32; k++) {
            buf.putShort(Float.floatToFloat16(0.5f));
            for (int i = 0; i < 32; i++) buf.put((byte) ((k * 32 + i) % cols % 3 == 0 ? 127 : -128));
            Arrays.fill(magnitude, 32 * k, 32 * k + 32, 0.5f * 128);
        }
        Matrix m = new Matrix("extremes", GgmlType.Q8_0, MemorySegment.ofArray(buf.array()), rows, cols);
        assertEquals(null, compare(Kernels.vector(), new RandomWeights(m, magnitude), x, batch));
    }

    /**
     * Q4_0 at the 16-bit bound of BlockGroups' generation loop, where each short holds four rows' nibbles and its
     * int lane's other short four more rows': rows of nibbles 0 (q - 8 = -8) or 15 in a pattern that differs from
     * set to set (15 rows: the second unit of eight has seven; in the first, row 3 and the three rows the int's
     * shifts spill into its short all 15), so a row's sum is only right if the higher rows' and the spill are taken
     * off exactly; every input quant -127 but the last 8 of each block, 127. A lane's sum of (q - 8) * q_x then
     * reaches -8 * 127 * 24 + 8 * 127 * 8 = -16256 (q = 0), and its sum of nibbles times q_x, 15 * 127 * 16 =
     * 30480, wraps with the higher rows' added 16 to 4096 times. 512 columns are whole groups at every width, so
     * each row is a set of its own (no pairs, see BlockGroups.setRows).
     */
    @ParameterizedTest(name = "batch {0}")
    @MethodSource("batches")
    void q4_0LargestSumsMatchScalar(int batch) {
        int rows = 15, cols = 512;
        boolean[] fifteen = {true, false, true, true, true, true, true, false, false, true, false, false, true, true, false};
        ByteBuffer buf = ByteBuffer.allocate((int) (GgmlType.Q4_0.bytesFor(cols) * rows)).order(ByteOrder.LITTLE_ENDIAN);
        float[] magnitude = new float[rows * cols], x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = i % 32 >= 24 ? 2.5f : -2.5f;
        for (int k = 0; k < rows * cols / 32; k++) {
            buf.putShort(Float.floatToFloat16(1f));
            for (int i = 0; i < 16; i++) buf.put((byte) (fifteen[k * 32 / cols] ? 0xFF : 0));
            Arrays.fill(magnitude, 32 * k, 32 * k + 32, 8);
        }
        Matrix m = new Matrix("q4_0-extremes", GgmlType.Q4_0, MemorySegment.ofArray(buf.array()), rows, cols);
        assertEquals(null, compare(Kernels.vector(), new RandomWeights(m, magnitude), x, batch));
    }

    /**
     * Q5_K at the 16-bit bound of BlockGroups' generation loop: lanes of 16 quants 0 (q - 16 = -16) or 31 against 16
     * input quants of -127 or 127, every scale 63, so a lane's sum of (q - 16) * q_x reaches +-32512 (30480 for 31):
     * exact only if 16 times the lane's input sum is what is taken off. In the first super-block the inputs are -2.5
     * (the first of them Q8_K's largest magnitude, so they quantize to -127) but the last 16, 2.5 (127); the second
     * super-block's are zero. Each lane's error would then have the same sign of d_x, so none cancels.
     */
    @ParameterizedTest(name = "batch {0}")
    @MethodSource("batches")
    void q5KLargestSumsMatchScalar(int batch) {
        int rows = 4, cols = 512;
        ByteBuffer buf = ByteBuffer.allocate((int) (GgmlType.Q5_K.bytesFor(cols) * rows)).order(ByteOrder.LITTLE_ENDIAN);
        float[] magnitude = new float[rows * cols], x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = i % cols >= 256 ? 0 : i % cols >= 240 ? 2.5f : -2.5f;
        for (int k = 0; k < rows * cols / 256; k++) {
            byte quants = (byte) (k / 2 % 2 == 0 ? 0 : 0xFF);   // rows 0 and 2: every q 0; rows 1 and 3: every q 31
            buf.putShort(Float.floatToFloat16(1f)).putShort((short) 0);     // d 1, dmin 0
            for (int i = 0; i < 4; i++) buf.put((byte) 0xFF);      // scales 0-3: 63, and the top bits of scales 4-7
            for (int i = 0; i < 4; i++) buf.put((byte) 0);         // mins 0-3: 0, and the top bits of mins 4-7
            for (int i = 0; i < 4; i++) buf.put((byte) 0x0F);      // scales 4-7's low bits 15, mins 4-7's 0
            for (int i = 0; i < 32 + 128; i++) buf.put(quants);    // high bits, then nibbles
            Arrays.fill(magnitude, 256 * k, 256 * k + 256, 63 * 31);
        }
        Matrix m = new Matrix("q5K-extremes", GgmlType.Q5_K, MemorySegment.ofArray(buf.array()), rows, cols);
        assertEquals(null, compare(Kernels.vector(), new RandomWeights(m, magnitude), x, batch));
    }

    static int[] batches() {
        return new int[] {1, 2, 7};
    }

    private static String compare(Kernels vector, RandomWeights w, float[] x, int batch) {
        GgmlType type = w.matrix().type();
        int rows = w.matrix().rows(), cols = w.matrix().cols();
        float[] expected = new float[batch * rows], actual = new float[batch * rows];
        Kernels.scalar().matmul(w.matrix(), x, batch, expected);
        vector.matmul(w.matrix(), x, batch, actual);
        int block = type.blockSize() == 256 ? 256 : 32;
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
                double magnitude = 0;
                for (int i = 0; i < cols; i++) {
                    double xi = type.blockSize() == 1 ? Math.abs(x[b * cols + i]) * 1.01 : blockMax(x, b * cols + i / block * block, block);
                    magnitude += w.magnitude()[r * cols + i] * xi;
                }
                double tolerance = 2 * (cols + 16) * 0x1p-24 * magnitude;
                float e = expected[b * rows + r], a = actual[b * rows + r];
                if (!(Math.abs(e - a) <= tolerance)) {
                    return type + " cols " + cols + " batch " + batch + " rows " + rows + ": out[" + b + ", " + r + "] scalar " + e
                            + ", vector " + a + ", tolerance " + tolerance;
                }
            }
        }
        return null;
    }

    /**
     * Normal values by blocks of random scale, some blocks all zero, some subnormal, some with exact .5 ties. Scales
     * stay at most 100 so that Q8_1's f16 block sum (about the sum of 32 inputs) stays below 65504: past it ggml gets
     * infinity too, and the twins could disagree on inf versus NaN.
     */
    static float[] randomInput(Random rnd, int n, int block) {
        float[] x = new float[n];
        for (int b = 0; b < n; b += block) {
            int kind = rnd.nextInt(8);
            double scale = Math.pow(10, rnd.nextInt(7) - 4);
            for (int i = b; i < Math.min(n, b + block); i++) {
                x[i] = switch (kind) {
                    case 0 -> 0f;
                    case 1 -> Float.MIN_VALUE * rnd.nextInt(1000);
                    case 2 -> (rnd.nextInt(255) - 127) / 2f;             // amax 63.5: many quants land on .5
                    default -> (float) (rnd.nextGaussian() * scale);
                };
            }
        }
        return x;
    }

    private static double blockMax(float[] x, int from, int n) {
        double m = 0;
        for (int i = from; i < Math.min(x.length, from + n); i++) m = Math.max(m, Math.abs(x[i]));
        return m * 1.01;
    }
}
