package org.slm4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slm4j.testing.Shared;

/** Tokenizer.open on each source format against the shared vectors (ids from llama.cpp and the JS tokenizers). */
class TokenizerFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static int vectors(Tokenizer t, String dir, List<String> files) throws IOException {
        int n = 0;
        for (String f : files) {
            for (JsonNode v : JSON.readTree(Shared.file("tokenizers/" + dir + "/" + f).toFile()).get("tests")) {
                String text = v.get("input").asText();
                int[] want = new int[v.get("expected_ids_with_bos").size()];
                for (int i = 0; i < want.length; i++) want[i] = v.get("expected_ids_with_bos").get(i).asInt();
                assertArrayEquals(want, t.encode(text, true, false), f + ": \"" + text + "\"");
                n++;
            }
        }
        return n;
    }

    private static final List<String> LLAMA2 = List.of("testvectors.llama.cpp-llama-spm.json", "testvectors.llama-tokenizer-js-1.2.2.json");

    @Test
    void llama2TokenizerJson() throws IOException {
        Tokenizer t = Tokenizer.open(Shared.file("tokenizers/llama2/tokenizer.json"));
        assertTrue(vectors(t, "llama2", LLAMA2) > 46);
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertTrue(t.addBosByDefault(), "the post-processor adds <s>");
        assertFalse(t.addEosByDefault());
        assertArrayEquals(new int[] {1, 29871, 243, 162, 169, 156}, t.encode("🦙", true, false), "byte fallback");
        // the " " between the specials gets its own dummy prefix: "▁▁" (259)
        assertArrayEquals(new int[] {1, 1, 259, 2}, t.encode("<s> </s>", true, true), "specials parsed");
    }

    @Test
    void llama2SentencePieceModel() throws IOException {
        Tokenizer t = Tokenizer.open(Shared.file("tokenizers/llama2/tokenizer.model"));
        assertTrue(vectors(t, "llama2", LLAMA2) > 46);
        assertEquals(32000, t.vocabSize());
        assertEquals(0, t.encode("<unk>", false, true)[0]);
        assertEquals("▁Hello", t.piece(15043));
    }

    @Test
    void mistralTokenizerJson() throws IOException {
        Tokenizer t = Tokenizer.open(Shared.file("tokenizers/mistral-v0.1/tokenizer.json"));
        assertTrue(vectors(t, "mistral-v0.1", List.of("testvectors.mistral-tokenizer-js-1.0.0.json")) > 10);
        assertEquals(32000, t.vocabSize());
    }

    /** The HF fixtures: a ByteLevel tokenizer.json with its config, and Llama-layout files (config beside). */
    @Test
    void hfFixtureFolders() {
        Tokenizer stablelm = Tokenizer.open(Shared.file("fixtures/hf/tiny-stablelm/tokenizer.json"));
        assertEquals(512, stablelm.vocabSize());
        assertEquals(500, stablelm.eos());
        assertFalse(stablelm.addBosByDefault(), "tokenizer_config.json says add_bos_token false");
        assertTrue(stablelm.isEndOfGeneration(500));
        String text = "Hello world, it's 2024!\n\tok";
        assertEquals(text, stablelm.decode(stablelm.encode(text, false, false)));

        Tokenizer llamaModel = Tokenizer.open(Shared.file("fixtures/hf/tiny-llama/tokenizer.model"));
        // README: SentencePiece gives ▁H el lo ▁w or ld, HF BPE (no single characters in this vocab) only bytes
        assertArrayEquals(new int[] {379, 295, 417, 281, 272, 430}, llamaModel.encode("Hello world", false, false));
        Tokenizer llamaJson = Tokenizer.open(Shared.file("fixtures/hf/tiny-llama/tokenizer.json"));
        int[] ids = llamaJson.encode("Hello world", false, false);
        assertEquals(16, ids.length, "16 byte tokens: HF BPE only merges listed pairs of vocab symbols");
        // byte tokens decode to their bytes, '▁' included, as HF's decoder chain (Replace, then ByteFallback) does
        assertEquals("▁Hello▁world", llamaJson.decode(ids));
        assertTrue(llamaJson.addBosByDefault());
    }

    @Test
    void cl100kTiktoken() {
        Tokenizer t = Tokenizer.open(Shared.file("tokenizers/tiktoken/cl100k_base.tiktoken"));
        assertEquals(100277, t.vocabSize());
        assertEquals(100257, t.eos());
        // tiktoken's documented example: "hello world" -> [15339, 1917]
        assertArrayEquals(new int[] {15339, 1917}, t.encode("hello world", false, false));
        assertArrayEquals(new int[] {100257}, t.encode("<|endoftext|>", false, true));
        assertEquals("<|endoftext|>".length() > 1, t.encode("<|endoftext|>", false, false).length > 1);
    }
}
