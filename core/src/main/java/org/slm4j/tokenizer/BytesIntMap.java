package org.slm4j.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from byte strings to ints that looks up a slice of a larger array without copying it:
 * tiktoken's whole-word check, once per pre-tokenized word.
 */
final class BytesIntMap {
    private final byte[][] keys;
    private final int[] values;
    private final int mask;
    private int size;

    /** A map for up to {@code capacity} entries (it does not grow). */
    BytesIntMap(int capacity) {
        int n = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) * 2; // load ≤ 1/2
        keys = new byte[n][];
        values = new int[n];
        mask = n - 1;
    }

    private static int hash(byte[] a, int from, int to) {
        int h = 0x811C_9DC5;
        for (int i = from; i < to; i++) h = (h ^ a[i]) * 0x0100_0193;
        return h ^ h >>> 16;
    }

    /** The value of {@code a[from, to)}, or -1 when absent. */
    int get(byte[] a, int from, int to) {
        for (int i = hash(a, from, to) & mask; ; i = i + 1 & mask) {
            byte[] k = keys[i];
            if (k == null) return -1;
            if (Arrays.equals(k, 0, k.length, a, from, to)) return values[i];
        }
    }

    /** Stores {@code value} under {@code key} unless the key is there already. */
    void putIfAbsent(byte[] key, int value) {
        for (int i = hash(key, 0, key.length) & mask; ; i = i + 1 & mask) {
            if (keys[i] == null) {
                if (size + 1 > keys.length / 2) throw new IllegalStateException("BytesIntMap is full (" + size + " entries)");
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
            if (Arrays.equals(keys[i], key)) return;
        }
    }
}
