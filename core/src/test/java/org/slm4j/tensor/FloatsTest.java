package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Floats' loops against double arithmetic, for lengths around every vector width and at offsets.
 */
class FloatsTest {
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80, 127, 128, 129, 256})
    void addScaledMatchesDouble(int n) {
        Random rnd = new Random(n);
        float[] a = random(rnd, n + 5), b = random(rnd, n + 3);
        float alpha = (float) rnd.nextGaussian();
        float[] y = b.clone(), yv = b.clone();
        Floats.addScaled(alpha, a, 5, y, 3, n);
        VectorKernels.arrayAddScaled(alpha, a, 5, yv, 3, n);
        for (int i = 0; i < b.length; i++) {
            double expected = i >= 3 && i < 3 + n ? b[i] + (double) alpha * a[5 + i - 3] : b[i];
            double tol = 0x1p-23 * (Math.abs(b[i]) + Math.abs(alpha * (i >= 3 && i < 3 + n ? a[5 + i - 3] : 0)));
            assertTrue(Math.abs(y[i] - expected) <= tol, "y[" + i + "] = " + y[i] + ", expected " + expected);
            assertTrue(Math.abs(yv[i] - expected) <= tol, "vector y[" + i + "] = " + yv[i] + ", expected " + expected);
        }
    }

    /** The gate within a few float roundings of silu(g) * b in double (exp itself may be off by an ulp). */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 15, 16, 17, 33, 100, 5632})
    void siluMulMatchesDouble(int n) {
        Random rnd = new Random(n);
        float[] a = new float[n], b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian() * (i % 7 == 0 ? 40 : 4);
            b[i] = (float) rnd.nextGaussian();
        }
        float[] gated = a.clone();
        Floats.siluMul(gated, b, 0, n);
        for (int i = 0; i < n; i++) {
            double expected = a[i] / (1 + Math.exp(-a[i])) * b[i];
            assertEquals(expected, gated[i], 8 * 0x1p-24 * Math.abs(expected) + 1e-30, "element " + i + " of gate " + a[i]);
        }
        // a thread's share [from, to), off the vector grid: its elements gated, the others untouched
        if (n < 8) return;
        int from = 3, to = n - 2;
        float[] part = a.clone();
        Floats.siluMul(part, b, from, to);
        for (int i = 0; i < n; i++) {
            if (i < from || i >= to) assertEquals(a[i], part[i], "element " + i + " outside [" + from + ", " + to + ")");
            else assertEquals(gated[i], part[i], 8 * 0x1p-24 * Math.abs(gated[i]) + 1e-30, "element " + i + " of a share");
        }
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian() * (1 + rnd.nextInt(100));
        return a;
    }
}
