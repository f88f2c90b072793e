package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One block of each weight type, packed by hand from the layouts in ggml-common.h with known quants and scales,
 * dequantizes to the values the layout defines; and multiplied by inputs that every rounding leaves exact (Q8 scale
 * 1), both kernels return the exact dot product.
 */
class HandBuiltBlocksTest {
    /** The block's bytes and the values it must decode to. */
    private record Block(GgmlType type, byte[] bytes, float[] values) {
        Matrix matrix() {
            return new Matrix("hand-built " + type, type, MemorySegment.ofArray(bytes), 1, values.length);
        }
    }

    private static ByteBuffer buffer(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static Block block(GgmlType type) {
        return switch (type) {
            case F32 -> {
                ByteBuffer b = buffer(12).putFloat(1.5f).putFloat(-0f).putFloat(Float.MIN_VALUE);
                yield new Block(type, b.array(), new float[] {1.5f, -0f, Float.MIN_VALUE});
            }
            case F16 -> {     // 1, the smallest subnormal 2^-24, the largest finite, -2
                ByteBuffer b = buffer(8).putShort((short) 0x3C00).putShort((short) 0x0001).putShort((short) 0x7BFF).putShort((short) 0xC000);
                yield new Block(type, b.array(), new float[] {1f, 0x1p-24f, 65504f, -2f});
            }
            case BF16 -> {    // 1, -123.5, the smallest subnormal 2^-133
                ByteBuffer b = buffer(6).putShort((short) 0x3F80).putShort((short) 0xC2F7).putShort((short) 0x0001);
                yield new Block(type, b.array(), new float[] {1f, -123.5f, 0x1p-133f});
            }
            case Q8_0 -> {    // d = 0.5, q[i] = 8i - 128
                ByteBuffer b = buffer(34).putShort((short) 0x3800);
                float[] v = new float[32];
                for (int i = 0; i < 32; i++) {
                    b.put((byte) (8 * i - 128));
                    v[i] = (8 * i - 128) * 0.5f;
                }
                yield new Block(type, b.array(), v);
            }
            case Q4_0 -> {    // d = 2; byte j: low nibble j (element j), high nibble 15 - j (element 16 + j); value (q - 8) * d
                ByteBuffer b = buffer(18).putShort((short) 0x4000);
                float[] v = new float[32];
                for (int j = 0; j < 16; j++) {
                    b.put((byte) (j | (15 - j) << 4));
                    v[j] = (j - 8) * 2f;
                    v[16 + j] = (15 - j - 8) * 2f;
                }
                yield new Block(type, b.array(), v);
            }
            case Q4_1 -> {    // d = 0.25, m = -1.5; nibbles as Q4_0; value q * d + m
                ByteBuffer b = buffer(20).putShort((short) 0x3400).putShort((short) 0xBE00);
                float[] v = new float[32];
                for (int j = 0; j < 16; j++) {
                    b.put((byte) (j | (15 - j) << 4));
                    v[j] = j * 0.25f - 1.5f;
                    v[16 + j] = (15 - j) * 0.25f - 1.5f;
                }
                yield new Block(type, b.array(), v);
            }
            case Q4_K -> q4K();
            case Q6_K -> q6K();
            default -> throw new AssertionError(type);
        };
    }

    /**
     * d = 1, dmin = 0.5; sub-block j (32 elements) has 6-bit scale sc[j] and min m[j]: value d * sc * q - dmin * m.
     * Packing: bytes 0..3 hold sc[0..3] in their low 6 bits and the top 2 bits of sc[4..7] above; bytes 4..7 the
     * same for m; bytes 8..11 the low 4 bits of sc[4..7] (low nibble) and m[4..7] (high nibble). The 32 bytes of
     * chunk c hold sub-block 2c in low nibbles and 2c + 1 in high nibbles: here q = (l + c) % 16 and (3l + c) % 16.
     */
    private static Block q4K() {
        int[] sc = {1, 2, 3, 63, 17, 33, 48, 60}, m = {0, 5, 10, 63, 16, 40, 1, 32};
        ByteBuffer b = buffer(144).putShort((short) 0x3C00).putShort((short) 0x3800);
        for (int j = 0; j < 4; j++) b.put((byte) (sc[j] | (sc[j + 4] >> 4) << 6));
        for (int j = 0; j < 4; j++) b.put((byte) (m[j] | (m[j + 4] >> 4) << 6));
        for (int j = 4; j < 8; j++) b.put((byte) ((sc[j] & 0xF) | (m[j] & 0xF) << 4));
        float[] v = new float[256];
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = (l + c) % 16, hi = (3 * l + c) % 16;
                b.put((byte) (lo | hi << 4));
                v[64 * c + l] = sc[2 * c] * lo - 0.5f * m[2 * c];
                v[64 * c + 32 + l] = sc[2 * c + 1] * hi - 0.5f * m[2 * c + 1];
            }
        }
        assertEquals(60 * 2 - 0.5f * 32, v[3 * 64 + 32 + 5]);       // sub-block 7, q = (15 + 3) % 16
        return new Block(GgmlType.Q4_K, b.array(), v);
    }

    /**
     * d = 0.25; 16 sub-blocks of 16 with int8 scales +-(j + 1), the last -128; element e holds the 6-bit u = 7e % 64:
     * value d * scale * (u - 32). Half h of 128 elements: ql[64h + l] holds the low 4 bits of elements 128h + l (low
     * nibble) and 128h + 64 + l (high), ql[64h + 32 + l] those of 128h + 32 + l and 128h + 96 + l, and qh[32h + l]
     * the top 2 bits of those four elements, in bit pairs 0, 2, 4, 6 in the order l, 32 + l, 64 + l, 96 + l.
     */
    private static Block q6K() {
        byte[] bytes = new byte[210];
        float[] v = new float[256];
        int[] scale = new int[16];
        for (int j = 0; j < 16; j++) scale[j] = j == 15 ? -128 : (j % 2 == 0 ? 1 : -1) * (j + 1);
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int e = 128 * h + l;
                int u0 = 7 * e % 64, u1 = 7 * (e + 32) % 64, u2 = 7 * (e + 64) % 64, u3 = 7 * (e + 96) % 64;
                bytes[64 * h + l] = (byte) ((u0 & 0xF) | (u2 & 0xF) << 4);
                bytes[64 * h + 32 + l] = (byte) ((u1 & 0xF) | (u3 & 0xF) << 4);
                bytes[128 + 32 * h + l] = (byte) (u0 >> 4 | (u1 >> 4) << 2 | (u2 >> 4) << 4 | (u3 >> 4) << 6);
            }
        }
        for (int j = 0; j < 16; j++) bytes[192 + j] = (byte) scale[j];
        bytes[208] = 0x00;                                             // f16 0.25 = 0x3400, little-endian
        bytes[209] = 0x34;
        for (int e = 0; e < 256; e++) v[e] = 0.25f * scale[e / 16] * (7 * e % 64 - 32);
        assertEquals(-8f, v[0]);
        assertEquals(-800f, v[255]);                                   // u = 57, scale -128
        return new Block(GgmlType.Q6_K, bytes, v);
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"})
    void dequantizesToTheValuesTheLayoutDefines(GgmlType type) {
        Block b = block(type);
        float[] out = new float[b.values().length + 2];
        b.matrix().dequantizeRow(0, out, 1);
        float[] got = new float[b.values().length];
        System.arraycopy(out, 1, got, 0, got.length);
        assertArrayEquals(b.values(), got);
    }

    /**
     * Inputs of whole numbers whose block maximum is 127 (for Q8_K: -127 comes first) quantize with scale exactly 1
     * and quants equal to themselves, and every product and partial sum here is exact in float: both kernels must
     * return exactly sum(w * x).
     */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"})
    void dotProductsOfExactInputsAreExact(GgmlType type) {
        Block b = block(type);
        int n = b.values().length;
        float[] x = new float[2 * n];
        for (int i = 0; i < x.length; i++) x[i] = (i * 37 + 11) % 15 - 7;   // small: Q8_1's f16 block sum stays exact
        for (int i = 0; i < x.length; i += type.blockSize()) x[i] = -127;
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
            float[] out = new float[2];
            k.matmul(b.matrix(), x, 2, out);
            for (int batch = 0; batch < 2; batch++) {
                double exact = 0;
                for (int i = 0; i < n; i++) exact += (double) b.values()[i] * x[batch * n + i];
                assertEquals(exact, out[batch], 0, k + " " + type + " batch " + batch);
            }
        }
    }
}
