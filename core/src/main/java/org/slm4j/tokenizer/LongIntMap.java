package org.slm4j.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from non-negative long keys to int values, without boxing: the merge tables look up
 * a packed (left id, right id) pair once per candidate merge, the hottest lookup of encoding.
 */
final class LongIntMap {
    private static final long EMPTY = -1;

    private final long[] keys;
    private final int[] values;
    private final int mask;
    private int size;

    /** A map for up to {@code capacity} entries (it does not grow). */
    LongIntMap(int capacity) {
        int n = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) * 2; // load ≤ 1/2
        keys = new long[n];
        values = new int[n];
        Arrays.fill(keys, EMPTY);
        mask = n - 1;
    }

    private int slot(long key) {
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** The value of {@code key}, or -1 when absent. */
    int get(long key) {
        for (int i = slot(key); ; i = i + 1 & mask) {
            long k = keys[i];
            if (k == key) return values[i];
            if (k == EMPTY) return -1;
        }
    }

    /** Stores {@code value} under {@code key} unless the key is there already (the first of duplicates counts). */
    void putIfAbsent(long key, int value) {
        if (key < 0) throw new IllegalArgumentException("negative key " + key);
        for (int i = slot(key); ; i = i + 1 & mask) {
            if (keys[i] == key) return;
            if (keys[i] == EMPTY) {
                if (size + 1 > keys.length / 2) throw new IllegalStateException("LongIntMap is full (" + size + " entries)");
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
        }
    }
}
