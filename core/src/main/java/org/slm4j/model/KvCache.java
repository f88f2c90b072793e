package org.slm4j.model;

/**
 * The keys and values one sequence has computed so far, per layer.
 *
 * <p>Position p lives in slot p, or p mod capacity when attention slides: a query at p reads keys
 * p−W+1 .. p only, and a batch of B new positions writes all its keys before any of them attends, so
 * W + B − 1 slots always hold what the batch needs and the cache never grows past the window.
 *
 * <p>Values lie slot after slot, as a query's weighted sum reads them. Keys lie in blocks of {@link #KEY_BLOCK}
 * slots, dim-major inside a block (dim d of slot s at ({@code s / 16 * kvDim + d) * 16 + s % 16}): one vector
 * load then holds one dim of consecutive keys, so a query's scores come out one per lane with no reduction per
 * key. A ring's capacity is a multiple of the block, so consecutive positions stay in one block.
 */
public final class KvCache {
    static final int KEY_BLOCK = 16;
    private final int kvDim;
    private final int window;      // 0: full attention
    private final int capacity;    // slots per layer
    private final int maxPositions;
    final float[][] keys;          // [layer][blocks * kvDim * KEY_BLOCK], see the class note
    final float[][] values;        // [layer][capacity * kvDim]
    private int length;            // positions 0 .. length-1 have been written

    /**
     * @param config       the model
     * @param maxPositions positions this sequence may reach (at most the model's context length)
     * @param maxBatch     most positions of this sequence evaluated in one forward step
     */
    public KvCache(ModelConfig config, int maxPositions, int maxBatch) {
        if (maxPositions < 1 || maxPositions > config.contextLength()) {
            throw new IllegalArgumentException("a cache for " + maxPositions + " positions: the model's context is "
                    + config.contextLength());
        }
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch " + maxBatch + " < 1");
        this.kvDim = config.kvDim();
        this.window = config.slidingWindow();
        this.maxPositions = maxPositions;
        int ring = (window + maxBatch - 1 + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK;
        this.capacity = window > 0 ? Math.min(maxPositions, ring) : maxPositions;
        long blocked = (long) (capacity + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK * kvDim;
        if (blocked > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions × " + kvDim
                    + " floats does not fit one array; use a shorter context");
        }
        keys = new float[config.layers()][(int) blocked];
        values = new float[config.layers()][capacity * kvDim];
    }

    /** Positions written so far; the next position to evaluate. */
    public int length() { return length; }

    /** Positions this cache can reach. */
    public int maxPositions() { return maxPositions; }

    /** Slots per layer: the window plus a batch, rounded up to a key block, when attention slides; else every position. */
    public int capacity() { return capacity; }

    /** Forgets positions from {@code newLength} on, so a sequence can be rewound and continued differently. */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " of " + length + " positions");
        }
        if (window > 0 && capacity < maxPositions && newLength > 0 && newLength < length - (capacity - window)) {
            // the ring has overwritten keys the rewound position would need again (back at the start, it needs none)
            throw new IllegalArgumentException("cannot rewind a sliding-window cache from " + length + " to " + newLength);
        }
        length = newLength;
    }

    /** First position a query at {@code pos} attends to. */
    int firstVisible(int pos) {
        return window > 0 ? Math.max(0, pos - window + 1) : 0;
    }

    private int slot(int pos) {
        return capacity < maxPositions ? pos % capacity : pos;
    }

    /** Where position {@code pos}'s key dim 0 lies in a layer's keys; dim d lies {@code KEY_BLOCK * d} further. */
    int keyAt(int pos) {
        int s = slot(pos);
        return s / KEY_BLOCK * kvDim * KEY_BLOCK + s % KEY_BLOCK;
    }

    /** Where position {@code pos}'s values lie in a layer's values, one after the other. */
    int valueAt(int pos) {
        return slot(pos) * kvDim;
    }

    /** Stores position pos's key and value (kvDim each, from k at ko and v at vo) in layer's arrays. */
    void put(int layer, int pos, float[] k, int ko, float[] v, int vo) {
        float[] kc = keys[layer];
        for (int d = 0, at = keyAt(pos); d < kvDim; d++) kc[at + KEY_BLOCK * d] = k[ko + d];
        System.arraycopy(v, vo, values[layer], valueAt(pos), kvDim);
    }

    /** Claims the next position; the forward pass has checked it fits. */
    void append() {
        length++;
    }
}
