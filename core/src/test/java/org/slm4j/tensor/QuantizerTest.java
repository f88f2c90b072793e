package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slm4j.testing.Shared;

/**
 * The quantizer against llama-quantize: the shared fixtures' Q8_0 / Q4_0 / BF16 / Q4_1 / Q4_K / Q6_K files were made by
 * llama-quantize from their F32 twin (the F16 ones by gguf-py, rounding the same way), so quantizing the F32 rows must give the same bytes; plus blocks worked out by hand.
 */
class QuantizerTest {
    private static final String DIR = "fixtures/llamacpp/";

    @ParameterizedTest
    @CsvSource({
        "tiny-llama-q8_0.gguf,    tiny-llama-f32.gguf",
        "tiny-llama-q4_0.gguf,    tiny-llama-f32.gguf",
        "tiny-llama-f16.gguf,     tiny-llama-f32.gguf",
        "tiny-stablelm-q4_0.gguf, tiny-stablelm-f32.gguf",
        "tiny-stablelm-q8_0.gguf, tiny-stablelm-f32.gguf",
        "tiny256q-llama-bf16.gguf,   tiny256q-llama-f32.gguf",
        "tiny256q-llama-q4_1.gguf,   tiny256q-llama-f32.gguf",
        "tiny256q-llama-q4_k_m.gguf, tiny256q-llama-f32.gguf",
        "tiny256q-llama-q6_k.gguf,   tiny256q-llama-f32.gguf",
    })
    void quantizesAsLlamaQuantizeDid(String quantized, String original) throws IOException {
        try (var q = new TestGgufTensors(Shared.file(DIR + quantized)); var f = new TestGgufTensors(Shared.file(DIR + original))) {
            Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
            for (String name : q.names()) {
                Matrix m = q.matrix(name), o = f.matrix(name);
                if (m.type() == GgmlType.F32) continue;
                seen.add(m.type());
                float[] row = new float[o.cols()];
                ByteBuffer mine = ByteBuffer.allocate((int) m.rowBytes());
                for (int r = 0; r < o.rows(); r++) {
                    o.dequantizeRow(r, row, 0);
                    mine.clear();
                    Quantizer.quantizeRow(m.type(), row, 0, row.length, mine);
                    byte[] theirs = m.data().asSlice(r * m.rowBytes(), m.rowBytes()).toArray(ValueLayout.JAVA_BYTE);
                    assertArrayEquals(theirs, mine.array(), name + " row " + r);
                }
            }
            assertTrue(!seen.isEmpty(), quantized + " has quantized matrices");
        }
    }

