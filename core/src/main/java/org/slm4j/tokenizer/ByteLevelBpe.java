package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * Byte-level BPE as llama.cpp runs it (GPT-2, GPT-NeoX, StableLM 2): the pre-tokenizer cuts the text into words,
 * each word starts as one symbol per UTF-8 byte (spelled in GPT-2's alphabet), and the adjacent pair with the
 * lowest merge rank merges first (leftmost on ties), until no pair has a rank. Every byte that UTF-8 text can hold
 * is a token, so nothing falls back. Without merge rules (tiktoken ranks) a word that is itself a token is that
 * token, and otherwise any adjacent pair whose concatenation is a token merges, the lowest id first, as tiktoken
 * does.
 */
final class ByteLevelBpe implements TextEncoder {
    private final PreTokenizer preTokenizer;
    private final int[] byteIds = new int[256];
    private final MergeTable merges;
    private final BytesIntMap wholeWords; // tiktoken: the token each word that is one stands for; null with merge rules

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
        String[] rules = v.merges();
        if (rules.length == 0) {
            this.merges = concatenationRanks(v, ids);
            this.wholeWords = new BytesIntMap(v.size());
            for (int id = 0; id < v.size(); id++) {
                if (v.types()[id] == TokenType.NORMAL) wholeWords.putIfAbsent(bytes(v.tokens()[id]), id);
            }
            return;
        }
        this.wholeWords = null;
        this.merges = MergeTable.of(rules, ids, "tokenizer.ggml.merges");
    }

    /** The bytes a token spelled in GPT-2's alphabet stands for (each character one byte). */
    private static byte[] bytes(String token) {
        byte[] b = new byte[token.length()];
        for (int i = 0; i < b.length; i++) b[i] = (byte) ByteLevel.byteOf(token.charAt(i));
        return b;
    }

    /** tiktoken's rule as a merge table: every split of every normal token into two tokens, ranked by its id. */
    private static MergeTable concatenationRanks(Vocabulary v, Map<String, Integer> ids) {
        String[] tokens = v.tokens();
        int[] merged = new int[tokens.length];
        for (int id = 0; id < tokens.length; id++) merged[id] = id;
        int count = 0;
        for (int pass = 0; pass < 2; pass++) {
            LongIntMap map = pass == 0 ? null : new LongIntMap(count);
            for (int id = 0; id < tokens.length; id++) {
                String t = tokens[id];
                if (v.types()[id] != TokenType.NORMAL) continue;
                for (int k = 1; k < t.length(); k++) {
                    Integer a = ids.get(t.substring(0, k)), b = ids.get(t.substring(k));
                    if (a == null || b == null) continue;
                    if (map == null) count++;
                    else map.putIfAbsent(MergeTable.pair(a, b), id);
                }
            }
            if (map != null) return new MergeTable(map, merged);
        }
        throw new AssertionError("two passes");
    }

    @Override
    public void encode(String text, boolean afterSpecial, IntList out) {
        int[] cp = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); n++) {
            cp[n] = text.codePointAt(i);
            i += Character.charCount(cp[n]);
        }
        byte[] utf8 = text.getBytes(UTF_8);
        int[] id = new int[utf8.length], scratch = new int[3 * utf8.length];
        LongHeap heap = new LongHeap();
        IntList words = new IntList();
        if (n > 0) preTokenizer.split(cp, 0, n, words);
        for (int w = 0, c = 0, from = 0; w < words.size(); w++) {
            int to = from;
            for (int end = words.get(w); c < end; c++) to += cp[c] < 0x80 ? 1 : cp[c] < 0x800 ? 2 : cp[c] < 0x10000 ? 3 : 4;
            int whole = wholeWords == null ? -1 : wholeWords.get(utf8, from, to);
            if (whole >= 0) {
                out.add(whole);
            } else {
                for (int i = from; i < to; i++) id[i] = byteIds[utf8[i] & 0xFF];
                merges.merge(id, from, to, scratch, heap, out);
            }
            from = to;
        }
    }
}
