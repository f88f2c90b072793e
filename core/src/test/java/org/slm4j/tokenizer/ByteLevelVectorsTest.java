package org.slm4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufWriter;
import org.slm4j.testing.Shared;

/** Byte-level BPE ("gpt2" vocabularies) against llama.cpp's ids, and lossless round trips. */
class ByteLevelVectorsTest {
    /** The tiny StableLM fixture (first 500 GPT-2 tokens and their merges, pre "gpt-2"): llama.cpp's ids, no BOS. */
    @Test
    void tinyStableLm() throws IOException {
        Tokenizer t = SentencePieceVectorsTest.load("fixtures/llamacpp/tiny-stablelm-f32.gguf");
        JsonNode v = new ObjectMapper().readTree(Shared.file("fixtures/hf/tokenizer-vectors.json").toFile());
        JsonNode strings = v.get("strings"), ids = v.get("stablelm").get("llamacpp");
        assertEquals(13, strings.size());
        for (int i = 0; i < strings.size(); i++) {
            String s = strings.get(i).asText();
            int[] want = SentencePieceVectorsTest.ints(ids.get(i));
            assertArrayEquals(want, t.encode(s, false, false), s);
            assertArrayEquals(want, t.encode(s, false, true), "no special text in: " + s);
            assertEquals(s, t.decode(want));
        }
        assertEquals(512, t.vocabSize());
        assertEquals(500, t.bos());
        assertEquals(500, t.eos());
        assertFalse(t.addBosByDefault());
        assertTrue(t.isEndOfGeneration(500));
        assertEquals("Ġb", t.piece(275));
        // GPT-2 numbers the printable ASCII bytes first: 'a' is 64, 'b' 65
        assertArrayEquals(new int[] {500, 64, 500, 65}, t.encode("a<|endoftext|>b", true, true));
        int[] plain = t.encode("a<|endoftext|>b", false, false);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == 500), "unparsed, special text is text");
        assertEquals("a<|endoftext|>b", t.decode(plain));
        assertEquals("ab", t.decode(new int[] {64, 500, 65}), "control tokens decode to nothing");
        assertEquals("", t.decode(new int[] {505}), "[PAD505] is unused: nothing");
    }

    /**
     * The same vocabulary under StableLM 2's pattern ({@code tokenizer.ggml.pre} "stablelm2"): digits go one by one
     * and the space before them stands alone; the other words are as under GPT-2 (ids from the vector above).
     */
    @Test
    void stableLm2Pattern(@TempDir Path dir) {
        Path p = dir.resolve("stablelm2.gguf");
        try (GgufFile g = GgufFile.open(Shared.file("fixtures/llamacpp/tiny-stablelm-f32.gguf"))) {
            String k = "tokenizer.ggml.";
            new GgufWriter().putString(k + "model", "gpt2").putString(k + "pre", "stablelm2")
                    .putStringArray(k + "tokens", g.getStringArray(k + "tokens"))
                    .putInt32Array(k + "token_type", g.getIntArray(k + "token_type"))
                    .putStringArray(k + "merges", g.getStringArray(k + "merges"))
                    .putUInt32(k + "bos_token_id", 500).putUInt32(k + "eos_token_id", 500).write(p);
        }
        Tokenizer t;
        try (GgufFile g = GgufFile.open(p)) {
            t = Tokenizer.fromGguf(g);
        }
        // GPT-2 pattern: [40 "I", 423 " have", 352 " 1", 17 "2", 18 "3", 257 381 75 274 " apples", 11 ",", 290 " and", 345 " you", 30 "?"]
        assertArrayEquals(new int[] {40, 423, 220, 16, 17, 18, 257, 381, 75, 274, 11, 290, 345, 30},
                t.encode("I have 123 apples, and you?", false, false));
    }

    static final List<String> TRICKY = List.of(
            "", " ", "  ", "\n", "\r\n", "\t\t x", "Hello world", "  leading and trailing  ", "line one\nline two\n\n",
            "I'm sure they'll've done it; it's 'quoted' 'S 'LL", "3.14159 and 2,718 and 1e-5 and 1234567",
            "héllo wörld naïve café", "Привет, мир", "こんにちは世界", "你好，世界！", "한국어 텍스트", "emoji 😀🎉👍",
            "family 👨\u200d👩\u200d👧 with ZWJ", "def add(a, b):\n    return a + b\n", "for (int i = 0; i < n; i++) { x[i]++; }",
            "https://example.com/path?q=1&x=2#frag", "Ünïcödé ☃ ∑ → ≠ ½ ٣ ⅷ", "<|endoftext|> and <s> are text here",
            "a\u00A0b\u3000c\u2028d\u0085e", "combining e\u0301 and \u0928\u093F", "`back`ticks` $dollar ^caret ~tilde |pipe");

    /** GPT-NeoX's vocabulary has no tokenizer.ggml.pre: llama.cpp's default splitting; decoding gives the text back. */
    @Test
    void gptNeoxRoundTrip() {
        Tokenizer t = SentencePieceVectorsTest.load("tokenizers/llamacpp-vocab/ggml-vocab-gpt-neox.gguf");
        assertEquals(50432, t.vocabSize());
        assertEquals(0, t.bos());
        assertEquals(0, t.eos());
        assertEquals("<|endoftext|>", t.piece(0));
        assertTrue(t.isEndOfGeneration(0));
        assertFalse(t.addBosByDefault());
        for (String s : TRICKY) assertEquals(s, t.decode(t.encode(s, false, false)), s);
        Random r = new Random(7);
        for (int i = 0; i < 300; i++) {
            String s = RandomText.of(r, 40);
            assertEquals(s, t.decode(t.encode(s, false, false)), s);
        }
        assertArrayEquals(new int[] {0, 0}, t.encode("<|endoftext|>", true, true));
    }
}
