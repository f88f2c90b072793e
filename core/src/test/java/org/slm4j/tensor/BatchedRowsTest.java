package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The vector kernels' batched path (the blocked {@link Gemm}) gives what one input at a time gives: both add the
 * same exact block products (quantized types) or the same exact float products, in another order. The bound used,
 * 2^-20 · Σ|w_i·x_i|, is far tighter than the worst case of n roundings; these seeds stay well inside it.
 */
class BatchedRowsTest {
    @ParameterizedTest(name = "{0} cols {1} batch {2}")
    @CsvSource({"F16, 96, 2", "F16, 1021, 5", "F16, 512, 9", "Q8_0, 64, 2", "Q8_0, 512, 4", "Q8_0, 1280, 9",
                "Q4_0, 32, 3", "Q4_0, 512, 8", "Q4_0, 1280, 13"})
    void batchedEqualsOneByOne(GgmlType type, int cols, int batch) {
        Random rnd = new Random(7L * cols + batch);
        int rows = 1 + rnd.nextInt(40);
        Matrix w = RandomWeights.of(type, rows, cols, rnd).matrix();
        float[] x = KernelTwinTest.randomInput(rnd, batch * cols, type.blockSize() == 1 ? 32 : type.blockSize());
        float[] batched = new float[batch * rows], single = new float[rows];
        Kernels.vector().matmul(w, x, batch, batched);
        for (int b = 0; b < batch; b++) {
            Kernels.vector().matmul(w, Arrays.copyOfRange(x, b * cols, (b + 1) * cols), 1, single);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                w.dequantizeRow(r, row, 0);
                double magnitude = 0;
                for (int i = 0; i < cols; i++) magnitude += Math.abs(row[i] * x[b * cols + i]);
                assertEquals(single[r], batched[b * rows + r], 0x1p-20 * magnitude, type + " row " + r + " input " + b);
            }
        }
    }
}
