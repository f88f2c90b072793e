package org.slm4j.tokenizer;

import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * Hugging Face BPE over characters, as the tokenizers library runs Llama's and Mistral's tokenizer.json: the
 * normalizer prepends '▁' and spells spaces '▁', each character becomes its token, or its UTF-8 bytes as
 * {@code <0xNN>} tokens when it has none (byte fallback), or the unknown token (a run of unknown characters
 * giving one). Then the adjacent pair with the lowest merge rank merges first, leftmost on ties, until no pair
 * is a listed merge. Unlike SentencePiece, a pair whose concatenation is a token but not a listed merge stays.
 */
final class CharMergesBpe implements TextEncoder {
    private final Map<String, Integer> ids;
    private final int[] bmpIds = new int[0x10000]; // the token of each BMP character, -1 when none
    private final int[] byteIds;                   // <0xNN>, or null without byte fallback
    private final int unk;
    private final LongIntMap ranks;                // pair(left id, right id) -> rank = index in the merge list
    private final int[] merged;                    // [rank] id of the merged token
    private final boolean addSpacePrefix;

    CharMergesBpe(Vocabulary v, Map<String, Integer> ids) {
        this.ids = ids;
        this.unk = v.unk();
        this.addSpacePrefix = v.addSpacePrefix();
        java.util.Arrays.fill(bmpIds, -1);
        ids.forEach((t, id) -> {
            if (t.length() == 1 && v.types()[id] == TokenType.NORMAL) bmpIds[t.charAt(0)] = id;
        });
        boolean fallback = false;
        for (TokenType t : v.types()) fallback |= t == TokenType.BYTE;
        if (fallback) {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++) {
                Integer id = ids.get("<0x%02X>".formatted(b));
                if (id == null) throw new ModelFormatException("byte fallback: no token <0x%02X>".formatted(b));
                byteIds[b] = id;
            }
        } else {
            byteIds = null;
        }
        String[] merges = v.merges();
        this.ranks = new LongIntMap(merges.length);
        this.merged = new int[merges.length];
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int sp = m.indexOf(' ', 1);
            if (sp < 0) throw new ModelFormatException("merges[" + rank + "]: \"" + m + "\" is not two tokens separated by a space");
            String a = m.substring(0, sp), b = m.substring(sp + 1);
            int left = known(ids, a, rank, m), right = known(ids, b, rank, m);
            merged[rank] = known(ids, a + b, rank, m);
            ranks.putIfAbsent((long) left << 32 | right, rank);
        }
    }

    private static int known(Map<String, Integer> ids, String token, int rank, String merge) {
        Integer id = ids.get(token);
        if (id == null) throw new ModelFormatException("merges[" + rank + "]: \"" + merge + "\" needs \"" + token + "\", which is not a token");
        return id;
    }

    private int charId(String s, int at, int c) {
        if (c < 0x10000) return bmpIds[c];
        Integer id = ids.get(s.substring(at, at + 2));
        return id == null ? -1 : id;
    }

    @Override
    public void encode(String text, boolean afterSpecial, IntList out) {
        String s = addSpacePrefix && afterSpecial ? "▁" + text.replace(' ', '▁') : text.replace(' ', '▁');
        int cap = 3 * s.length(); // UTF-8 bytes per UTF-16 unit ≤ 3
        int[] id = new int[cap], prev = new int[cap], next = new int[cap], pair = new int[cap];
        int n = 0;
        boolean unkRun = false;
        for (int at = 0; at < s.length(); ) {
            int c = s.codePointAt(at), t = charId(s, at, c);
            if (t >= 0) {
                id[n++] = t;
                unkRun = false;
            } else if (byteIds != null) {
                n = addBytes(c, id, n);
                unkRun = false;
            } else if (!unkRun) {
                if (unk < 0) throw new IllegalArgumentException("character U+%04X has no token and the vocabulary no unknown token".formatted(c));
                id[n++] = unk;
                unkRun = true; // fuse_unk: a run of unknown characters is one unknown token
            }
            at += Character.charCount(c);
        }
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap queue = new LongHeap();
        for (int i = 0; i < n; i++) offer(queue, id, next, pair, i);
        while (!queue.isEmpty()) {
            long e = queue.poll();
            int l = (int) e, rank = (int) (e >>> 32);
            if (id[l] < 0 || pair[l] != rank) continue; // stale: see SentencePieceBpe
            int r = next[l];
            id[l] = merged[rank];
            id[r] = -1;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0) offer(queue, id, next, pair, prev[l]);
            offer(queue, id, next, pair, l);
        }
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) out.add(id[i]);
    }

    private int addBytes(int c, int[] id, int n) {
        if (c < 0x80) {
            id[n++] = byteIds[c];
        } else if (c < 0x800) {
            id[n++] = byteIds[0xC0 | c >> 6];
            id[n++] = byteIds[0x80 | c & 0x3F];
        } else if (c < 0x10000) {
            id[n++] = byteIds[0xE0 | c >> 12];
            id[n++] = byteIds[0x80 | c >> 6 & 0x3F];
            id[n++] = byteIds[0x80 | c & 0x3F];
        } else {
            id[n++] = byteIds[0xF0 | c >> 18];
            id[n++] = byteIds[0x80 | c >> 12 & 0x3F];
            id[n++] = byteIds[0x80 | c >> 6 & 0x3F];
            id[n++] = byteIds[0x80 | c & 0x3F];
        }
        return n;
    }

    private void offer(LongHeap queue, int[] id, int[] next, int[] pair, int l) {
        int r = next[l];
        int rank = r < 0 ? -1 : ranks.get((long) id[l] << 32 | id[r]);
        pair[l] = rank;
        if (rank >= 0) queue.add((long) rank << 32 | l);
    }
}
