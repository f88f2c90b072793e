package org.slm4j.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Rounds float rows into stored weight bytes as llama-quantize does without an importance matrix (ggml's reference
 * row quantizers), so a file it writes holds the blocks llama.cpp would have written from the same floats.
 *
 * <pre>
 * F32, F16  each element as it is / rounded to F16 (nearest, ties to even)
 * Q8_0      d = amax / 127,            q = round(x / d), halves away from zero
 * Q4_0      d = (signed max|x|) / -8,  q = min(15, trunc(x / d + 8.5)), elements j and j + 16 share byte j
 * </pre>
 * Both block types multiply by the float {@code 1 / d} (not divide), and store d as F16 after using it unrounded.
 */
public final class Quantizer {
    private Quantizer() {}

    /** Whether {@link #quantizeRow} writes {@code type}. */
    public static boolean supports(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.Q8_0 || type == GgmlType.Q4_0;
    }

    /**
     * Appends {@code x[off .. off + n)} to {@code dst} (little-endian, at its position) as {@code type}; n a multiple
     * of the type's block.
     */
    public static void quantizeRow(GgmlType type, float[] x, int off, int n, ByteBuffer dst) {
        if (!supports(type)) throw new IllegalArgumentException("cannot quantize to " + type + "; supported: F32, F16, Q8_0, Q4_0");
        if (n % type.blockSize() != 0) throw new IllegalArgumentException(n + " elements is not a whole number of " + type + " blocks");
        if (dst.remaining() < type.bytesFor(n)) {
            throw new IllegalArgumentException(type + " row of " + n + " takes " + type.bytesFor(n) + " bytes, " + dst.remaining() + " left");
        }
        ByteBuffer out = dst.order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> { for (int i = 0; i < n; i++) out.putFloat(x[off + i]); }
            case F16 -> { for (int i = 0; i < n; i++) out.putShort(HalfFloats.floatToF16(x[off + i])); }
            case Q8_0 -> { for (int b = off; b < off + n; b += Blocks.QK) q8_0(x, b, out); }
            case Q4_0 -> { for (int b = off; b < off + n; b += Blocks.QK) q4_0(x, b, out); }
            default -> throw new AssertionError(type);
        }
    }

    private static void q8_0(float[] x, int b, ByteBuffer out) {
        float amax = 0;
        for (int i = 0; i < Blocks.QK; i++) amax = Math.max(amax, Math.abs(x[b + i]));
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        out.putShort(HalfFloats.floatToF16(d));
        for (int i = 0; i < Blocks.QK; i++) out.put((byte) roundHalfAway(x[b + i] * id));
    }

    private static void q4_0(float[] x, int b, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int i = 0; i < Blocks.QK; i++) {
            float v = x[b + i];
            if (Math.abs(v) > amax) {   // strictly greater: the first of equal magnitudes keeps its sign
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8, id = d != 0 ? 1 / d : 0;
        out.putShort(HalfFloats.floatToF16(d));
        int half = Blocks.QK / 2;
        for (int j = 0; j < half; j++) {
            int lo = Math.min(15, (int) (x[b + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[b + half + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    /** C's roundf: to nearest, halves away from zero (Math.round would send -2.5 to -2). */
    private static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}
