package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * SentencePiece BPE as llama.cpp runs it (Llama, Mistral, TinyLlama, Danube): spaces become '▁', the text
 * starts as one symbol per character, and the adjacent pair whose concatenation is the highest-scoring piece
 * merges first (leftmost on ties), until no pair is a piece. A symbol left that is no piece (a character outside
 * the vocabulary) becomes its UTF-8 bytes as {@code <0xNN>} tokens. When no piece has a '▁' after another
 * character (SentencePiece's pieces never span a word boundary), no pair across the start of a word (a run of '▁'
 * after other text) is a piece, so each word merges on its own: the same result, with short words merged by a
 * rescan instead of the queue.
 */
final class SentencePieceBpe implements TextEncoder {
    private final StringIntMap ids;
    private final float[] scores;
    private final int[] byteIds = new int[256]; // <0xNN>, else the one-character token, else unk
    private final int maxTokenChars;            // no pair longer than this can be a piece
    private final boolean addSpacePrefix;
    private final boolean wordwise;             // no piece has '▁' after another character: words merge apart

    /** Words up to this many symbols merge by rescanning; longer ones through the queue. */
    private static final int SMALL = 48;

    SentencePieceBpe(Vocabulary v, Map<String, Integer> ids) {
        this.ids = new StringIntMap(ids.size());
        ids.forEach(this.ids::put);
        this.scores = v.scores();
        this.addSpacePrefix = v.addSpacePrefix();
        int max = 0;
        for (String t : v.tokens()) max = Math.max(max, t.length());
        this.maxTokenChars = max;
        this.wordwise = MergeTable.wordsStandApart(v.tokens());
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get("<0x%02X>".formatted(b));
            if (id == null && b < 0x80) id = ids.get(String.valueOf((char) b));
            if (id == null && v.unk() < 0) {
                throw new ModelFormatException(("tokenizer.ggml.tokens: no byte token <0x%02X> and no unknown token"
                        + " (tokenizer.ggml.unknown_token_id) to stand for it").formatted(b));
            }
            byteIds[b] = id != null ? id : v.unk();
        }
    }

    /**
     * The merge queue orders entries by (score descending, left symbol ascending), packed as one long. An entry only
     * says "the pair at {@code left} may merge at this score"; it is live while the pair now at left still makes a
     * piece of that score. llama.cpp checks instead that the pair is the one that was queued, but whenever the pair at
     * left changes it queues the new pair, so a stale entry that passes this check stands exactly where that new
     * entry does, and the merges come out the same.
     */
    private static long entry(float score, int left) {
        int bits = Float.floatToIntBits(score == 0 ? 0f : score); // -0.0 ties with 0.0
        int ascending = bits ^ (bits >> 31 & 0x7FFF_FFFF);    // orders as the floats do
        return (long) ~ascending << 32 | left;                 // ~: higher scores first
    }

    @Override
    public void encode(String text, boolean afterSpecial, IntList out) {
        String s = (addSpacePrefix && afterSpecial ? " " + text : text).replace(' ', '▁');
        int n = s.codePointCount(0, s.length());
        if (n == 0) return;
        // symbol i is s[start[i], start[i] + len[i]); merged-away symbols have len 0
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        int[] id = new int[n];   // the piece of symbol i, once it is a merge (a single character need not be one)
        int[] pair = new int[n]; // the piece that symbol i and the next would make, or -1
        LongHeap queue = new LongHeap();
        int word = 0; // the first symbol of the current word
        for (int i = 0, at = 0; i < n; at += len[i++]) {
            if (wordwise && i > word && s.charAt(at) == '▁' && s.charAt(at - 1) != '▁') {
                mergeWord(s, start, len, prev, next, id, pair, queue, word, i, out);
                word = i;
            }
            start[i] = at;
            len[i] = Character.charCount(s.codePointAt(at));
            id[i] = -1;
        }
        mergeWord(s, start, len, prev, next, id, pair, queue, word, n, out);
    }

    /** Merges the symbols [from, to) and appends their ids to {@code out}. */
    private void mergeWord(String s, int[] start, int[] len, int[] prev, int[] next, int[] id, int[] pair, LongHeap queue,
                           int from, int to, IntList out) {
        if (to - from <= SMALL) {
            mergeSmall(s, start, len, id, pair, from, to, out);
            return;
        }
        for (int i = from; i < to; i++) {
            prev[i] = i > from ? i - 1 : -1;
            next[i] = i + 1 < to ? i + 1 : -1;
        }
        queue.clear();
        for (int i = from; i < to; i++) offer(queue, s, start, len, next, pair, i);
        while (!queue.isEmpty()) {
            long e = queue.poll();
            int l = (int) e, t = pair[l];
            if (len[l] == 0 || t < 0 || entry(scores[t], l) != e) continue; // stale
            int r = next[l];
            len[l] += len[r];
            len[r] = 0;
            id[l] = t;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) offer(queue, s, start, len, next, pair, prev[l]);
            offer(queue, s, start, len, next, pair, l);
        }
        for (int i = from; i >= 0; i = next[i]) emit(s, start[i], len[i], id[i], out);
    }

    /**
     * A short word: the symbols stay packed in [from, end), pair[i] holds what symbol i and the next would make, and
     * each step rescans it for the highest score (leftmost on ties, as the queue orders them).
     */
    private void mergeSmall(String s, int[] start, int[] len, int[] id, int[] pair, int from, int to, IntList out) {
        int end = to;
        for (int i = from; i + 1 < end; i++) pair[i] = piece(s, start[i], len[i] + len[i + 1]);
        while (true) {
            int best = -1;
            float bestScore = 0;
            for (int i = from; i + 1 < end; i++) {
                int t = pair[i];
                if (t >= 0 && (best < 0 || scores[t] > bestScore)) {
                    best = i;
                    bestScore = scores[t];
                }
            }
            if (best < 0) break;
            len[best] += len[best + 1];
            id[best] = pair[best];
            int tail = end - best - 2; // symbols after the merged pair
            System.arraycopy(start, best + 2, start, best + 1, tail);
            System.arraycopy(len, best + 2, len, best + 1, tail);
            System.arraycopy(id, best + 2, id, best + 1, tail);
            System.arraycopy(pair, best + 2, pair, best + 1, tail);
            end--;
            if (best > from) pair[best - 1] = piece(s, start[best - 1], len[best - 1] + len[best]);
            if (best + 1 < end) pair[best] = piece(s, start[best], len[best] + len[best + 1]);
        }
        for (int i = from; i < end; i++) emit(s, start[i], len[i], id[i], out);
    }

    /** The piece s[at, at + n), or -1. */
    private int piece(String s, int at, int n) {
        return n > maxTokenChars ? -1 : ids.get(s, at, at + n);
    }

    /** Appends a symbol's id; merged symbols are pieces by construction, so only single characters fall back to bytes. */
    private void emit(String s, int start, int len, int id, IntList out) {
        int t = id >= 0 ? id : ids.get(s, start, start + len);
        if (t >= 0) {
            out.add(t);
        } else {
            for (byte x : s.substring(start, start + len).getBytes(UTF_8)) out.add(byteIds[x & 0xFF]);
        }
    }

    /** Records what symbol l and the next would make, and queues it if that is a piece. */
    private void offer(LongHeap queue, String s, int[] start, int[] len, int[] next, int[] pair, int l) {
        pair[l] = -1;
        int r = next[l];
        if (r < 0 || len[l] + len[r] > maxTokenChars) return;
        int t = ids.get(s, start[l], start[l] + len[l] + len[r]);
        if (t < 0) return;
        pair[l] = t;
        queue.add(entry(scores[t], l));
    }
}
