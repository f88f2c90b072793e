package org.slm4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The byte layouts of the weight blocks (ggml-common.h), read in place from a file mapping, and their
 * dequantization. Both kernels read blocks through these offsets and helpers.
 *
 * <pre>
 * Q8_0  34 bytes: f16 d; int8 q[32]                                  x[i] = q[i] * d
 * Q4_0  18 bytes: f16 d; u8 qs[16]                                   x[i] = (nibble(i) - 8) * d
 * Q4_1  20 bytes: f16 d; f16 m; u8 qs[16]                            x[i] = nibble(i) * d + m
 *       nibble(i): low nibble of qs[i] for i &lt; 16, high nibble of qs[i - 16] otherwise
 * Q4_K 144 bytes: f16 d; f16 dmin; u8 scales[12]; u8 qs[128]        8 sub-blocks of 32
 *       x[64c + l] = d * sc[2c] * lo(qs[32c + l]) - dmin * m[2c]           (l &lt; 32)
 *       x[64c + 32 + l] = d * sc[2c+1] * hi(qs[32c + l]) - dmin * m[2c+1]
 *       sc, m: 6-bit, packed in scales (see {@link #q4kScaleMin})
 * Q5_0  22 bytes: f16 d; u32 qh; u8 qs[16]                           x[i] = (q5(i) - 16) * d
 * Q5_1  24 bytes: f16 d; f16 m; u32 qh; u8 qs[16]                    x[i] = q5(i) * d + m
 *       q5(i) = nibble(i) | (bit i of qh) &lt;&lt; 4   (see {@link #q5})
 * Q5_K 176 bytes: f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]   as Q4_K, the quant q5k(e) = nibble
 *       | (bit e / 32 of qh[e % 32]) &lt;&lt; 4   (see {@link #q5k})
 * Q6_K 210 bytes: u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d      16 sub-blocks of 16
 *       x[i] = d * scales[i / 16] * (q6(i) - 32)   (see {@link #q6k})
 * </pre>
 */
final class Blocks {
    private Blocks() {}

    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final int QK = 32;         // elements per Q8_0 / Q4_* / Q5_* block
    static final int QK_K = 256;      // elements per Q4_K / Q5_K / Q6_K super-block
    static final int Q4K_SCALES = 4, Q4K_QS = 16;
    static final int Q5K_QH = 16, Q5K_QS = 48;
    static final int Q6K_QH = 128, Q6K_SCALES = 192, Q6K_D = 208;

    static float f16(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(SHORT, offset));
    }

    static int u8(MemorySegment s, long offset) {
        return s.get(JAVA_BYTE, offset) & 0xFF;
    }

    /** {@link #f16} of a block's bytes copied to an array. */
    static float f16(byte[] a, int offset) {
        return Float.float16ToFloat((short) (a[offset] & 0xFF | a[offset + 1] << 8));
    }

    /**
     * Q4_K sub-block {@code j}'s 6-bit scale (bits 0..7 of the result) and min (bits 8..15). Sub-blocks 0..3 keep
     * them in the low 6 bits of bytes j and j + 4; sub-blocks 4..7 keep their low 4 bits in byte j + 4 (scale low,
     * min high) and their top 2 bits in the top bits of bytes j - 4 (scale) and j (min).
     */
    static int q4kScaleMin(MemorySegment s, long scales, int j) {
        return q4kScaleMin(j, u8(s, scales + j), u8(s, scales + j + 4), j < 4 ? 0 : u8(s, scales + j - 4));
    }

    /** {@link #q4kScaleMin} of a block's bytes copied to an array. */
    static int q4kScaleMin(byte[] a, int scales, int j) {
        return q4kScaleMin(j, a[scales + j] & 0xFF, a[scales + j + 4] & 0xFF, j < 4 ? 0 : a[scales + j - 4] & 0xFF);
    }

    /** From the scale bytes j, j + 4 and (j >= 4) j - 4. */
    private static int q4kScaleMin(int j, int bj, int bj4, int bjm4) {
        if (j < 4) return (bj & 63) | (bj4 & 63) << 8;
        int sc = (bj4 & 0xF) | (bjm4 >>> 6) << 4;
        int m = (bj4 >>> 4) | (bj >>> 6) << 4;
        return sc | m << 8;
    }

    /** Q4_K element {@code e} (0..255) of the block at {@code block}: its 4-bit quant, 0..15. */
    static int q4k(MemorySegment s, long block, int e) {
        int b = u8(s, block + Q4K_QS + 32 * (e >>> 6) + (e & 31));
        return (e & 32) == 0 ? b & 0xF : b >>> 4;
    }

    /**
     * The unsigned quant (0..15, or 0..31 for Q5) of element {@code i} (0..31) of a Q4_0, Q4_1, Q5_0 or Q5_1 block
     * whose quant bytes (for Q5 its u32 of fifth bits, then the nibbles) start at {@code qs}.
     */
    static int quant32(MemorySegment s, long qs, int i, boolean fiveBits) {
        if (fiveBits) return q5(s, qs, i);
        int b = u8(s, qs + (i & 15));
        return i < 16 ? b & 0xF : b >>> 4;
    }

    /**
     * Q5_0 / Q5_1 element {@code i} (0..31) of the block whose u32 of fifth bits is at {@code qh} (its nibbles
     * follow): 0..31.
     */
    static int q5(MemorySegment s, long qh, int i) {
        int b = u8(s, qh + 4 + (i & 15));
        int nibble = i < 16 ? b & 0xF : b >>> 4;
        return nibble | (u8(s, qh + (i >>> 3)) >>> (i & 7) & 1) << 4;
    }

    /** Q5_K element {@code e} (0..255) of the block at {@code block}: its 5-bit quant, 0..31. */
    static int q5k(MemorySegment s, long block, int e) {
        int b = u8(s, block + Q5K_QS + 32 * (e >>> 6) + (e & 31));
        int nibble = (e & 32) == 0 ? b & 0xF : b >>> 4;
        return nibble | (u8(s, block + Q5K_QH + (e & 31)) >>> (e >>> 5) & 1) << 4;
    }

    /**
     * Q6_K element {@code e} (0..255) of the block at {@code block}, minus the offset 32: -32..31. Each half of
     * 128 elements uses 64 bytes of ql and 32 of qh; its quarter k = 0..3 takes low nibbles of ql[l] (k = 0) and
     * ql[32 + l] (k = 1), then their high nibbles (k = 2, 3), and bits 2k..2k+1 of qh[l] as the top two bits.
     */
    static int q6k(MemorySegment s, long block, int e) {
        int half = e >>> 7, k = (e >>> 5) & 3, l = e & 31;
        int ql = u8(s, block + 64 * half + 32 * (k & 1) + l);
        int low = k < 2 ? ql & 0xF : ql >>> 4;
        int high = (u8(s, block + Q6K_QH + 32 * half + l) >>> (2 * k)) & 3;
        return (low | high << 4) - 32;
    }

    /** Writes the {@code n} elements of type {@code t} starting at byte {@code offset} to dst[dstOffset ..]. */
    static void dequantize(GgmlType t, MemorySegment s, long offset, int n, float[] dst, int dstOffset) {
        switch (t) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst[dstOffset + i] = s.get(FLOAT, offset + 4L * i);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst[dstOffset + i] = f16(s, offset + 2L * i);
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst[dstOffset + i] = HalfFloats.bf16ToFloat(s.get(SHORT, offset + 2L * i));
            }
            case Q8_0 -> {
                for (int k = 0; k < n / QK; k++) {
                    long block = offset + 34L * k;
                    float d = f16(s, block);
                    for (int i = 0; i < QK; i++) dst[dstOffset + QK * k + i] = s.get(JAVA_BYTE, block + 2 + i) * d;
                }
            }
            case Q4_0, Q4_1, Q5_0, Q5_1 -> {   // the *_1 types add a min; the others are centred on 8 or 16
                boolean withMin = t == GgmlType.Q4_1 || t == GgmlType.Q5_1, five = t == GgmlType.Q5_0 || t == GgmlType.Q5_1;
                int centre = withMin ? 0 : five ? 16 : 8;
                for (int k = 0; k < n / QK; k++) {
                    long block = offset + (long) t.blockBytes() * k;
                    float d = f16(s, block), m = withMin ? f16(s, block + 2) : 0;
                    long qs = block + (withMin ? 4 : 2);
                    for (int i = 0; i < QK; i++) {
                        int q = quant32(s, qs, i, five) - centre;
                        dst[dstOffset + QK * k + i] = withMin ? q * d + m : q * d;
                    }
                }
            }
            case Q4_K -> {
                for (int k = 0; k < n / QK_K; k++) {
                    long block = offset + 144L * k;
                    float d = f16(s, block), dmin = f16(s, block + 2);
                    for (int j = 0; j < 8; j++) {
                        int sm = q4kScaleMin(s, block + Q4K_SCALES, j);
                        float scale = d * (sm & 0xFF), min = dmin * (sm >>> 8);
                        for (int l = 0; l < 32; l++) {
                            int e = 32 * j + l;
                            dst[dstOffset + QK_K * k + e] = scale * q4k(s, block, e) - min;
                        }
                    }
                }
            }
            case Q5_K -> {
                for (int k = 0; k < n / QK_K; k++) {
                    long block = offset + 176L * k;
                    float d = f16(s, block), dmin = f16(s, block + 2);
                    for (int j = 0; j < 8; j++) {
                        int sm = q4kScaleMin(s, block + Q4K_SCALES, j);
                        float scale = d * (sm & 0xFF), min = dmin * (sm >>> 8);
                        for (int e = 32 * j; e < 32 * j + 32; e++) dst[dstOffset + QK_K * k + e] = scale * q5k(s, block, e) - min;
                    }
                }
            }
            case Q6_K -> {
                for (int k = 0; k < n / QK_K; k++) {
                    long block = offset + 210L * k;
                    float d = f16(s, block + Q6K_D);
                    for (int e = 0; e < QK_K; e++) {
                        float scale = d * s.get(JAVA_BYTE, block + Q6K_SCALES + e / 16);
                        dst[dstOffset + QK_K * k + e] = scale * q6k(s, block, e);
                    }
                }
            }
            default -> throw new UnsupportedOperationException("no kernel for weight type " + t);
        }
    }
}
