package org.slm4j.tokenizer;

import java.util.Arrays;
import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * Hugging Face BPE over characters, as the tokenizers library runs Llama's and Mistral's tokenizer.json: the
 * normalizer prepends '▁' and spells spaces '▁', each character becomes its token, or its UTF-8 bytes as
 * {@code <0xNN>} tokens when it has none (byte fallback), or the unknown token (a run of unknown characters
 * giving one). Then the adjacent pair with the lowest merge rank merges first, leftmost on ties, until no pair
 * is a listed merge. Unlike SentencePiece, a pair whose concatenation is a token but not a listed merge stays.
 *
 * <p>When no token has a '▁' after another character (true of SentencePiece-trained vocabularies, whose pieces
 * never span a word boundary), no merge can join a character to a following '▁', so the text merges as
 * independent words, each a run of '▁' and what follows up to the next: the same result, faster.
 */
final class CharMergesBpe implements TextEncoder {
    private final Map<String, Integer> ids;
    private final int[] bmpIds = new int[0x10000]; // the token of each BMP character, -1 when none
    private final int[] byteIds;                   // <0xNN>, or null without byte fallback
    private final int unk;
    private final MergeTable merges;
    private final boolean addSpacePrefix;
    private final boolean wordwise; // '▁' is a token and no token has '▁' after another character

    CharMergesBpe(Vocabulary v, Map<String, Integer> ids) {
        this.ids = ids;
        this.unk = v.unk();
        this.addSpacePrefix = v.addSpacePrefix();
        Arrays.fill(bmpIds, -1);
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
        this.merges = MergeTable.of(v.merges(), ids, "merges");
        this.wordwise = MergeTable.wordsStandApart(v.tokens()) && bmpIds['▁'] >= 0; // else '▁' falls back to bytes, which merges might join
    }

    private int charId(String s, int at, int c) {
        if (c < 0x10000) return bmpIds[c];
        // a supplementary character: at ≥ 0 (the prefix is '▁')
        Integer id = ids.get(s.substring(at, at + 2));
        return id == null ? -1 : id;
    }

    @Override
    public void encode(String text, boolean afterSpecial, IntList out) {
        int cap = 3 * text.length() + 1; // UTF-8 bytes per UTF-16 unit ≤ 3, and the '▁' prefix
        int[] id = new int[cap], scratch = new int[3 * cap];
        LongHeap heap = new LongHeap();
        int n = 0, word = 0;
        boolean unkRun = false, prevSpace = false;
        for (int at = addSpacePrefix && afterSpecial ? -1 : 0; at < text.length(); ) {
            int c = at < 0 ? ' ' : text.codePointAt(at);
            if (c == ' ') c = '▁';
            if (c == '▁' && !prevSpace && wordwise && n > word) { // a word ends before a '▁' that follows other text
                merges.merge(id, word, n, scratch, heap, out);
                word = n;
            }
            prevSpace = c == '▁';
            int t = charId(text, at, c);
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
            at += at < 0 ? 1 : Character.charCount(text.codePointAt(at));
        }
        if (n > word) merges.merge(id, word, n, scratch, heap, out);
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
}
