package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slm4j.testing.Shared;

/**
 * Real weights quantized by llama-quantize (../shared fixtures) against their F32 originals: every dequantized weight
 * lies within its type's quantization error of the original, and both kernels' matmuls lie within the activation
 * rounding error of a float64 dot product with the dequantized weights.
 */
class FixtureWeightsTest {
    private static final String DIR = "fixtures/llamacpp/";
    private static final double F16_ULP = 0x1p-11, BF16_ULP = 0x1p-8;

    @ParameterizedTest
    @CsvSource({
        "tiny-llama-q8_0.gguf,       tiny-llama-f32.gguf,     Q8_0",
        "tiny-llama-q4_0.gguf,       tiny-llama-f32.gguf,     Q4_0 Q8_0",
        "tiny-llama-f16.gguf,        tiny-llama-f32.gguf,     F16",
        "tiny256q-llama-q4_1.gguf,   tiny256q-llama-f32.gguf, Q4_1 Q6_K",
        "tiny256q-llama-q4_k_m.gguf, tiny256q-llama-f32.gguf, Q4_K Q6_K",
        "tiny256q-llama-q6_k.gguf,   tiny256q-llama-f32.gguf, Q6_K",
        "tiny256q-llama-bf16.gguf,   tiny256q-llama-f32.gguf, BF16",
        "tiny256q-llama-f32.gguf,    tiny256q-llama-f32.gguf, ''",
    })
    void dequantizedWeightsAreWithinTheQuantizationStep(String quantized, String original, String types) throws IOException {
        try (var q = new TestGgufTensors(Shared.file(DIR + quantized)); var f = new TestGgufTensors(Shared.file(DIR + original))) {
            Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
            for (String name : q.names()) {
                Matrix m = q.matrix(name), o = f.matrix(name);
                if (m.type() != GgmlType.F32) seen.add(m.type());
                assertEquals(o.rows(), m.rows(), name);
                assertEquals(o.cols(), m.cols(), name);
                float[] deq = new float[m.cols()], orig = new float[m.cols()];
                for (int r = 0; r < m.rows(); r++) {
                    m.dequantizeRow(r, deq, 0);
                    o.dequantizeRow(r, orig, 0);
                    checkRow(m.type(), deq, orig, name + " row " + r);
                }
            }
            Set<GgmlType> expected = EnumSet.noneOf(GgmlType.class);
            for (String t : types.split(" ")) if (!t.isBlank()) expected.add(GgmlType.valueOf(t));
            assertEquals(expected, seen, quantized + ": matrix types (fixture README)");
        }
    }

