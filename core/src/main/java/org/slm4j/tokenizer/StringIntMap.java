package org.slm4j.tokenizer;

/**
 * An open-addressing hash map from strings to ints that looks up a range of a larger string without cutting it
 * out: SentencePiece asks "is this pair of symbols a piece?" once per candidate merge.
 */
final class StringIntMap {
    private final String[] keys;
    private final int[] values;
    private final int mask;
    private int size;

    /** A map for up to {@code capacity} entries (it does not grow). */
    StringIntMap(int capacity) {
        int n = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) * 2; // load ≤ 1/2
        keys = new String[n];
        values = new int[n];
        mask = n - 1;
    }

    private static int hash(String s, int from, int to) {
        int h = 0x811C_9DC5;
        for (int i = from; i < to; i++) h = (h ^ s.charAt(i)) * 0x0100_0193;
        return h ^ h >>> 16;
    }

    /** The value of {@code s[from, to)}, or -1 when absent. */
    int get(String s, int from, int to) {
        int len = to - from;
        for (int i = hash(s, from, to) & mask; ; i = i + 1 & mask) {
            String k = keys[i];
            if (k == null) return -1;
            if (k.length() == len && s.regionMatches(from, k, 0, len)) return values[i];
        }
    }

    /** Stores {@code value} under {@code key}, replacing what was there (the later of equal tokens wins). */
    void put(String key, int value) {
        for (int i = hash(key, 0, key.length()) & mask; ; i = i + 1 & mask) {
            if (keys[i] == null) {
                if (size + 1 > keys.length / 2) throw new IllegalStateException("StringIntMap is full (" + size + " entries)");
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
            if (keys[i].equals(key)) {
                values[i] = value;
                return;
            }
        }
    }
}
