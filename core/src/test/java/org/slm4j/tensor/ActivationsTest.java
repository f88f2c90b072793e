package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The input quantizers on crafted blocks, against values worked out by hand from ggml's AVX2 and reference code; the grouping for the regrouped kernels against its documented layout. */
class ActivationsTest {
    @Test
    void q8_0RoundsHalvesToEvenWithScaleAmaxOver127() {
        float[] x = new float[64];
        // block 0: amax 127, so d = 1 and the multiplier 127 / 127 = 1: ties go to the even neighbour
        float[] first = {127, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.4999998f, -127};
        System.arraycopy(first, 0, x, 0, first.length);
        // block 1: amax 2.75; 127 / 2.75 rounds up to 46.18182f and 1.375 times it is 63.500004f: quant 64.
        // (ggml's reference quantizer multiplies by 1 / d = 46.181816f instead, 63.499996f, and would store 63.)
        x[32] = 2.75f;
        x[33] = 1.375f;
        Activations a = new Activations();
        a.prepare(GgmlType.Q8_0, x, 2, 32);
        byte[] expected = new byte[64];
        byte[] firstQ = {127, 0, 2, 2, 0, -2, -2, 126, -126, 3, -127};
        System.arraycopy(firstQ, 0, expected, 0, firstQ.length);
        expected[32] = 127;
        expected[33] = 64;
        assertArrayEquals(expected, Arrays.copyOf(a.q, 64));
        assertEquals(1f, a.d[0]);
        assertEquals(Float.float16ToFloat((short) 0x258B), a.d[1]);   // 2.75 / 127 = 2^-6 * 1.3858: f16 0x258B
        assertEquals(64f, a.qf[33]);
    }

    @Test
    void q8_0OfZerosHasZeroScaleAndQuants() {
        Activations a = new Activations();
        a.prepare(GgmlType.Q4_0, new float[32], 1, 32);
        assertEquals(0f, a.d[0]);
        assertArrayEquals(new byte[32], Arrays.copyOf(a.q, 32));
    }

    @Test
    void q8_1SumUsesTheUnroundedScale() {
        float[] x = new float[32];
        x[0] = 1.75f;                                  // q 127
        x[1] = 1.75f * 100 / 127;                      // q 100
        Activations a = new Activations();
        a.prepare(GgmlType.Q4_1, x, 1, 32);
        assertEquals(127, a.q[0]);
        assertEquals(100, a.q[1]);
        float d = 1.75f / 127;
        float s = Float.float16ToFloat(Float.floatToFloat16(d * 227));
        assertEquals(s, a.s[0]);
        assertEquals(3.1289062f, s);                   // with the f16-rounded d it would be 3.1269531
        assertNotEquals(Float.float16ToFloat(Float.floatToFloat16(a.d[0] * 227)), a.s[0]);
    }

    @Test
    void q8_KTakesTheSignOfTheFirstLargestAndRoundsHalvesToEven() {
        float[] x = new float[512];
        // block 0: -127 comes first, so iscale = -127 / -127 = 1 and d = 1
        float[] first = {0.5f, -127, 1.5f, 2.5f, -2.5f, 127, 126.5f};
        System.arraycopy(first, 0, x, 0, first.length);
        // block 1: +127 comes first, so iscale = -1, d = -1: every quant flips sign
        float[] second = {127, 1.5f, -127, -0.5f};
        System.arraycopy(second, 0, x, 256, second.length);
        Activations a = new Activations();
        a.prepare(GgmlType.Q6_K, x, 1, 512);
        assertArrayEquals(new byte[] {0, -127, 2, 2, -2, 127, 126}, Arrays.copyOf(a.q, 7));
        assertArrayEquals(new byte[] {-127, -2, 127, 0}, Arrays.copyOfRange(a.q, 256, 260));
        assertEquals(1f, a.d[0]);
        assertEquals(-1f, a.d[1]);
        assertEquals(0 - 127 + 2 + 2 - 2 + 127 + 126, a.bsums[0]);
        assertEquals(-127 - 2 + 127, a.bsums[16]);
        assertEquals(0, a.bsums[1]);
    }