    /**
     * The bounds, from how llama-quantize (ggml-quants.c, no imatrix) rounds; amax is the largest |original| of
     * the block, or of the 256-element super-block for k-quants:
     * <ul>
     * <li>Q8_0: q = round(x / d), d = amax / 127: half a step, plus |q| &lt;= 127 times the f16 rounding of d.
     * <li>Q4_0: d = max / -8 and q = min(15, x / d + 8.5): the element of opposite sign to max and equal size is
     *     clamped a full step d = amax / 8; plus 8 times the f16 rounding of d.
     * <li>Q4_1: d = (max - min) / 15, value q * d + m: half a step, plus f16 rounding of d (times 15) and of m.
     * <li>Q6_K: 16-element sub-blocks with q in [-32, 31] (half step amax / 64) and int8 sub-block scales relative to
     *     the largest (32 * half a scale step, amax / 254): amax / 51; the scale search may clip the extreme
     *     element a little, hence amax / 40.
     * <li>Q4_K: 32-element sub-blocks, 15 steps over a range up to 2 * amax (half step amax / 15), 6-bit scales and
     *     mins relative to the largest (amax / 63 + amax / 126): amax / 11; the scale and min search may clip, hence
     *     amax / 8.
     * <li>F16, BF16: round to nearest, half an ulp: 2^-11 and 2^-8 relative (F16 subnormals: 2^-25 absolute).
     * </ul>
     */
    private static void checkRow(GgmlType type, float[] deq, float[] orig, String where) {
        int block = switch (type) {
            case F32, F16, BF16 -> 1;
            default -> type.blockSize();
        };
        for (int b = 0; b < deq.length; b += block) {
            double amax = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
            for (int i = b; i < b + block; i++) {
                amax = Math.max(amax, Math.abs(orig[i]));
                min = Math.min(min, orig[i]);
                max = Math.max(max, orig[i]);
            }
            double bound = switch (type) {
                case F32 -> 0;
                case F16 -> Math.max(amax * F16_ULP, 0x1p-25);
                case BF16 -> amax * BF16_ULP;
                case Q8_0 -> amax * (0.5 / 127 + 127 * F16_ULP / 127);
                case Q4_0 -> amax / 8 * (1 + 8 * F16_ULP);
                case Q4_1 -> (max - min) / 30 + ((max - min) + Math.abs(min)) * F16_ULP;
                case Q6_K -> amax / 40;
                case Q4_K -> amax / 8;
                default -> throw new AssertionError(type);
            };
            bound = bound * (1 + 1e-5) + amax * 1e-6;    // float arithmetic in the quantizer and here
            for (int i = b; i < b + block; i++) {
                if (Math.abs(deq[i] - orig[i]) > bound) {
                    fail(where + " element " + i + ": " + type + " gives " + deq[i] + ", original " + orig[i] + ", bound " + bound);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({
        "tiny-llama-q8_0.gguf,       blk.0.attn_q.weight",
        "tiny-llama-q4_0.gguf,       blk.0.ffn_down.weight",
        "tiny-llama-f16.gguf,        blk.1.ffn_up.weight",
        "tiny256q-llama-q4_1.gguf,   blk.0.ffn_gate.weight",
        "tiny256q-llama-q4_1.gguf,   output.weight",
        "tiny256q-llama-q4_k_m.gguf, blk.1.ffn_up.weight",
        "tiny256q-llama-q6_k.gguf,   blk.0.ffn_down.weight",
        "tiny256q-llama-bf16.gguf,   blk.0.attn_k.weight",
        "tiny256q-llama-f32.gguf,    blk.0.attn_v.weight",
    })
    void matmulIsTheDotOfDequantizedWeightsWithTheRoundedInput(String file, String tensor) throws IOException {
        try (var gguf = new TestGgufTensors(Shared.file(DIR + file))) {
            Matrix w = gguf.matrix(tensor);
            int batch = 2, n = w.cols();
            float[] x = new float[batch * n];
            Random rnd = new Random(file.hashCode() ^ tensor.hashCode());
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.vector()}) {
                float[] out = new float[batch * w.rows()];
                k.matmul(w, x, batch, out);
                float[] row = new float[n];
                for (int r = 0; r < w.rows(); r++) {
                    w.dequantizeRow(r, row, 0);
                    for (int b = 0; b < batch; b++) {
                        double exact = 0, bound = 0;
                        for (int i = 0; i < n; i++) {
                            exact += (double) row[i] * x[b * n + i];
                            bound += inputRoundingBound(w.type(), row, x, b * n, i);
                        }
                        double got = out[b * w.rows() + r];
                        if (Math.abs(got - exact) > bound) {
                            fail(k + " " + tensor + " row " + r + ": " + got + " vs float64 " + exact + ", bound " + bound);
                        }
                    }
                }
            }
        }
    }

    /**
     * Element i's share of |matmul - sum(w * x)|: |w_i| times how far the input's rounding moves x_i (half an F16 or
     * BF16 ulp; half a Q8 step amax / 254 plus the f16 rounding of the Q8_0 / Q8_1 scale), plus float summation
     * (2^-22 * n relative). Q4_1 also rounds s = d * sum(q) to f16 and splits each weight into q * d + m, |m| at most
     * twice the block's largest |weight|.
     */
    private static double inputRoundingBound(GgmlType type, float[] w, float[] x, int xo, int i) {
        int n = w.length;
        double summation = 0x1p-22 * n;
        return switch (type) {
            case F32 -> Math.abs(w[i] * x[xo + i]) * summation;
            case F16 -> Math.abs(w[i] * x[xo + i]) * (F16_ULP + summation) + Math.abs(w[i]) * 0x1p-25;
            case BF16 -> Math.abs(w[i] * x[xo + i]) * (BF16_ULP + summation);
            default -> {
                int block = type == GgmlType.Q4_K || type == GgmlType.Q6_K ? 256 : 32;
                int b0 = i / block * block;
                double amax = 0, wmax = 0;
                for (int j = b0; j < b0 + block; j++) {
                    amax = Math.max(amax, Math.abs(x[xo + j]));
                    wmax = Math.max(wmax, Math.abs(w[j]));
                }
                double step = amax * (0.5 / 127 + F16_ULP) * 1.001;
                double wi = Math.abs(w[i]) + (type == GgmlType.Q4_1 ? 2 * wmax : 0);
                yield wi * (step + amax * summation) + (type == GgmlType.Q4_1 ? 2 * wmax * amax * F16_ULP : 0);
            }
        };
    }
}
