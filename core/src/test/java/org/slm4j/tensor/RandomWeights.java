package org.slm4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Random weight matrices for the twin tests, with boundary values mixed in: zero and subnormal F16/BF16 values and
 * block scales, the largest finite F16, int8 -128, every nibble and fifth bit. Also records, per element, an upper bound of the
 * magnitude of the terms it contributes to a dot product (|q * scale| plus any |min|), for tolerances.
 */
record RandomWeights(Matrix matrix, float[] magnitude) {

    static RandomWeights of(GgmlType type, int rows, int cols, Random rnd) {
        int blocks = rows * cols / type.blockSize();
        ByteBuffer buf = ByteBuffer.allocate((int) (type.bytesFor(cols) * rows)).order(ByteOrder.LITTLE_ENDIAN);
        float[] mag = new float[rows * cols];
        for (int k = 0; k < blocks; k++) {
            int e = k * type.blockSize();
            switch (type) {
                case F32 -> {
                    float v = randomFloat(rnd);
                    buf.putFloat(v);
                    mag[e] = Math.abs(v);
                }
                case F16 -> {
                    short h = randomF16(rnd);
                    buf.putShort(h);
                    mag[e] = Math.abs(Float.float16ToFloat(h));
                }
                case BF16 -> {
                    short h = randomBf16(rnd);
                    buf.putShort(h);
                    mag[e] = Math.abs(HalfFloats.bf16ToFloat(h));
                }
                case Q8_0 -> {
                    float d = scale(buf, rnd);
                    for (int i = 0; i < 32; i++) buf.put((byte) rnd.nextInt());
                    fill(mag, e, 32, d * 128);
                }
                case Q4_0, Q4_1 -> {
                    float d = scale(buf, rnd), m = type == GgmlType.Q4_1 ? scale(buf, rnd) : 0;
                    for (int i = 0; i < 16; i++) buf.put((byte) rnd.nextInt());
                    fill(mag, e, 32, d * 15 + m);
                }
                case Q4_K -> {
                    float d = scale(buf, rnd), dmin = scale(buf, rnd);
                    for (int i = 0; i < 12 + 128; i++) buf.put((byte) rnd.nextInt());
                    fill(mag, e, 256, d * 63 * 15 + dmin * 63);
                }
                case Q5_0, Q5_1 -> {
                    float d = scale(buf, rnd), m = type == GgmlType.Q5_1 ? scale(buf, rnd) : 0;
                    for (int i = 0; i < 4 + 16; i++) buf.put((byte) rnd.nextInt());
                    fill(mag, e, 32, d * 31 + m);
                }
                case Q5_K -> {
                    float d = scale(buf, rnd), dmin = scale(buf, rnd);
                    for (int i = 0; i < 12 + 32 + 128; i++) buf.put((byte) rnd.nextInt());
                    fill(mag, e, 256, d * 63 * 31 + dmin * 63);
                }
                case Q6_K -> {
                    for (int i = 0; i < 128 + 64 + 16; i++) buf.put((byte) rnd.nextInt());
                    fill(mag, e, 256, scale(buf, rnd) * 128 * 32);
                }
                default -> throw new AssertionError(type);
            }
        }
        Matrix m = new Matrix(type + "-random", type, MemorySegment.ofArray(buf.array()), rows, cols);
        return new RandomWeights(m, mag);
    }

    /** A block scale as f16 (written to buf); returns its magnitude. Zero, subnormal and the largest finite included. */
    private static float scale(ByteBuffer buf, Random rnd) {
        short h = switch (rnd.nextInt(16)) {
            case 0 -> 0;
            case 1 -> (short) (1 + rnd.nextInt(0x3ff));                   // subnormal
            case 2 -> (short) 0x7bff;                                     // 65504
            default -> (short) (rnd.nextInt(2) << 15 | (8 + rnd.nextInt(12)) << 10 | rnd.nextInt(1 << 10));
        };
        buf.putShort(h);
        return Math.abs(Float.float16ToFloat(h));
    }

    private static short randomF16(Random rnd) {
        int sign = rnd.nextInt(2) << 15;
        return (short) switch (rnd.nextInt(10)) {
            case 0 -> sign;                                               // +-0
            case 1 -> sign | 1 + rnd.nextInt(0x3ff);                      // subnormal
            case 2 -> sign | 0x7bff;                                      // largest finite
            default -> sign | (1 + rnd.nextInt(30)) << 10 | rnd.nextInt(1 << 10);
        };
    }

    private static short randomBf16(Random rnd) {
        int sign = rnd.nextInt(2) << 15;
        return (short) switch (rnd.nextInt(10)) {
            case 0 -> sign;
            case 1 -> sign | 1 + rnd.nextInt(0x7f);                       // subnormal
            default -> sign | (127 - 40 + rnd.nextInt(80)) << 7 | rnd.nextInt(1 << 7);
        };
    }

    private static float randomFloat(Random rnd) {
        return switch (rnd.nextInt(10)) {
            case 0 -> 0f;
            case 1 -> Float.MIN_VALUE * rnd.nextInt(1 << 20);             // subnormal
            case 2 -> (float) (rnd.nextGaussian() * 1e15);
            default -> (float) rnd.nextGaussian();
        };
    }

    private static void fill(float[] a, int from, int n, float v) {
        for (int i = from; i < from + n; i++) a[i] = v;
    }
}
