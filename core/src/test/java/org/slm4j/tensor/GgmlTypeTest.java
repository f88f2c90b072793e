package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class GgmlTypeTest {
    @Test
    void blockLayoutsMatchGgml() {
        // sizeof(block_*) in ggml-common.h
        assertEquals(18, GgmlType.Q4_0.blockBytes());
        assertEquals(20, GgmlType.Q4_1.blockBytes());
        assertEquals(34, GgmlType.Q8_0.blockBytes());
        assertEquals(144, GgmlType.Q4_K.blockBytes());
        assertEquals(210, GgmlType.Q6_K.blockBytes());
        assertEquals(292, GgmlType.Q8_K.blockBytes());
        assertEquals(GgmlType.BF16, GgmlType.byId(30));
        assertNull(GgmlType.byId(99));
    }

    @Test
    void bytesForRejectsPartialBlocks() {
        assertEquals(4 * 18, GgmlType.Q4_0.bytesFor(128));
        assertThrows(IllegalArgumentException.class, () -> GgmlType.Q4_0.bytesFor(100));
    }
}
