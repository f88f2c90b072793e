package org.slm4j.tensor;

/**
 * The seam the forward pass calls for every matrix multiply: a weight {@link Matrix} times a batch of
 * activation vectors, computed as llama.cpp's CPU backend (AVX2) computes it.
 *
 * <p>Before the dot products the activations are rounded the way ggml rounds them for the weight type: F32 weights
 * use them as they are; F16 and BF16 weights round them to F16 / BF16 (nearest, ties to even); Q8_0, Q4_0 and Q5_0
 * weights quantize them to Q8_0 blocks, Q4_1 and Q5_1 to Q8_1, Q4_K, Q5_K and Q6_K to Q8_K, and the dot products of quants are exact
 * integers scaled per block. Implementations differ only in the order of float additions.
 *
 * <p>Rows are split across {@link Parallel}'s threads; implementations are thread-safe and allocate nothing per call
 * once a thread's scratch has grown to the largest input it has seen.
 */
public interface Kernels {
    /**
     * {@code out[b * rows + r] = dot(row r of w, x[b * cols .. b * cols + cols))} for {@code b < batch}, with x
     * rounded as described above. Each weight row is read once per call, whatever the batch.
     */
    void matmul(Matrix w, float[] x, int batch, float[] out);

    /**
     * {@link #matmul} of each {@code ws[i]} into {@code outs[i]}, all with the same input (Q, K and V; gate and up):
     * x is rounded once for a run of matrices of the same type and width, with the same results.
     */
    void matmul(Matrix[] ws, float[] x, int batch, float[][] outs);

    /** Plain loops: the reference. */
    static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /**
     * Vector API kernels at the preferred vector width ({@code -Dslm4j.vectorBits=128|256|512} forces one).
     *
     * @throws UnsupportedOperationException when the JVM runs without {@code --add-modules jdk.incubator.vector}
     */
    static Kernels vector() {
        return KernelChoice.vector();
    }

    /**
     * The kernels to use, chosen once: {@link #vector()} unless {@code -Dslm4j.kernels=scalar} or the vector module
     * is missing (then one line on stderr says so).
     */
    static Kernels best() {
        return KernelChoice.BEST;
    }
}
