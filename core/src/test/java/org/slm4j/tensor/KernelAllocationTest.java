package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slm4j.testing.Allocations;

/**
 * Once compiled, a matmul allocates nothing. Vector API code boxes each vector C2 fails to keep in a register: one
 * returned by a helper that is not inlined, or one from a load it does not intrinsify. The column counts leave tails
 * after the widest unrolled loop, because a tail's call sites are cold and the first left out of line.
 */
class KernelAllocationTest {

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
            "Q4_K", "Q5_K", "Q6_K"})
    void aCompiledMatmulAllocatesNothing(GgmlType type) {
        Kernels k = Kernels.vector();
        // F32, F16, BF16: an odd count, so that the widest loop leaves a vector tail and a scalar one at every
        // vector width (235 = 3 * 64 + 43 = 7 * 32 + 11)
        int rows = 64, cols = switch (type.blockSize()) {
            case 1 -> 235;
            case 256 -> 3 * 256;
            default -> 7 * 32;
        };
        Matrix w = RandomWeights.of(type, rows, cols, new Random(7)).matrix();
        for (int batch : new int[] {1, 5}) {
            float[] x = new float[batch * cols], out = new float[batch * rows];
            Random rnd = new Random(batch);
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            long bytes = Allocations.fewestPerRound(() -> k.matmul(w, x, batch, out), 20_000, 100, 100 * 8);
            assertTrue(bytes < 100 * 8, type + ", batch " + batch + ": 100 matmuls allocated " + bytes + " bytes");
        }
    }
}
