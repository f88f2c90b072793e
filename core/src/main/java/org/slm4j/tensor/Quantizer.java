package org.slm4j.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Rounds float rows into stored weight bytes as llama-quantize does without an importance matrix (ggml's reference
 * row quantizers), so a file it writes holds the blocks llama.cpp would have written from the same floats.
 *
 * <pre>
 * F32, F16, BF16  each element as it is / rounded to F16 or BF16 (nearest, ties to even)
 * Q8_0      d = amax / 127,            q = round(x / d), halves away from zero
 * Q4_0      d = (signed max|x|) / -8,  q = min(15, trunc(x / d + 8.5)), elements j and j + 16 share byte j
 * Q4_1      d = (max - min) / 15, m = min, q = min(15, trunc((x - min) / d + 0.5))
 * Q5_0/Q5_1 as Q4_0 / Q4_1 with 32 levels (d = max / -16, (max - min) / 31), fifth bits packed in a u32
 * Q4_K      8 sub-blocks of 32, each fitted with a scale and a min by a weighted least-squares search, the 8 scales
 *           and 8 mins then rounded to 6 bits against the super-block's d and dmin, and x re-rounded to 4 bits
 *           against the stored (F16 × 6-bit) scale and min
 * Q5_K      Q4_K with 32 levels and a narrower search, fifth bits in a 32-byte plane
 * Q6_K      16 sub-blocks of 16, each fitted with a signed scale by a search over 19 candidate scales weighted by
 *           x², the scales rounded to int8 against d = max scale / -128, and x re-rounded to 6 bits
 * </pre>
 * The 32-blocks multiply by the float {@code 1 / d} (not divide) and store d as F16 after using it unrounded; the
 * k-quants divide by the stored, F16-rounded scale, so what a reader reconstructs is what the rounding aimed at.
 * Every step is float arithmetic in C's evaluation order (ggml's reference code is plain C without FMA contraction),
 * because one ulp of difference in a scale can move a weight to the neighbouring level.
 */
public final class Quantizer {
    private Quantizer() {}

