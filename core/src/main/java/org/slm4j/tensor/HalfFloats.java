package org.slm4j.tensor;

/**
 * F16 (IEEE binary16) and BF16 (bfloat16) conversions, bit for bit as ggml's CPU backend does them on x86.
 *
 * <p>Both narrowing conversions round to nearest, ties to even, and overflow to infinity: F16C's
 * {@code vcvtps2ph} for F16 and {@code ggml_compute_fp32_to_bf16} for BF16.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** The float an F16 holds (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /**
     * out[oo, oo + n) = the floats of F16 bits h[ho, ho + n). A loop by itself, which C2 compiles to {@code vcvtph2ps}
     * (16 at a time on AVX-512; exact, inf and NaN included).
     */
    public static void toFloats(short[] h, int ho, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++) out[oo + i] = Float.float16ToFloat(h[ho + i]);
    }

    /** The F16 nearest to {@code f}, ties to even. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** The float a BF16 holds (exact): its bits are the float's top half. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** The BF16 nearest to {@code f}, ties to even; a NaN stays a (quiet) NaN instead of rounding to infinity. */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x40);
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }
}
