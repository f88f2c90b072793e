package org.slm4j.tensor;

/**
 * The float-array loops of the forward pass outside the matmuls (attention over the KV cache, the SwiGLU gate), with
 * the Vector API
 * when {@link Kernels#best()} uses it and plain loops otherwise. Results differ from the plain loops only in the order
 * of float additions, and in the gate by the Vector API's exp, which may differ from Math.exp in the last bit.
 */
public final class Floats {
    private Floats() {}

    private static final boolean VECTOR = Kernels.best() != Kernels.scalar();

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}. */
    public static void addScaled(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        if (VECTOR) {
            VectorKernels.arrayAddScaled(alpha, x, xo, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /** {@code a[i] = silu(a[i]) * b[i] = a[i] / (1 + exp(-a[i])) * b[i]} for {@code from <= i < to}. */
    public static void siluMul(float[] a, float[] b, int from, int to) {
        int i = VECTOR ? VectorKernels.arraySiluMul(a, b, from, to) : from;
        for (; i < to; i++) {
            float g = a[i];
            a[i] = g / (1f + (float) Math.exp(-g)) * b[i];
        }
    }
}
