package org.slm4j.model;

/**
 * The keys and values one sequence has computed so far, per layer.
 *
 * <p>Position p lives in slot p, or p mod capacity when attention slides: a query at p reads keys
 * p−W+1 .. p only, and a batch of B new positions writes all its keys before any of them attends, so
 * W + B − 1 slots always hold what the batch needs and the cache never grows past the window.
 */
public final class KvCache {
    private final int kvDim;
    private final int window;      // 0: full attention
    private final int capacity;    // slots per layer
    private final int maxPositions;
    final float[][] keys;          // [layer][capacity * kvDim]
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
        this.capacity = window > 0 ? Math.min(maxPositions, window + maxBatch - 1) : maxPositions;
        long floats = Math.multiplyExact((long) capacity, kvDim);
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions × " + kvDim
                    + " floats does not fit one array; use a shorter context");
        }
        keys = new float[config.layers()][(int) floats];
        values = new float[config.layers()][(int) floats];
    }

    /** Positions written so far; the next position to evaluate. */
    public int length() { return length; }

    /** Positions this cache can reach. */
    public int maxPositions() { return maxPositions; }

    /** Slots per layer: the window plus a batch when attention slides, else every position. */
    public int capacity() { return capacity; }

    /** Forgets positions from {@code newLength} on, so a sequence can be rewound and continued differently. */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " of " + length + " positions");
        }
        if (window > 0 && capacity < maxPositions && newLength < length - (capacity - window)) {
            // the ring has overwritten keys the rewound position would need again
            throw new IllegalArgumentException("cannot rewind a sliding-window cache from " + length + " to " + newLength);
        }
        length = newLength;
    }

    /** First position a query at {@code pos} attends to. */
    int firstVisible(int pos) {
        return window > 0 ? Math.max(0, pos - window + 1) : 0;
    }

    /** Offset of position {@code pos}'s keys (or values) in a layer's array. */
    int offset(int pos) {
        return (capacity < maxPositions ? pos % capacity : pos) * kvDim;
    }

    /** Claims the next position; the forward pass has checked it fits. */
    void append() {
        length++;
    }
}
