package org.slm4j.model;

import java.util.Arrays;

/**
 * Positions to evaluate in one forward pass, possibly from several sequences: row i is token
 * {@code tokens[i]} at position {@code positions[i]} of the sequence whose cache is {@code caches[i]}.
 * Rows of one sequence must come in order of position, continuing its cache. Logits are produced only
 * for rows with {@code logits[i]} set, in row order.
 */
public record Batch(int[] tokens, int[] positions, KvCache[] caches, boolean[] logits) {
    public Batch {
        int n = tokens.length;
        if (n == 0) throw new IllegalArgumentException("an empty batch");
        if (positions.length != n || caches.length != n || logits.length != n) {
            throw new IllegalArgumentException("batch arrays differ in length: tokens " + n + ", positions "
                    + positions.length + ", caches " + caches.length + ", logits " + logits.length);
        }
    }

    /** {@code tokens} continuing {@code cache}; logits for the last row only, or for every row. */
    public static Batch of(KvCache cache, int[] tokens, boolean allLogits) {
        int n = tokens.length;
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) positions[i] = cache.length() + i;
        KvCache[] caches = new KvCache[n];
        Arrays.fill(caches, cache);
        boolean[] logits = new boolean[n];
        if (allLogits) Arrays.fill(logits, true);
        else if (n > 0) logits[n - 1] = true;
        return new Batch(tokens.clone(), positions, caches, logits);
    }

    public int size() { return tokens.length; }

    /** Rows that want logits. */
    public int logitRows() {
        int c = 0;
        for (boolean b : logits) if (b) c++;
        return c;
    }
}
