package org.slm4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufWriter;
import org.slm4j.format.ModelFormatException;

/** Bad tokenizer metadata ends in a ModelFormatException naming the file and the key, never anything else. */
class HostileVocabularyTest {
    private static final String K = "tokenizer.ggml.";

    @TempDir
    Path dir;

    /** A tiny SentencePiece vocabulary: unk, BOS, EOS, the 256 byte tokens, "▁a", "a". */
    private static GgufWriter llama() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        int[] types = new int[261];
        types[0] = 2;
        types[1] = types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens.add("<0x%02X>".formatted(b));
            types[3 + b] = 6;
        }
        tokens.addAll(List.of("▁a", "a"));
        types[259] = types[260] = 1;
        return new GgufWriter().putString(K + "model", "llama").putStringArray(K + "tokens", tokens.toArray(String[]::new))
                .putFloat32Array(K + "scores", new float[261]).putInt32Array(K + "token_type", types);
    }

    /** A tiny byte-level vocabulary: GPT-2's 256 byte characters, "ab", "<|endoftext|>"; one merge "a b". */
    private static GgufWriter gpt2() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevel.charOf(b)));
        tokens.addAll(List.of("ab", "<|endoftext|>"));
        int[] types = new int[258];
        java.util.Arrays.fill(types, 1);
        types[257] = 3;
        return new GgufWriter().putString(K + "model", "gpt2").putString(K + "pre", "gpt-2")
                .putStringArray(K + "tokens", tokens.toArray(String[]::new)).putInt32Array(K + "token_type", types)
                .putStringArray(K + "merges", "a b").putUInt32(K + "bos_token_id", 257).putUInt32(K + "eos_token_id", 257);
    }

    private Tokenizer load(GgufWriter w) {
        Path p = dir.resolve("t.gguf");
        w.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            return Tokenizer.fromGguf(g);
        }
    }

    private void rejects(GgufWriter w, String key) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w));
        assertTrue(e.getMessage().contains(key), "names " + key + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("t.gguf"), "names the file: " + e.getMessage());
    }

    @Test
    void theBaseVocabulariesWork() {
        Tokenizer spm = load(llama());
        assertArrayEquals(new int[] {1, 259, 260, 3 + 'b'}, spm.encode("aab", true, false));
        Tokenizer bpe = load(gpt2());
        // this vocabulary puts byte b at id b: "ab" merges, 'c' is 99
        assertArrayEquals(new int[] {256, 99, 257}, bpe.encode("abc<|endoftext|>", false, true));
        assertEquals(257, bpe.bos());
    }

    @Test
    void emptyVocabulary() {
        rejects(llama().putStringArray(K + "tokens").putFloat32Array(K + "scores").putInt32Array(K + "token_type"), K + "tokens");
        rejects(gpt2().putStringArray(K + "tokens").putInt32Array(K + "token_type"), K + "tokens");
    }

    @Test
    void arraysOfTheWrongLength() {
        rejects(llama().putFloat32Array(K + "scores", new float[260]), K + "scores");
        rejects(llama().putFloat32Array(K + "scores", new float[262]), K + "scores");
        rejects(llama().putInt32Array(K + "token_type", new int[5]), K + "token_type");
        float[] scores = new float[261];
        scores[100] = Float.NaN; // no place in a highest-score-first order
        rejects(llama().putFloat32Array(K + "scores", scores), K + "scores");
    }

    @Test
    void mergesNamingUnknownTokens() {
        rejects(gpt2().putStringArray(K + "merges", "a b", "x zz"), K + "merges");
        rejects(gpt2().putStringArray(K + "merges", "ab c"), K + "merges"); // "abc" is no token
        rejects(gpt2().putStringArray(K + "merges", "ab"), K + "merges");
        rejects(gpt2().putStringArray(K + "merges", ""), K + "merges");
    }

    @Test
    void tokenTypesOutOfRange() {
        int[] types = new int[261];
        java.util.Arrays.fill(types, 1);
        types[7] = 7;
        rejects(llama().putInt32Array(K + "token_type", types), K + "token_type");
        types[7] = -1;
        rejects(llama().putInt32Array(K + "token_type", types), K + "token_type");
        types[7] = 1;
        types[259] = 6; // BYTE, but "▁a" is no <0xNN>
        rejects(llama().putInt32Array(K + "token_type", types), K + "token_type");
    }

    @Test
    void specialIdsOutsideTheVocabulary() {
        for (String key : List.of("bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id", "eot_token_id")) {
            rejects(llama().putUInt32(K + key, 261), K + key);
            rejects(gpt2().putUInt32(K + key, 1L << 31), K + key);
        }
        // (uint32) -1 is the converters' "none": llama.cpp then keeps its default (here BOS 1)
        assertEquals(1, load(llama().putUInt32(K + "bos_token_id", 0xFFFF_FFFFL)).bos());
    }

    @Test
    void unsupportedOrIncompleteVocabularies() {
        rejects(llama().putString(K + "model", "bert"), K + "model");
        rejects(gpt2().putString(K + "pre", "some-future-regex"), K + "pre");
        rejects(new GgufWriter().putString(K + "model", "llama"), K + "tokens");
        rejects(gpt2().put(K + "merges", org.slm4j.format.GgufValue.ofInt32(3)), K + "merges");
        rejects(new GgufWriter().putString(K + "model", "gpt2").putString(K + "pre", "gpt-2")
                .putStringArray(K + "tokens", "a", "b", "ab").putStringArray(K + "merges", "a b"), K + "tokens"); // no byte tokens
    }

    /** Built directly (not from GGUF, where llama's unknown token defaults to id 0): no <0xNN> tokens and no unk. */
    @Test
    void sentencePieceWithoutByteFallback() {
        TokenType[] types = {TokenType.CONTROL, TokenType.CONTROL, TokenType.NORMAL};
        Vocabulary v = new Vocabulary(Vocabulary.Model.SENTENCEPIECE, null, new String[] {"<s>", "</s>", "a"}, new float[3], types,
                new String[0], 0, 1, -1, -1, new int[] {1}, true, false, true);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.of(v));
        assertTrue(e.getMessage().contains(K + "tokens"), e.getMessage());
        // with an unknown token, characters outside the vocabulary become it, byte by byte
        Vocabulary withUnk = new Vocabulary(Vocabulary.Model.SENTENCEPIECE, null, new String[] {"<unk>", "</s>", "▁a"}, new float[3],
                new TokenType[] {TokenType.UNKNOWN, TokenType.CONTROL, TokenType.NORMAL}, new String[0], -1, 1, 0, -1, new int[] {1},
                false, false, true);
        assertArrayEquals(new int[] {2, 0, 0, 0, 0, 0}, Tokenizer.of(withUnk).encode("aé ", false, false), "▁a, é (2 bytes), ▁ (3)");
    }
}