    @Test
    void f16AndBf16InputsAreRoundedToNearestEven() {
        float[] x = {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f};
        Activations a = new Activations();
        a.prepare(GgmlType.F16, x, 1, 4);
        assertArrayEquals(new float[] {1, 1 + 0x1p-9f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f}, Arrays.copyOf(a.f, 4));
        a.prepare(GgmlType.BF16, x, 1, 4);
        assertArrayEquals(new float[] {1, 1, 1, 1 + 0x1p-6f}, Arrays.copyOf(a.f, 4));
    }

    /** The Vector API quantizer stores the plain loop's bits: ties, subnormal blocks (whose multiplier overflows), NaN. */
    @Test
    void simdQ8MatchesThePlainLoopBitForBit() {
        Random rnd = new Random(5);
        float[] x = new float[32 * 40];
        for (int i = 0; i < x.length; i++) {
            int block = i / 32;
            x[i] = switch (block % 5) {
                case 0 -> (float) rnd.nextGaussian() * 3;
                case 1 -> rnd.nextInt(255) - 127 + (rnd.nextBoolean() ? 0.5f : 0f);        // amax 127: exact ties
                case 2 -> Float.MIN_VALUE * rnd.nextInt(4);                                  // 127 / amax is infinite
                case 3 -> i % 32 == 7 ? Float.NaN : (float) rnd.nextGaussian();
                default -> 0f;
            };
        }
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_1}) {
            Activations plain = new Activations(false), simd = new Activations(true);
            plain.prepare(t, x, 4, x.length / 4);
            simd.prepare(t, x, 4, x.length / 4);
            assertArrayEquals(plain.q, simd.q, t.toString());
            assertArrayEquals(plain.qf, simd.qf, t.toString());
            assertArrayEquals(plain.d, simd.d, t.toString());
            if (t == GgmlType.Q4_1) assertArrayEquals(plain.s, simd.s, t.toString());
        }
    }

    /**
     * The Vector API's Q8_K blocks hold the plain loop's bits: the first largest magnitude's sign (a tie of -m
     * before m and of m before -m), exact ties at amax 127, NaN skipped, an infinite iscale (subnormal blocks), an
     * inf element, all-zero and all-NaN blocks.
     */
    @Test
    void simdQ8KMatchesThePlainLoopBitForBit() {
        Random rnd = new Random(7);
        float[] x = new float[256 * 16];
        for (int i = 0; i < x.length; i++) {
            int block = i / 256, e = i % 256;
            x[i] = switch (block % 8) {
                case 0 -> (float) rnd.nextGaussian() * 3;
                case 1 -> rnd.nextInt(255) - 127 + (rnd.nextBoolean() ? 0.5f : 0f);
                case 2 -> e == 200 ? -9 : e == 201 ? 9 : (float) rnd.nextGaussian();
                case 3 -> e == 30 ? 9 : e == 31 ? -9 : e == 7 ? Float.NaN : (float) rnd.nextGaussian();
                case 4 -> Float.MIN_VALUE * (rnd.nextInt(5) - 2);
                case 5 -> e == 100 ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
                case 6 -> Float.NaN;
                default -> 0f;
            };
        }
        Activations plain = new Activations(false), simd = new Activations(true);
        plain.prepare(GgmlType.Q4_K, x, 4, x.length / 4);
        simd.prepare(GgmlType.Q4_K, x, 4, x.length / 4);
        assertArrayEquals(plain.q, simd.q);
        assertArrayEquals(plain.qf, simd.qf);
        assertArrayEquals(plain.d, simd.d);
        assertArrayEquals(plain.bsums, simd.bsums);
        assertTrue(plain.d[2] > 0 && plain.d[3] < 0, "blocks 2 and 3: the first of -9 and 9 sets d's sign");
    }

    /**
     * A prompt's input is quantized on the pool's threads, in blocks: it must hold the same bits as the same rows
     * quantized one at a time on the caller's thread (a batch of 48 rows of 2048, past the size that goes parallel).
     */
    @Test
    void aPromptQuantizedInParallelMatchesItsRowsOneByOne() {
        int cols = 2048, batch = 48;
        Random rnd = new Random(5);
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * (i % 97 == 0 ? 30 : 1);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_1, GgmlType.Q4_K}) {
            Activations all = new Activations();
            all.prepare(type, x, batch, cols);
            Activations one = new Activations();
            int nb = type == GgmlType.Q4_K ? cols / 256 : cols / 32;
            for (int b = 0; b < batch; b++) {
                one.prepare(type, Arrays.copyOfRange(x, b * cols, (b + 1) * cols), 1, cols);
                String at = type + " row " + b;
                assertArrayEquals(Arrays.copyOf(one.q, cols), Arrays.copyOfRange(all.q, b * cols, (b + 1) * cols), at);
                assertArrayEquals(Arrays.copyOf(one.d, nb), Arrays.copyOfRange(all.d, b * nb, (b + 1) * nb), at);
                if (type == GgmlType.Q4_1) {
                    assertArrayEquals(Arrays.copyOf(one.s, nb), Arrays.copyOfRange(all.s, b * nb, (b + 1) * nb), at);
                }
                if (type == GgmlType.Q4_K) {
                    assertArrayEquals(Arrays.copyOf(one.bsums, cols / 16),
                            Arrays.copyOfRange(all.bsums, b * cols / 16, (b + 1) * cols / 16), at);
                }
            }
        }
    }
    /**
     * The input grouped for the regrouped kernels (BlockGroups' layout), checked from the byte quants: quant i of
     * block b of group g at groupedXs[(g * e + i) * lanes + lane], Q4_0 and Q4_K in lanes 2b and 2b + 1 (each block
     * twice), Q5_K and Q6_K in BlockGroups.laneOf(b); the block's quant sum at groupedSums[g * lanes + b], 8 times
     * it in groupedSums8 at its lanes; blocks past the row's last zero. Q4_0's L + 3 blocks and, at 512 bits, Q5_K's
     * and Q6_K's 80 leave the last group partly padding, after a full group whose quants must not show through.
     */
    @Test
    void groupedInputPutsEachBlockInItsLanesAndZeroesThePadding() {
        Random rnd = new Random(11);
        Object[][] cases = {{GgmlType.Q4_0, 32 * (VectorKernels.L + 3)}, {GgmlType.Q4_K, 512}, {GgmlType.Q5_K, 1280}, {GgmlType.Q6_K, 1280}};
        for (Object[] c : cases) {
            GgmlType type = (GgmlType) c[0];
            int cols = (int) c[1];
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            Activations a = new Activations();
            a.prepare(type, x, 1, cols);
            int e = BlockGroups.laneElements(type), lanes = BlockGroups.shortLanes(type), per = BlockGroups.blocksPerGroup(type);
            int blocks = cols / e;
            boolean twins = lanes == 2 * per;
            for (int g = 0; g < BlockGroups.groupsFor(type, cols); g++) {
                for (int b = 0; b < per; b++) {
                    int k = g * per + b, sum = 0;
                    int[] at = twins ? new int[] {2 * b, 2 * b + 1} : new int[] {BlockGroups.laneOf(b)};
                    for (int i = 0; i < e; i++) {
                        int q = k < blocks ? a.q[e * k + i] : 0;
                        sum += q;
                        for (int lane : at) assertEquals(q, a.groupedXs[(g * e + i) * lanes + lane], type + " block " + k + " quant " + i);
                    }
                    assertEquals(sum, a.groupedSums[g * lanes + b], type + " block " + k + " sum");
                    for (int lane : at) assertEquals((short) (8 * sum), a.groupedSums8[g * lanes + lane], type + " block " + k + " sum times 8");
                }
            }
        }
    }
}
