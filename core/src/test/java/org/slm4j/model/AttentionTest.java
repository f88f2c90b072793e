package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slm4j.tensor.GgmlType;

/**
 * A decoding query (one or two per KV head) reads an F16 cache in place, converting in registers; that must give
 * what the F32 path gives on the same elements (an F32 cache holding the F16-rounded keys and values), as both sum
 * the same products in the same order. Not to the last bit: before C2 has compiled them, the Vector API's exp and
 * reduceLanes give another last bit, and the weighted sums of values cancel (12 ulps of a result, in a full test
 * run). So within 1e-6 of the largest value summed in that dim: dims of F16 subnormals (about 1e-6) are held to
 * 1e-12, and a misread element moves a result by far more. Heads of 48 and 64 dims: whole vectors at every width,
 * so the F32 path sums every dim in vectors too. Where the in-place read would go wrong (a query past F16's range,
 * an inf in the cache), the cache is converted instead, with the same results, until the cache is rewound to empty.
 */
class AttentionTest {
    private static ModelConfig config(int heads, int kvHeads, int headDim, int window) {
        return new ModelConfig("test", 64, heads * headDim, 1, heads, kvHeads, headDim, 64, NormKind.RMS, 1e-5f, false,
                headDim, RopeLayout.ADJACENT, 10000f, 300, window, false, false, 1f);
    }

    @Test
    void aDecodingQueryReadsAnF16CacheInPlaceAsTheF32PathReadsItsValues() {
        for (int[] shape : new int[][] {{4, 2, 48, 0}, {2, 2, 64, 0}, {4, 4, 64, 0}, {4, 2, 48, 37}, {8, 1, 64, 0}}) {
            ModelConfig c = config(shape[0], shape[1], shape[2], shape[3]);
            String name = "heads " + shape[0] + "/" + shape[1] + " of " + shape[2] + ", window " + shape[3];
            int n = 200;
            KvCache half = new KvCache(c, n, 1, GgmlType.F16), full = new KvCache(c, n, 1, GgmlType.F32);
            Attention attention = new Attention(c, 1);
            Random rnd = new Random(shape[2] + shape[3]);
            float[] q = new float[c.qDim()], k = new float[c.kvDim()], v = new float[c.kvDim()];
            float[] rk = new float[c.kvDim()], rv = new float[c.kvDim()], most = new float[c.kvDim()];
            for (int p = 0; p < n; p++) {
                for (int d = 0; d < c.kvDim(); d++) {
                    k[d] = (float) rnd.nextGaussian() * 3;
                    v[d] = (float) rnd.nextGaussian() * (d % 7 == 0 ? 1e-6f : 1);     // some F16 subnormals
                    rk[d] = Float.float16ToFloat(Float.floatToFloat16(k[d]));
                    rv[d] = Float.float16ToFloat(Float.floatToFloat16(v[d]));
                    most[d] = Math.max(most[d], Math.abs(rv[d]));
                }
                half.put(0, p, k, 0, v, 0);
                full.put(0, p, rk, 0, rv, 0);
                half.append();
                full.append();
                if (p % 13 != 12 && p != n - 1) continue;
                for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
                assertEquals(c.groupSize() <= 2, Attention.inPlace(half, 1, c.groupSize(), c.headDim(), q, 0), name);
                assertClose(attend(attention, full, p, q), attend(attention, half, p, q), c, most, name + ", position " + p);
                q[5] = 7e4f;      // past F16's range: the cache is converted
                assertFalse(Attention.inPlace(half, 1, c.groupSize(), c.headDim(), q, 0), name);
                assertClose(attend(attention, full, p, q), attend(attention, half, p, q), c, most, name + ", a large query, position " + p);
            }
            // an inf (an activation past F16's range) in the cache: converted, and inf where F32 has it too
            k[3] = 1e5f;
            rk[3] = Float.POSITIVE_INFINITY;
            half.put(0, n - 1, k, 0, v, 0);
            full.put(0, n - 1, rk, 0, rv, 0);
            for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
            assertFalse(Attention.inPlace(half, 1, c.groupSize(), c.headDim(), q, 0), name);
            assertClose(attend(attention, full, n - 1, q), attend(attention, half, n - 1, q), c, most, name + ", an inf key");
            // rewound to empty and refilled with finite elements, it is read in place again
            half.truncate(0);
            k[3] = 1;
            half.put(0, 0, k, 0, v, 0);
            half.append();
            assertEquals(c.groupSize() <= 2, Attention.inPlace(half, 1, c.groupSize(), c.headDim(), q, 0), name + ", rewound");
        }
    }

    /**
     * Equal, or finite and within 1e-6 of most[d], the largest |value| of the element's KV dim d (see the class
     * comment); NaN where expected has NaN.
     */
    private static void assertClose(float[] expected, float[] actual, ModelConfig c, float[] most, String message) {
        int hd = c.headDim();
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (Float.compare(e, a) == 0) continue;
            float bound = 1e-6f * most[i / hd / c.groupSize() * hd + i % hd];
            assertTrue(Float.isFinite(e) && Math.abs(e - a) <= bound, message + ", element " + i + ": " + e + " vs " + a);
        }
    }

    private static float[] attend(Attention attention, KvCache cache, int pos, float[] q) {
        float[] att = new float[q.length];
        attention.attend(new Batch(new int[1], new int[] {pos}, new KvCache[] {cache}, new boolean[] {true}), 0, 1, 0, q, att);
        return att;
    }
}
