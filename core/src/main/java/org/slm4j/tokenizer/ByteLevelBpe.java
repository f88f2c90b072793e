package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * Byte-level BPE as llama.cpp runs it (GPT-2, GPT-NeoX, StableLM 2): the pre-tokenizer cuts the text into words,
 * each word starts as one symbol per UTF-8 byte (spelled in GPT-2's alphabet), and the adjacent pair with the
 * lowest merge rank merges first (leftmost on ties), until no pair has a rank. Every byte that UTF-8 text can hold
 * is a token, so nothing falls back. Without merge rules (tiktoken ranks) any adjacent pair whose concatenation is
 * a token merges, the lowest id first, and a word that is itself a token is that token, as tiktoken does.
 */
final class ByteLevelBpe implements TextEncoder {
    private final PreTokenizer preTokenizer;
    private final int[] byteIds = new int[256];
    private final LongIntMap ranks; // pair(left id, right id) -> rank: index in the merge list, or merged id
    private final int[] merged;     // [rank] id of the merged token
    private final Map<String, Integer> wholeWords; // tiktoken: a word that is a token; null with merge rules

    ByteLevelBpe(Vocabulary v, Map<String, Integer> ids) {
        this.preTokenizer = v.preTokenizer();
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.valueOf(ByteLevel.charOf(b)));
            boolean inUtf8 = b < 0xC0 || b >= 0xC2 && b <= 0xF4; // text never has the others (GPT-NeoX lacks them)
            if (id == null && inUtf8) {
                throw new ModelFormatException("tokenizer.ggml.tokens: byte-level vocabulary has no token \"%c\" for byte 0x%02X"
                        .formatted(ByteLevel.charOf(b), b));
            }
            byteIds[b] = id != null ? id : -1;
        }
        String[] merges = v.merges();
        if (merges.length == 0) {
            this.wholeWords = ids;
            this.merged = new int[v.size()];
            this.ranks = concatenationRanks(v, ids, merged);
            return;
        }
        this.wholeWords = null;
        this.ranks = new LongIntMap(merges.length);
        this.merged = new int[merges.length];
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int sp = m.indexOf(' ', 1); // a part may not be empty, so the first space after the first character
            if (sp < 0) {
                throw new ModelFormatException("tokenizer.ggml.merges[" + rank + "]: \"" + m + "\" is not two tokens separated by a space");
            }
            String a = m.substring(0, sp), b = m.substring(sp + 1);
            int left = known(ids, a, rank, m), right = known(ids, b, rank, m);
            merged[rank] = known(ids, a + b, rank, m);
            ranks.putIfAbsent(pair(left, right), rank); // the first of duplicate rules counts
        }
    }

    /** tiktoken's rule as a merge table: every split of every normal token into two tokens, ranked by its id. */
    private static LongIntMap concatenationRanks(Vocabulary v, Map<String, Integer> ids, int[] merged) {
        String[] tokens = v.tokens();
        int count = 0;
        for (int pass = 0; pass < 2; pass++) {
            LongIntMap map = pass == 0 ? null : new LongIntMap(count);
            for (int id = 0; id < tokens.length; id++) {
                merged[id] = id;
                String t = tokens[id];
                if (v.types()[id] != TokenType.NORMAL) continue;
                for (int k = 1; k < t.length(); k++) {
                    Integer a = ids.get(t.substring(0, k)), b = ids.get(t.substring(k));
                    if (a == null || b == null) continue;
                    if (map == null) count++;
                    else map.putIfAbsent(pair(a, b), id);
                }
            }
            if (map != null) return map;
        }
        throw new AssertionError();
    }

    private static int known(Map<String, Integer> ids, String token, int rank, String merge) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new ModelFormatException("tokenizer.ggml.merges[" + rank + "]: \"" + merge + "\" needs \"" + token + "\", which is not a token");
        }
        return id;
    }

    private static long pair(int left, int right) {
        return (long) left << 32 | right;
    }

    @Override
    public void encode(String text, boolean afterSpecial, IntList out) {
        int[] cp = text.codePoints().toArray();
        byte[] utf8 = text.getBytes(UTF_8);
        // symbol i starts at byte i; merged-away symbols have id -1
        int[] id = new int[utf8.length], prev = new int[utf8.length], next = new int[utf8.length];
        int[] pair = new int[utf8.length]; // the rank of the rule merging symbol i and the next, or -1
        LongHeap queue = new LongHeap();
        int c = 0, from = 0;
        for (int end : preTokenizer.words(cp)) {
            int to = from;
            for (; c < end; c++) to += cp[c] < 0x80 ? 1 : cp[c] < 0x800 ? 2 : cp[c] < 0x10000 ? 3 : 4;
            mergeWord(utf8, from, to, id, prev, next, pair, queue);
            Integer whole = wholeWords != null && next[from] >= 0 ? wholeWords.get(alphabet(utf8, from, to)) : null;
            if (whole != null) out.add(whole);
            else for (int i = from; i >= 0; i = next[i]) out.add(id[i]);
            from = to;
        }
    }

    /**
     * Merges one word. Queue entries pack (rank, left symbol), lowest first; an entry is live while the pair now at
     * left merges by that rank (see {@link SentencePieceBpe} for why this gives llama.cpp's merges).
     */
    private void mergeWord(byte[] utf8, int from, int to, int[] id, int[] prev, int[] next, int[] pair, LongHeap queue) {
        for (int i = from; i < to; i++) {
            id[i] = byteIds[utf8[i] & 0xFF];
            prev[i] = i > from ? i - 1 : -1;
            next[i] = i + 1 < to ? i + 1 : -1;
        }
        for (int i = from; i < to; i++) offer(queue, id, next, pair, i);
        while (!queue.isEmpty()) {
            long e = queue.poll();
            int l = (int) e, rank = (int) (e >>> 32);
            if (id[l] < 0 || pair[l] != rank) continue; // stale
            int r = next[l];
            id[l] = merged[rank];
            id[r] = -1;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) offer(queue, id, next, pair, prev[l]);
            offer(queue, id, next, pair, l);
        }
    }

    private void offer(LongHeap queue, int[] id, int[] next, int[] pair, int l) {
        int r = next[l];
        int rank = r < 0 ? -1 : ranks.get(pair(id[l], id[r]));
        pair[l] = rank;
        if (rank >= 0) queue.add((long) rank << 32 | l);
    }

    /** utf8[from, to) spelled in GPT-2's alphabet. */
    private static String alphabet(byte[] utf8, int from, int to) {
        char[] c = new char[to - from];
        for (int i = from; i < to; i++) c[i - from] = ByteLevel.charOf(utf8[i] & 0xFF);
        return new String(c);
    }
}
