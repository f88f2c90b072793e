package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Rewinding a cache: any length when it holds every position; a sliding window's ring only as far as it holds. */
class KvCacheTest {
    @Test
    void aWrappedRingRewindsToTheStartOrToWhatItStillHolds() {
        ModelConfig c = TransformerTest.config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 1, 3);
        KvCache ring = new KvCache(c, 40, 1);      // window 3 + batch 1 - 1, a key block: 16 slots for 40 positions
        assertEquals(16, ring.capacity());
        for (int i = 0; i < 30; i++) ring.append();
        assertThrows(IllegalArgumentException.class, () -> ring.truncate(10));  // its keys 8, 9 are overwritten
        ring.truncate(0);                                                       // a new start needs none
        assertEquals(0, ring.length());

        KvCache full = new KvCache(TransformerTest.config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 1, 0), 12, 1);
        for (int i = 0; i < 10; i++) full.append();
        full.truncate(5);
        assertEquals(5, full.length());
    }
}