    /** Whether {@link #quantizeRow} writes {@code type}. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Appends {@code x[off .. off + n)} to {@code dst} (little-endian, at its position) as {@code type}; n a multiple
     * of the type's block.
     */
    public static void quantizeRow(GgmlType type, float[] x, int off, int n, ByteBuffer dst) {
        if (!supports(type)) throw new IllegalArgumentException("cannot quantize to " + type + "; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K");
        if (n % type.blockSize() != 0) throw new IllegalArgumentException(n + " elements is not a whole number of " + type + " blocks");
        if (dst.remaining() < type.bytesFor(n)) {
            throw new IllegalArgumentException(type + " row of " + n + " takes " + type.bytesFor(n) + " bytes, " + dst.remaining() + " left");
        }
        ByteBuffer out = dst.order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> { for (int i = 0; i < n; i++) out.putFloat(x[off + i]); }
            case F16 -> { for (int i = 0; i < n; i++) out.putShort(HalfFloats.floatToF16(x[off + i])); }
            case Q8_0 -> { for (int b = off; b < off + n; b += Blocks.QK) q8_0(x, b, out); }
            case BF16 -> { for (int i = 0; i < n; i++) out.putShort(HalfFloats.floatToBf16(x[off + i])); }
            case Q4_0 -> { for (int b = off; b < off + n; b += Blocks.QK) q4_0(x, b, out); }
            case Q4_1 -> { for (int b = off; b < off + n; b += Blocks.QK) q4_1(x, b, out); }
            case Q5_0 -> { for (int b = off; b < off + n; b += Blocks.QK) q5_0(x, b, out); }
            case Q5_1 -> { for (int b = off; b < off + n; b += Blocks.QK) q5_1(x, b, out); }
            case Q4_K -> {
                var s = new KScratch();
                for (int b = off; b < off + n; b += Blocks.QK_K) q4_K(x, b, out, s);
            }
            case Q5_K -> {
                var s = new KScratch();
                for (int b = off; b < off + n; b += Blocks.QK_K) q5_K(x, b, out, s);
            }
            case Q6_K -> {
                var s = new KScratch();
                for (int b = off; b < off + n; b += Blocks.QK_K) q6_K(x, b, out, s);
            }
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
        float d = signedMax(x, b) / -8, id = d != 0 ? 1 / d : 0;
        out.putShort(HalfFloats.floatToF16(d));
        int half = Blocks.QK / 2;
        for (int j = 0; j < half; j++) {
            int lo = Math.min(15, (int) (x[b + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[b + half + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    private static void q4_1(float[] x, int b, ByteBuffer out) {
        float min = min(x, b), max = max(x, b);
        float d = (max - min) / 15, id = d != 0 ? 1 / d : 0;
        out.putShort(HalfFloats.floatToF16(d));
        out.putShort(HalfFloats.floatToF16(min));
        int half = Blocks.QK / 2;
        for (int j = 0; j < half; j++) {
            // x - min >= 0, so the cast truncates a non-negative value: round half up
            int lo = Math.min(15, (int) ((x[b + j] - min) * id + 0.5f));
            int hi = Math.min(15, (int) ((x[b + half + j] - min) * id + 0.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    private static void q5_0(float[] x, int b, ByteBuffer out) {
        float d = signedMax(x, b) / -16, id = d != 0 ? 1 / d : 0;
        out.putShort(HalfFloats.floatToF16(d));
        int half = Blocks.QK / 2, qh = 0;
        byte[] qs = new byte[half];
        for (int j = 0; j < half; j++) {
            int lo = Math.min(31, (int) (x[b + j] * id + 16.5f));
            int hi = Math.min(31, (int) (x[b + half + j] * id + 16.5f));
            qs[j] = (byte) ((lo & 0xf) | (hi & 0xf) << 4);
            qh |= (lo >> 4 & 1) << j | (hi >> 4 & 1) << (j + half);   // fifth bits: element i at bit i
        }
        out.putInt(qh).put(qs);
    }

    private static void q5_1(float[] x, int b, ByteBuffer out) {
        float min = min(x, b), max = max(x, b);
        float d = (max - min) / 31, id = d != 0 ? 1 / d : 0;
        out.putShort(HalfFloats.floatToF16(d));
        out.putShort(HalfFloats.floatToF16(min));
        int half = Blocks.QK / 2, qh = 0;
        byte[] qs = new byte[half];
        for (int j = 0; j < half; j++) {
            // no clamp here in ggml: (x - min) / d stays below 31.5, and a C uint8_t cast is what the bits keep
            int lo = (int) ((x[b + j] - min) * id + 0.5f) & 0xff;
            int hi = (int) ((x[b + half + j] - min) * id + 0.5f) & 0xff;
            qs[j] = (byte) ((lo & 0xf) | (hi & 0xf) << 4);
            qh |= (lo >> 4 & 1) << j | (hi >> 4 & 1) << (j + half);
        }
        out.putInt(qh).put(qs);
    }

    /** The element of a 32-block with the largest magnitude, signed; strictly greater, so the first of equal magnitudes. */
    private static float signedMax(float[] x, int b) {
        float amax = 0, max = 0;
        for (int i = 0; i < Blocks.QK; i++) {
            if (Math.abs(x[b + i]) > amax) {
                amax = Math.abs(x[b + i]);
                max = x[b + i];
            }
        }
        return max;
    }

    // Not Math.min/max: by strict comparison the first of 0 and -0 stays, so a block's min keeps its sign as in ggml.
    private static float min(float[] x, int b) {
        float min = Float.MAX_VALUE;
        for (int i = 0; i < Blocks.QK; i++) if (x[b + i] < min) min = x[b + i];
        return min;
    }

    private static float max(float[] x, int b) {
        float max = -Float.MAX_VALUE;
        for (int i = 0; i < Blocks.QK; i++) if (x[b + i] > max) max = x[b + i];
        return max;
    }

    /** Per-row work arrays of the k-quants, so a row does not allocate per block. */
    private static final class KScratch {
        final int[] levels = new int[Blocks.QK_K];   // the chosen level of each element
        final int[] aux = new int[32];                // a candidate's levels while it is being scored
        final float[] weights = new float[32];
        final float[] scales = new float[16], mins = new float[8];
    }

    /**
     * Q4_K super-block: d, dmin (F16), 12 bytes of 6-bit scales and mins, 128 bytes of nibbles (byte l of each
     * 32-byte group holds elements l and l + 32 of a 64-element chunk). Sub-block j reconstructs as
     * {@code d·sc[j]·q − dmin·m[j]}.
     */
    private static void q4_K(float[] x, int b, ByteBuffer out, KScratch s) {
        scalesAndMins(x, b, 15, -1f, 20, s, out);
        for (int j = 0; j < Blocks.QK_K; j += 64) {
            for (int l = 0; l < 32; l++) out.put((byte) (s.levels[j + l] | s.levels[j + l + 32] << 4));
        }
    }

    /**
     * Q5_K super-block: Q4_K's header, then 32 bytes of fifth bits (bit 2c of byte l for element l of 64-chunk c,
     * bit 2c + 1 for element l + 32), then Q4_K's nibble layout of the low 4 bits.
     */
    private static void q5_K(float[] x, int b, ByteBuffer out, KScratch s) {
        scalesAndMins(x, b, 31, -0.5f, 15, s, out);
        byte[] qh = new byte[32], ql = new byte[128];
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = s.levels[64 * c + l], hi = s.levels[64 * c + l + 32];
                qh[l] |= (byte) ((lo >> 4) << 2 * c | (hi >> 4) << 2 * c + 1);
                ql[32 * c + l] = (byte) ((lo & 0xf) | (hi & 0xf) << 4);
            }
        }
        out.put(qh).put(ql);
    }

    /**
     * The part Q4_K and Q5_K share: fits each 32-element sub-block with a scale and min (levels 0..nmax), rounds the
     * 8 scales and 8 mins to 6 bits against the super-block's d and dmin, writes d, dmin and the 12 packed bytes, and
     * leaves in {@code s.levels} each element re-rounded against its stored scale and min.
     */
    private static void scalesAndMins(float[] x, int b, int nmax, float rmin, int nstep, KScratch s, ByteBuffer out) {
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            int o = b + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[o + l] * x[o + l];
            // weight each element by the sub-block's rms plus its own size: big weights matter more
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) s.weights[l] = avX + Math.abs(x[o + l]);
            s.scales[j] = fitScaleMin(x, o, nmax, rmin, nstep, s, 32 * j, j);
            if (s.scales[j] > maxScale) maxScale = s.scales[j];
            if (s.mins[j] > maxMin) maxMin = s.mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0, invMin = maxMin > 0 ? 63f / maxMin : 0;
        byte[] packed = new byte[12];
        int[] sc = new int[8], m = new int[8];
        for (int j = 0; j < 8; j++) {
            // C stores nearest_int into a uint8_t before the min: keep its wrap-around
            sc[j] = Math.min(63, nearestInt(invScale * s.scales[j]) & 0xff);
            m[j] = Math.min(63, nearestInt(invMin * s.mins[j]) & 0xff);
            if (j < 4) {
                packed[j] = (byte) sc[j];
                packed[j + 4] = (byte) m[j];
            } else {   // low 4 bits in bytes 8..11, high 2 bits on top of bytes 0..7
                packed[j + 4] = (byte) ((sc[j] & 0xf) | (m[j] & 0xf) << 4);
                packed[j - 4] |= (byte) ((sc[j] >> 4) << 6);
                packed[j] |= (byte) ((m[j] >> 4) << 6);
            }
        }
        short d = HalfFloats.floatToF16(maxScale / 63f), dmin = HalfFloats.floatToF16(maxMin / 63f);
        for (int j = 0; j < 8; j++) {
            float dj = HalfFloats.f16ToFloat(d) * sc[j];
            if (dj == 0) continue;   // keeps the fit's levels, as ggml does
            float mj = HalfFloats.f16ToFloat(dmin) * m[j];
            for (int i = 0; i < 32; i++) s.levels[32 * j + i] = Math.clamp(nearestInt((x[b + 32 * j + i] + mj) / dj), 0, nmax);
        }
        out.putShort(d).putShort(dmin).put(packed);
    }

    /**
     * Fits x[o .. o + 32) ≈ scale·L − min with L in 0..nmax and min ≥ 0, minimising the error weighted by
     * {@code s.weights}: a first guess from the range, then nstep + 1 candidate scales ((nmax + rmin + 0.1·step) over
     * the range), each with the least-squares scale and min for the levels it rounds to. Stores the levels at
     * {@code s.levels[lo ..]} and the min at {@code s.mins[j]}; returns the scale.
     */
    private static float fitScaleMin(float[] x, int o, int nmax, float rmin, int nstep, KScratch s, int lo, int j) {
        final int n = 32;
        float[] w = s.weights, mins = s.mins;
        int[] levels = s.levels, aux = s.aux;
        float min = x[o], max = x[o];
        float sumW = w[0], sumX = sumW * x[o];
        for (int i = 1; i < n; i++) {
            if (x[o + i] < min) min = x[o + i];
            if (x[o + i] > max) max = x[o + i];
            sumW += w[i];
            sumX += w[i] * x[o + i];
        }
        if (min > 0) min = 0;   // the min is subtracted as a non-negative offset
        if (max == min) {
            for (int i = 0; i < n; i++) levels[lo + i] = 0;
            mins[j] = -min;
            return 0;
        }
        float iscale = nmax / (max - min), scale = 1 / iscale, bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.clamp(nearestInt(iscale * (x[o + i] - min)), 0, nmax);
            levels[lo + i] = l;
            float diff = scale * l + min - x[o + i];
            bestError += w[i] * (diff * diff);
        }
        for (int step = 0; step <= nstep; step++) {
            iscale = (rmin + 0.1f * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.clamp(nearestInt(iscale * (x[o + i] - min)), 0, nmax);
                aux[i] = l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[o + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {   // a positive offset cannot be stored: refit the scale alone
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[o + i];
                    error += w[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(aux, 0, levels, lo, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[j] = -min;
        return scale;
    }

    /**
     * Q6_K super-block: 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 sub-block scales, F16 d. Within
     * each 128-element half, element l, l + 32, l + 64, l + 96 share the high-bits byte l; the low nibbles of l and
     * l + 64 share byte l, those of l + 32 and l + 96 byte l + 32.
     */
    private static void q6_K(float[] x, int b, ByteBuffer out, KScratch s) {
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = fitSignedScale(x, b + 16 * ib, s.levels, 16 * ib);
            s.scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {   // an all-zero block: every byte zero
            for (int i = 0; i < GgmlType.Q6_K.blockBytes(); i++) out.put((byte) 0);
            return;
        }
        float iscale = -128f / maxScale;
        short d = HalfFloats.floatToF16(1 / iscale);
        byte[] scales = new byte[16];
        for (int ib = 0; ib < 16; ib++) scales[ib] = (byte) Math.min(127, nearestInt(iscale * s.scales[ib]));
        for (int j = 0; j < 16; j++) {
            float dj = HalfFloats.f16ToFloat(d) * scales[j];
            if (dj == 0) continue;   // keeps the fit's levels, as ggml does
            for (int i = 0; i < 16; i++) s.levels[16 * j + i] = Math.clamp(nearestInt(x[b + 16 * j + i] / dj), -32, 31) + 32;
        }
        int[] lv = s.levels;
        byte[] ql = new byte[128], qh = new byte[64];
        for (int h = 0; h < 2; h++) {
            int j = 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[64 * h + l] = (byte) ((lv[j + l] & 0xf) | (lv[j + l + 64] & 0xf) << 4);
                ql[64 * h + l + 32] = (byte) ((lv[j + l + 32] & 0xf) | (lv[j + l + 96] & 0xf) << 4);
                qh[32 * h + l] = (byte) (lv[j + l] >> 4 | (lv[j + l + 32] >> 4) << 2 | (lv[j + l + 64] >> 4) << 4 | (lv[j + l + 96] >> 4) << 6);
            }
        }
        out.put(ql).put(qh).put(scales).putShort(d);
    }

    private static final float GROUP_MAX_EPS = 1e-15f;   // below this a group counts as all zero

    /**
     * Fits x[o .. o + 16) ≈ scale·(L − 32) with L in 0..63, weighting each element by x²: the scale that maps the
     * signed largest element to −32, then 18 nearby candidates (−(32 ± 0.1·k) / max), keeping the least-squares scale
     * of the best. Levels go to {@code levels[lo ..]} (offset by 32); an all-zero group gets levels 0 and scale 0.
     */
    private static float fitSignedScale(float[] x, int o, int[] levels, int lo) {
        final int n = 16, nmax = 32;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[o + i]);
            if (ax > amax) {
                amax = ax;
                max = x[o + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) levels[lo + i] = 0;
            return 0;
        }
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.clamp(nearestInt(iscale * x[o + i]), -nmax, nmax - 1);
            levels[lo + i] = l + nmax;
            float w = x[o + i] * x[o + i];
            sumLX += w * x[o + i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.clamp(nearestInt(iscale * x[o + i]), -nmax, nmax - 1);
                float w = x[o + i] * x[o + i];
                sumLX += w * x[o + i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) levels[lo + i] = Math.clamp(nearestInt(iscale * x[o + i]), -nmax, nmax - 1) + nmax;
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /**
     * ggml's nearest_int: adding 1.5·2²³ in float leaves the integer part in the mantissa, so this is round to
     * nearest, ties to even (not C's roundf), exact for |v| &lt; 2²².
     */
    private static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    /** C's roundf: to nearest, halves away from zero (Math.round would send -2.5 to -2). */
    private static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}
