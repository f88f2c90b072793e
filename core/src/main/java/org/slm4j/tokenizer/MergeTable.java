package org.slm4j.tokenizer;

import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * BPE merge rules by rank: pair (left id, right id) → rank, rank → merged id. {@link #merge} runs them on one word:
 * the adjacent pair with the lowest rank merges first, leftmost on ties, until no pair has a rank.
 */
final class MergeTable {
    /** Words up to this many symbols merge by rescanning a rank array; longer ones through a heap. */
    private static final int SMALL = 48;

    private final LongIntMap ranks; // pair(left id, right id) -> rank
    private final int[] merged;     // [rank] id of the merged token

    MergeTable(LongIntMap ranks, int[] merged) {
        this.ranks = ranks;
        this.merged = merged;
    }

    /**
     * The table of merge rules "left right" (first = rank 0); {@code field} names them in errors. Of duplicate rules
     * the first counts.
     */
    static MergeTable of(String[] rules, Map<String, Integer> ids, String field) {
        LongIntMap ranks = new LongIntMap(rules.length);
        int[] merged = new int[rules.length];
        for (int rank = 0; rank < rules.length; rank++) {
            String m = rules[rank];
            int sp = m.indexOf(' ', 1); // a part may not be empty, so the first space after the first character
            if (sp < 0) throw new ModelFormatException(field + "[" + rank + "]: \"" + m + "\" is not two tokens separated by a space");
            String a = m.substring(0, sp), b = m.substring(sp + 1);
            int left = known(ids, a, field, rank, m), right = known(ids, b, field, rank, m);
            merged[rank] = known(ids, a + b, field, rank, m);
            ranks.putIfAbsent(pair(left, right), rank);
        }
        return new MergeTable(ranks, merged);
    }

    private static int known(Map<String, Integer> ids, String token, String field, int rank, String merge) {
        Integer id = ids.get(token);
        if (id == null) throw new ModelFormatException(field + "[" + rank + "]: \"" + merge + "\" needs \"" + token + "\", which is not a token");
        return id;
    }

    /**
     * Whether no token has '▁' after another character, as in SentencePiece-trained vocabularies, whose pieces never
     * span a word boundary: then no merge joins a character to a following '▁', and words merge apart.
     */
    static boolean wordsStandApart(String[] tokens) {
        for (String t : tokens) {
            for (int i = t.indexOf('▁', 1); i > 0; i = t.indexOf('▁', i + 1)) if (t.charAt(i - 1) != '▁') return false;
        }
        return true;
    }

    static long pair(int left, int right) {
        return (long) left << 32 | right;
    }

    int rank(int left, int right) {
        return ranks.get(pair(left, right));
    }

    /**
     * Merges the symbols {@code id[from, to)} (destroying them) and appends the resulting ids to {@code out}.
     * {@code scratch} must hold at least {@code 3 * (to - from)} ints.
     */
    void merge(int[] id, int from, int to, int[] scratch, LongHeap heap, IntList out) {
        int n = to - from;
        if (n == 1) {
            out.add(id[from]);
        } else if (n <= SMALL) {
            mergeSmall(id, from, n, scratch, out);
        } else {
            mergeLarge(id, from, to, scratch, heap, out);
        }
    }

    /** Few symbols: keep the rank of each adjacent pair in an array, rescan it for the lowest, close the gap. */
    private void mergeSmall(int[] id, int from, int n, int[] rank, IntList out) {
        for (int i = 0; i + 1 < n; i++) rank[i] = rank(id[from + i], id[from + i + 1]);
        while (n > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                int r = rank[i];
                if (r >= 0 && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) break;
            id[from + best] = merged[bestRank];
            System.arraycopy(id, from + best + 2, id, from + best + 1, n - best - 2);
            System.arraycopy(rank, best + 2, rank, best + 1, n - best - 3 > 0 ? n - best - 3 : 0);
            n--;
            if (best > 0) rank[best - 1] = rank(id[from + best - 1], id[from + best]);
            if (best + 1 < n) rank[best] = rank(id[from + best], id[from + best + 1]);
        }
        for (int i = 0; i < n; i++) out.add(id[from + i]);
    }

    /**
     * Many symbols: a linked list and a heap of (rank, left symbol) entries. An entry is live while the pair now at
     * left still merges by that rank; a pair's rank only changes when one of its symbols does, which queues the new
     * pair, so a stale entry that passes the check stands where that new entry does and the merges come out the same.
     */
    private void mergeLarge(int[] id, int from, int to, int[] scratch, LongHeap heap, IntList out) {
        int n = to - from;
        // scratch: prev [0, n), next [n, 2n), pair rank [2n, 3n); symbol i is id[from + i]
        for (int i = 0; i < n; i++) {
            scratch[i] = i - 1;
            scratch[n + i] = i + 1 < n ? i + 1 : -1;
        }
        heap.clear();
        for (int i = 0; i < n; i++) offer(id, from, n, scratch, heap, i);
        while (!heap.isEmpty()) {
            long e = heap.poll();
            int l = (int) e, rank = (int) (e >>> 32);
            if (id[from + l] < 0 || scratch[2 * n + l] != rank) continue; // stale
            int r = scratch[n + l];
            id[from + l] = merged[rank];
            id[from + r] = -1;
            int rr = scratch[n + r];
            scratch[n + l] = rr;
            if (rr >= 0) scratch[rr] = l;
            if (scratch[l] >= 0) offer(id, from, n, scratch, heap, scratch[l]);
            offer(id, from, n, scratch, heap, l);
        }
        for (int i = 0; i >= 0; i = scratch[n + i]) out.add(id[from + i]);
    }

    private void offer(int[] id, int from, int n, int[] scratch, LongHeap heap, int l) {
        int r = scratch[n + l];
        int rank = r < 0 ? -1 : rank(id[from + l], id[from + r]);
        scratch[2 * n + l] = rank;
        if (rank >= 0) heap.add((long) rank << 32 | l);
    }
}
