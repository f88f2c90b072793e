package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slm4j.tensor.GgmlType;

/**
 * Rewinding a cache: any length when it holds every position; a sliding window's ring only as far as it holds. An F16
 * cache's elements, read back as floats, are the JDK's F16 rounding of what was stored, at every position and head.
 */
class KvCacheTest {
    @Test
    void anF16CacheReadsBackWhatItStoredRoundedToF16() {
        for (int window : new int[] {0, 3}) {
            ModelConfig c = TransformerTest.config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 2, window);
            int kvDim = c.kvDim(), hd = c.headDim(), n = 40;
            KvCache cache = new KvCache(c, n, 1, GgmlType.F16);
            assertNull(cache.keys);
            Random rnd = new Random(window);
            float[][] k = new float[n][kvDim], v = new float[n][kvDim];
            KvCache head = KvCache.headScratch(hd, 48);
            for (int p = 0; p < n; p++) {
                for (int d = 0; d < kvDim; d++) {
                    k[p][d] = (float) rnd.nextGaussian() * 10;
                    v[p][d] = (float) rnd.nextGaussian();
                }
                cache.put(1, p, k[p], 0, v[p], 0);
                cache.append();
                // the second KV head of the positions the ring still holds, from one that starts inside a key block
                int from = window > 0 ? Math.max(0, p - window + 1) : Math.max(0, p - 20);
                cache.keysToFloats(1, from, p + 1, hd, hd, head);
                cache.valuesToFloats(1, from, p + 1, hd, hd, head);
                for (int q = from; q <= p; q++) {
                    for (int d = 0; d < hd; d++) {
                        float key = Float.float16ToFloat(Float.floatToFloat16(k[q][hd + d]));
                        float value = Float.float16ToFloat(Float.floatToFloat16(v[q][hd + d]));
                        assertEquals(key, head.keys[0][head.keyAt(q) + KvCache.KEY_BLOCK * d], "key " + q + ", dim " + d);
                        assertEquals(value, head.values[0][head.valueAt(q) + d], "value " + q + ", dim " + d);
                    }
                }
            }
        }
        ModelConfig c = TransformerTest.config(NormKind.RMS, RopeLayout.ADJACENT, 8, false, 1, 0);
        assertThrows(IllegalArgumentException.class, () -> new KvCache(c, 8, 1, GgmlType.Q8_0));
    }

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