    @Test
    void q8_0BlockByHand() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = (i - 16) * 0.25f;   // amax 4: d = 4/127, q = x * 31.75
        x[1] = -0.0f;
        MemorySegment s = quantize(GgmlType.Q8_0, x);
        assertEquals(HalfFloats.floatToF16(4f / 127), s.get(Blocks.SHORT, 0));
        assertEquals(-127, s.get(ValueLayout.JAVA_BYTE, 2));                 // -4 * 31.75
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(-16, s.get(ValueLayout.JAVA_BYTE, 2 + 14));            // -0.5 * 31.75 = -15.875
        assertEquals(8, s.get(ValueLayout.JAVA_BYTE, 2 + 17));              // 0.25 * 31.75 = 7.9375
        assertEquals(119, s.get(ValueLayout.JAVA_BYTE, 2 + 31));            // 3.75 * 31.75 = 119.0625
    }

    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127;      // d = 1, id = 1: quants equal the inputs
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.49999997f;
        MemorySegment s = quantize(GgmlType.Q8_0, x);
        assertEquals(3, s.get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(-3, s.get(ValueLayout.JAVA_BYTE, 4));
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 5));
    }

    @Test
    void q4_0BlockByHand() {
        float[] x = new float[32];
        x[0] = -8;          // the signed extreme: d = -8 / -8 = 1, q = x + 8.5 truncated
        x[16] = 7.9f;       // 16.4 -> 16, clamped to 15
        x[1] = 0.4f;        // 8.9 -> 8
        x[17] = -0.6f;      // 7.9 -> 7
        x[2] = 8;           // same magnitude as x[0] but later: x[0] keeps the sign, 16.5 -> 15
        MemorySegment s = quantize(GgmlType.Q4_0, x);
        assertEquals(HalfFloats.floatToF16(1f), s.get(Blocks.SHORT, 0));
        assertEquals(0 | 15 << 4, s.get(ValueLayout.JAVA_BYTE, 2) & 0xFF);
        assertEquals(8 | 7 << 4, s.get(ValueLayout.JAVA_BYTE, 3) & 0xFF);
        assertEquals(15 | 8 << 4, s.get(ValueLayout.JAVA_BYTE, 4) & 0xFF);
        assertEquals(8 | 8 << 4, s.get(ValueLayout.JAVA_BYTE, 5) & 0xFF);    // zeros
    }

    @Test
    void zeroBlocksHaveZeroScale() {
        MemorySegment s = quantize(GgmlType.Q4_0, new float[32]);
        assertEquals((short) 0x8000, s.get(Blocks.SHORT, 0));            // 0 / -8 is -0 in C as in Java
        assertEquals(0x88, s.get(ValueLayout.JAVA_BYTE, 2) & 0xFF);
    }

    @Test
    void rejectsWhatItCannotWrite() {
        ByteBuffer b = ByteBuffer.allocate(1024);
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantizeRow(GgmlType.Q2_K, new float[256], 0, 256, b));
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantizeRow(GgmlType.Q8_0, new float[48], 0, 48, b));
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantizeRow(GgmlType.F32, new float[512], 0, 512, b));
    }

    /**
     * Quantize, dequantize with {@link Matrix}, and bound the error: per element from each 32-block's own scale where the
     * rounding rule gives one, by the root mean square for the k-quants, whose scales come out of a search.
     */
    @ParameterizedTest
    @CsvSource({"F16, 0", "BF16, 0", "Q8_0, 0", "Q4_0, 0", "Q4_1, 0", "Q5_0, 0", "Q5_1, 0", "Q4_K, 0.09", "Q5_K, 0.04", "Q6_K, 0.025"})
    void roundTripErrorIsBounded(GgmlType type, double rmsBound) {
        var rnd = new java.util.Random(7);
        int n = 1024;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * (i < 512 ? 1 : 1e-3) + (i >= 768 ? 0.5 : 0));
        x[3] = 9;          // an outlier in the first block
        x[300] = -4;
        for (int i = 640; i < 672; i++) x[i] = 0;   // a zero block
        Matrix m = new Matrix("x", type, quantize(type, x), 1, n);
        float[] y = new float[n];
        m.dequantizeRow(0, y, 0);
        double sumErr2 = 0, sumX2 = 0;
        for (int b = 0; b < n; b += 32) {
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE, amax = 0;
            for (int i = b; i < b + 32; i++) {
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
                amax = Math.max(amax, Math.abs(x[i]));
            }
            for (int i = b; i < b + 32; i++) {
                double err = Math.abs(y[i] - x[i]);
                double bound = switch (type) {
                    case F16 -> Math.abs(x[i]) * 0x1p-11 + 0x1p-24;
                    case BF16 -> Math.abs(x[i]) * 0x1p-8;
                    // half a step plus d's F16 rounding, relative or (tiny blocks: subnormal d) absolute 2^-25 per level
                    case Q8_0 -> amax / 127 * 0.57 + 127 * 0x1p-25;
                    case Q4_0 -> amax / 8 * 1.01 + 8 * 0x1p-25;              // the opposite sign's extreme clamps to 7·d
                    case Q4_1 -> (max - min) / 15 * 0.6 + Math.abs(min) * 0x1p-10 + 16 * 0x1p-25;
                    case Q5_0 -> amax / 16 * 1.01 + 16 * 0x1p-25;
                    case Q5_1 -> (max - min) / 31 * 0.6 + Math.abs(min) * 0x1p-10 + 32 * 0x1p-25;
                    default -> Double.POSITIVE_INFINITY;
                };
                assertTrue(err <= bound, type + " element " + i + ": " + x[i] + " came back as " + y[i]);
                sumErr2 += err * err;
                sumX2 += (double) x[i] * x[i];
            }
        }
        for (int i = 640; i < 672; i++) assertTrue(y[i] == 0, type + ": a zero block stays zero, got " + y[i]);
        if (rmsBound > 0) assertTrue(Math.sqrt(sumErr2 / sumX2) < rmsBound, type + " relative rms error " + Math.sqrt(sumErr2 / sumX2));
    }

    /**
     * The Q5 types decoded here from ggml's block layouts (a fifth bit per element in a separate plane), apart from
     * {@link Matrix#dequantizeRow}, which must agree bit for bit; the same bounds as their 4-bit twins at twice the levels.
     */
    @ParameterizedTest
    @CsvSource({"Q5_0", "Q5_1", "Q5_K"})
    void q5RoundTripThroughGgmlsLayout(GgmlType type) {
        var rnd = new java.util.Random(11);
        float[] x = new float[512];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() + (i >= 256 ? 0.7 : 0));
        x[5] = -6;
        MemorySegment q = quantize(type, x);
        float[] y = new float[x.length];
        new Matrix("x", type, q, 1, x.length).dequantizeRow(0, y, 0);
        for (int i = 0; i < x.length; i++) assertEquals(q5(type, q, i), y[i], type + " element " + i);
        double sumErr2 = 0, sumX2 = 0;
        for (int b = 0; b < x.length; b += 32) {
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE, amax = 0;
            for (int i = b; i < b + 32; i++) {
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
                amax = Math.max(amax, Math.abs(x[i]));
            }
            for (int i = b; i < b + 32; i++) {
                double err = Math.abs(q5(type, q, i) - x[i]);
                double bound = switch (type) {
                    case Q5_0 -> amax / 16 * 1.01;
                    case Q5_1 -> (max - min) / 31 * 0.6 + Math.abs(min) * 0x1p-10;
                    default -> Double.POSITIVE_INFINITY;
                };
                assertTrue(err <= bound, type + " element " + i + ": " + x[i] + " came back as " + q5(type, q, i));
                sumErr2 += err * err;
                sumX2 += (double) x[i] * x[i];
            }
        }
        assertTrue(Math.sqrt(sumErr2 / sumX2) < (type == GgmlType.Q5_K ? 0.04 : 0.05), type + " rms " + Math.sqrt(sumErr2 / sumX2));
    }

    /** Element i of a row of Q5 blocks, decoded as ggml's dequantize_row_q5_* lays them out. */
    private static float q5(GgmlType type, MemorySegment q, int i) {
        long blk = (long) (i / type.blockSize()) * type.blockBytes();
        int k = i % type.blockSize();
        float d = HalfFloats.f16ToFloat(q.get(Blocks.SHORT, blk));
        if (type != GgmlType.Q5_K) {
            int head = type == GgmlType.Q5_0 ? 2 : 4;
            int qh = q.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), blk + head);
            int nib = q.get(ValueLayout.JAVA_BYTE, blk + head + 4 + k % 16) >> (k < 16 ? 0 : 4) & 0xf;
            int level = nib | (qh >>> k & 1) << 4;
            return type == GgmlType.Q5_0 ? (level - 16) * d : level * d + HalfFloats.f16ToFloat(q.get(Blocks.SHORT, blk + 2));
        }
        float dmin = HalfFloats.f16ToFloat(q.get(Blocks.SHORT, blk + 2));
        int sub = k / 32, chunk = k / 64, l = k % 32;
        int[] sc = new int[12];
        for (int j = 0; j < 12; j++) sc[j] = q.get(ValueLayout.JAVA_BYTE, blk + 4 + j) & 0xff;
        int scale = sub < 4 ? sc[sub] & 63 : (sc[sub + 4] & 0xf) | (sc[sub - 4] >> 6) << 4;
        int min = sub < 4 ? sc[sub + 4] & 63 : (sc[sub + 4] >> 4) | (sc[sub] >> 6) << 4;
        int qh = q.get(ValueLayout.JAVA_BYTE, blk + 16 + l) & 0xff;
        int ql = q.get(ValueLayout.JAVA_BYTE, blk + 48 + 32 * chunk + l) & 0xff;
        boolean high = k % 64 >= 32;
        int level = (high ? ql >> 4 : ql & 0xf) | (qh >> (2 * chunk + (high ? 1 : 0)) & 1) << 4;
        return d * scale * level - dmin * min;
    }

    @Test
    void q5_0BlockByHand() {
        float[] x = new float[32];
        x[0] = -16;         // the signed extreme: d = 1, level = trunc(x + 16.5)
        x[1] = 15.2f;       // 31.7 -> 31
        x[17] = 0.4f;       // 16.9 -> 16: fifth bit set at bit 17
        x[18] = -0.6f;      // 15.9 -> 15
        MemorySegment s = quantize(GgmlType.Q5_0, x);
        assertEquals(HalfFloats.floatToF16(1f), s.get(Blocks.SHORT, 0));
        int qh = s.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2);
        // levels 16 (zeros) everywhere except element 0 (0), 1 (31) and 18 (15): fifth bits all but those of 0 and 18
        assertEquals(~(1 | 1 << 18), qh);
        assertEquals(0 | 0 << 4, s.get(ValueLayout.JAVA_BYTE, 6) & 0xFF);          // elements 0 and 16 (level 16)
        assertEquals(15 | 0 << 4, s.get(ValueLayout.JAVA_BYTE, 7) & 0xFF);         // 31 and 16 (element 17)
        assertEquals(0 | 15 << 4, s.get(ValueLayout.JAVA_BYTE, 8) & 0xFF);         // 16 and 15
    }

    @Test
    void q4_1KeepsTheFirstOfEqualZerosAsItsMin() {
        float[] x = new float[32];
        x[0] = 1;
        x[1] = -0.0f;   // not below the +0 of x[2..]: ggml's strict comparison keeps the first minimum seen
        x[2] = 0;
        x[3] = -0.0f;
        float[] y = x.clone();
        y[0] = -0.0f;
        y[1] = 1;
        MemorySegment a = quantize(GgmlType.Q4_1, x), b = quantize(GgmlType.Q4_1, y);
        assertEquals((short) 0x8000, a.get(Blocks.SHORT, 2), "m = -0 when -0 came first");
        assertEquals((short) 0x8000, b.get(Blocks.SHORT, 2));
        x[1] = 0;
        assertEquals((short) 0, quantize(GgmlType.Q4_1, x).get(Blocks.SHORT, 2), "m = +0 when +0 came first");
    }

    @Test
    void kQuantsOfZeroAreZeroBytes() {
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q6_K}) {
            byte[] b = quantize(t, new float[256]).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(new byte[t.blockBytes()], b, t.toString());
        }
    }

    private static MemorySegment quantize(GgmlType type, float[] x) {
        ByteBuffer b = ByteBuffer.allocate((int) type.bytesFor(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.quantizeRow(type, x, 0, x.length, b);
        assertEquals(0, b.remaining());
        return MemorySegment.ofArray(b.array());
    }
}
