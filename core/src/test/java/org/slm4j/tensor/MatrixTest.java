package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class MatrixTest {
    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void rowBytesFollowTheBlocks() {
        assertEquals(2 * 34, new Matrix("w", GgmlType.Q8_0, MemorySegment.ofArray(new byte[3 * 68]), 3, 64).rowBytes());
        assertEquals(210, new Matrix("w", GgmlType.Q6_K, MemorySegment.ofArray(new byte[210]), 1, 256).rowBytes());
    }

    @Test
    void badShapesAreRejectedNamingTheTensor() {
        MemorySegment data = MemorySegment.ofArray(new byte[4 * 68]);
        assertTrue(error(() -> new Matrix("blk.0.attn_q.weight", GgmlType.Q8_0, data, 3, 64)).startsWith("blk.0.attn_q.weight: 272 bytes"));
        assertTrue(error(() -> new Matrix("w", GgmlType.Q8_0, data, 4, 48)).contains("not a multiple of Q8_0's block of 32"));
        assertTrue(error(() -> new Matrix("w", GgmlType.Q2_K, data, 1, 256)).contains("Q2_K has no kernel"));
        assertTrue(error(() -> new Matrix("w", GgmlType.F32, data, 0, 68)).contains("must be positive"));
        assertTrue(error(() -> new Matrix("w", GgmlType.F32, data, Integer.MAX_VALUE, Integer.MAX_VALUE)).contains("more than 2^63 bytes"));
    }

    @Test
    void dequantizeRowChecksItsArguments() {
        Matrix m = new Matrix("w", GgmlType.F32, MemorySegment.ofArray(new byte[2 * 4 * 3]), 2, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> m.dequantizeRow(2, new float[3], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> m.dequantizeRow(0, new float[3], 1));
    }
}
