package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Comparator;
import java.util.Map;
import java.util.PriorityQueue;
import org.slm4j.format.ModelFormatException;

/**
 * SentencePiece BPE as llama.cpp runs it (Llama, Mistral, TinyLlama, Danube): spaces become '▁', the text
 * starts as one symbol per character, and the adjacent pair whose concatenation is the highest-scoring piece
 * merges first (leftmost on ties), until no pair is a piece. A symbol left that is no piece (a character outside
 * the vocabulary) becomes its UTF-8 bytes as {@code <0xNN>} tokens.
 */
final class SentencePieceBpe implements TextEncoder {
    private final Map<String, Integer> ids;
    private final float[] scores;
    private final int[] byteIds = new int[256]; // <0xNN>, else the one-character token, else unk
    private final int maxTokenChars;            // no pair longer than this can be a piece
    private final boolean addSpacePrefix;

    SentencePieceBpe(Vocabulary v, Map<String, Integer> ids) {
        this.ids = ids;
        this.scores = v.scores();
        this.addSpacePrefix = v.addSpacePrefix();
        int max = 0;
        for (String t : v.tokens()) max = Math.max(max, t.length());
        this.maxTokenChars = max;
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get("<0x%02X>".formatted(b));
            if (id == null && b < 0x80) id = ids.get(String.valueOf((char) b));
            if (id == null && v.unk() < 0) {
                throw new ModelFormatException("tokenizer.ggml.tokens: no byte token <0x%02X> and no unknown token (tokenizer.ggml.unknown_token_id) to stand for it"
                        .formatted(b));
            }
            byteIds[b] = id != null ? id : v.unk();
        }
    }

    /** Symbols left..right would merge into piece {@code id}; size = their length, which stale entries no longer have. */
    private record Bigram(int left, int right, float score, int size, int id) {}

    // highest score first, then leftmost; == rather than Float.compare so that -0.0 ties with 0.0
    private static final Comparator<Bigram> ORDER =
            (a, b) -> a.score > b.score ? -1 : a.score < b.score ? 1 : Integer.compare(a.left, b.left);

    @Override
    public void encode(String text, boolean afterSpecial, IntList out) {
        String s = (addSpacePrefix && afterSpecial ? " " + text : text).replace(' ', '▁');
        int n = s.codePointCount(0, s.length());
        if (n == 0) return;
        // symbol i is s[start[i], start[i] + len[i]); merged-away symbols have len 0
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n], id = new int[n];
        for (int i = 0, at = 0; i < n; at += len[i++]) {
            start[i] = at;
            len[i] = Character.charCount(s.codePointAt(at));
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            id[i] = -1; // looked up at the end: a single character need not be a piece
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);
        for (int i = 1; i < n; i++) offer(queue, s, start, len, i - 1, i);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left(), r = b.right();
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size()) continue; // one side merged since
            len[l] += len[r];
            len[r] = 0;
            id[l] = b.id();
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) offer(queue, s, start, len, prev[l], l);
            if (next[l] >= 0) offer(queue, s, start, len, l, next[l]);
        }
        // Merged symbols are pieces by construction, so only single characters can fall back to bytes.
        for (int i = 0; i >= 0; i = next[i]) {
            String sym = s.substring(start[i], start[i] + len[i]);
            int t = id[i] >= 0 ? id[i] : ids.getOrDefault(sym, -1);
            if (t >= 0) {
                out.add(t);
            } else {
                for (byte x : sym.getBytes(UTF_8)) out.add(byteIds[x & 0xFF]);
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String s, int[] start, int[] len, int l, int r) {
        int size = len[l] + len[r];
        if (size > maxTokenChars) return;
        Integer id = ids.get(s.substring(start[l], start[l] + size));
        if (id != null) queue.add(new Bigram(l, r, scores[id], size, id));
    }
}
