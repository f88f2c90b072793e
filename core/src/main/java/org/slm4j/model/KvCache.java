package org.slm4j.model;

import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.HalfFloats;

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
 *
 * <p>Elements are F32, or F16 as llama.cpp keeps them by default: half the memory. An F16 key block holds dims in
 * pairs: dims 2m and 2m + 1 of slot s side by side ({@link #halfKeyAt}), so that an int read from it holds one
 * key's two dims, and a vector of ints a vector of keys, whatever the vector's width: a decoding query reads them
 * in place, converting in registers (the Vector API has no F16 conversion), where one or two query heads share a KV
 * head (see Attention.inPlace). Else, and for a block of queries (a prompt), attention reads the KV head converted
 * to floats ({@link #keysToFloats}), once for the query heads that share it.
 */
public final class KvCache {
    static final int KEY_BLOCK = 16;
    private final GgmlType type;
    private final int kvDim;
    private final int window;      // 0: full attention
    private final int capacity;    // slots per layer
    private final int maxPositions;
    final float[][] keys;          // F32: [layer][blocks * kvDim * KEY_BLOCK], see the class note; F16: null
    final float[][] values;        // F32: [layer][capacity * kvDim]; F16: null
    final short[][] halfKeys;      // F16: as keys with dims in pairs (see halfKeyAt), the elements' bits; F32: null
    final short[][] halfValues;    // F16: as values
    private final int pairedDim;   // F16: kvDim rounded up to pairs
    private boolean nonFinite;     // F16: some stored element was past F16's range (inf) or NaN
    private int length;            // positions 0 .. length-1 have been written

    /**
     * @param config       the model
     * @param maxPositions positions this sequence may reach (at most the model's context length)
     * @param maxBatch     most positions of this sequence evaluated in one forward step
     * @param type         F16 or F32
     */
    public KvCache(ModelConfig config, int maxPositions, int maxBatch, GgmlType type) {
        if (maxPositions < 1 || maxPositions > config.contextLength()) {
            throw new IllegalArgumentException("a cache for " + maxPositions + " positions: the model's context is "
                    + config.contextLength());
        }
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch " + maxBatch + " < 1");
        int window = config.slidingWindow();
        int ring = (window + maxBatch - 1 + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK;
        this(type, config.layers(), config.kvDim(), window, window > 0 ? Math.min(maxPositions, ring) : maxPositions, maxPositions);
    }

    /** An F32 cache: what the reference implementations compute in float32. */
    public KvCache(ModelConfig config, int maxPositions, int maxBatch) {
        this(config, maxPositions, maxBatch, GgmlType.F32);
    }

    private KvCache(GgmlType type, int layers, int kvDim, int window, int capacity, int maxPositions) {
        this.type = requireSupported(type);
        this.kvDim = kvDim;
        this.window = window;
        this.capacity = capacity;
        this.maxPositions = maxPositions;
        this.pairedDim = (kvDim + 1) & ~1;
        long blocked = (long) (capacity + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK * pairedDim;
        if (blocked > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions × " + kvDim
                    + " elements does not fit one array; use a shorter context");
        }
        boolean half = type == GgmlType.F16;
        keys = half ? null : new float[layers][(int) blocked];
        values = half ? null : new float[layers][capacity * kvDim];
        halfKeys = half ? new short[layers][(int) blocked] : null;
        halfValues = half ? new short[layers][capacity * kvDim] : null;
    }

    /**
     * One layer of F32 for one head's keys and values (kvDim = headDim), a ring of {@code capacity} slots (a whole
     * number of key blocks): where attention converts an F16 cache's positions, at the same positions.
     */
    static KvCache headScratch(int headDim, int capacity) {
        return new KvCache(GgmlType.F32, 1, headDim, 0, capacity, Integer.MAX_VALUE);
    }

    /** F16 or F32. */
    public GgmlType type() { return type; }

    /** {@code type} when a cache can hold it (F16, F32), else an IllegalArgumentException naming it. */
    public static GgmlType requireSupported(GgmlType type) {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("a KV cache of " + type + ": F16 and F32 are supported");
        }
        return type;
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
        if (newLength == 0) nonFinite = false;     // an empty cache holds no element past F16's range
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

    /**
     * F16: where position {@code pos}'s key dims 0 and 1 lie in a layer's halfKeys, side by side; dims 2m and 2m + 1
     * lie {@code KEY_BLOCK * 2m} further. A key block's pair of dims is 2 * KEY_BLOCK halves in a row.
     */
    int halfKeyAt(int pos) {
        int s = slot(pos);
        return s / KEY_BLOCK * pairedDim * KEY_BLOCK + 2 * (s % KEY_BLOCK);
    }

    /** F16: whether some element stored so far is inf or NaN (an activation past 65504): attention then converts. */
    boolean nonFinite() {
        return nonFinite;
    }

    /** Where position {@code pos}'s values lie in a layer's values, one after the other. */
    int valueAt(int pos) {
        return slot(pos) * kvDim;
    }

    /** Stores position pos's key and value (kvDim each, from k at ko and v at vo) in layer's arrays. */
    void put(int layer, int pos, float[] k, int ko, float[] v, int vo) {
        int vat = valueAt(pos);
        if (half()) {
            short[] kc = halfKeys[layer], vc = halfValues[layer];
            int hat = halfKeyAt(pos);
            for (int d = 0; d < kvDim; d++) {
                short h = Float.floatToFloat16(k[ko + d]);
                kc[hat + KEY_BLOCK * (d & ~1) + (d & 1)] = h;
                if ((h & 0x7C00) == 0x7C00) nonFinite = true;
            }
            for (int d = 0; d < kvDim; d++) {
                short h = Float.floatToFloat16(v[vo + d]);
                vc[vat + d] = h;
                if ((h & 0x7C00) == 0x7C00) nonFinite = true;
            }
            return;
        }
        float[] kc = keys[layer];
        int at = keyAt(pos);
        for (int d = 0; d < kvDim; d++) kc[at + KEY_BLOCK * d] = k[ko + d];
        System.arraycopy(v, vo, values[layer], vat, kvDim);
    }

    /** Whether the elements are F16: attention reads them in place or through {@link #keysToFloats} and {@link #valuesToFloats}. */
    boolean half() {
        return halfKeys != null;
    }

    /**
     * Converts an F16 cache's keys of positions [from, to) in layer, dims [kvo, kvo + hd) (a head), to the same
     * positions of {@code out} (a {@link #headScratch}), by whole key blocks: a block's lanes before {@code from} or
     * past {@code to} carry whatever the cache holds there, as an F32 cache's do.
     */
    void keysToFloats(int layer, int from, int to, int kvo, int hd, KvCache out) {
        short[] kc = halfKeys[layer];
        float[] ok = out.keys[0];
        for (int p = from - from % KEY_BLOCK; p < to; p += KEY_BLOCK) {
            int at = halfKeyAt(p), oat = out.keyAt(p);
            for (int d = 0; d < hd; d++) {
                int e = kvo + d, h = at + KEY_BLOCK * (e & ~1) + (e & 1);
                for (int i = 0; i < KEY_BLOCK; i++) ok[oat + KEY_BLOCK * d + i] = Float.float16ToFloat(kc[h + 2 * i]);
            }
        }
    }

    /** {@link #keysToFloats} for the values of positions [from, to). */
    void valuesToFloats(int layer, int from, int to, int kvo, int hd, KvCache out) {
        short[] vc = halfValues[layer];
        float[] ov = out.values[0];
        for (int p = from; p < to; p++) {
            int at = valueAt(p) + kvo, oat = out.valueAt(p);
            HalfFloats.toFloats(vc, at, ov, oat, hd);
        }
    }

    /** Claims the next position; the forward pass has checked it fits. */
    void append() {
        length++;
    }
}
