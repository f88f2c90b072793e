package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slm4j.format.GgufFile;
import org.slm4j.testing.Shared;

/** SentencePiece BPE ("llama" vocabularies) against ids produced by llama.cpp and other tokenizers. */
class SentencePieceVectorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Tokenizer llama2;

    @BeforeAll
    static void loadLlama2() {
        // llama.cpp's vocab-only GGUF of the Llama 2 (= TinyLlama) vocabulary
        llama2 = load("tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf");
    }

    static Tokenizer load(String shared) {
        try (GgufFile g = GgufFile.open(Shared.file(shared))) {
            return Tokenizer.fromGguf(g);
        }
    }

    /** The GGUF vocabulary is Llama 2's: every id has the piece that Llama 2's tokenizer.json gives it. */
    @Test
    void sameVocabularyAsLlama2() throws IOException {
        JsonNode vocab = JSON.readTree(Shared.file("tokenizers/llama2/tokenizer.json").toFile()).get("model").get("vocab");
        assertEquals(llama2.vocabSize(), vocab.size());
        vocab.properties().forEach(e -> assertEquals(e.getKey(), llama2.piece(e.getValue().asInt())));
    }

    /** llama.cpp's test-tokenizer-0 vectors: inputs split by the marker line, no BOS, no special parsing. */
    @Test
    void llamaCppVocabVectors() throws IOException {
        Path inp = Shared.file("tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp");
        String raw = Files.readString(inp, UTF_8);
        List<String> inputs = new ArrayList<>(Arrays.asList(raw.split("\n__ggml_vocab_test__\n", -1)));
        if (inputs.getLast().isEmpty()) inputs.removeLast(); // the file ends with a marker
        List<String> outputs = Files.readAllLines(inp.resolveSibling("ggml-vocab-llama-spm.gguf.out"), UTF_8);
        assertEquals(outputs.size(), inputs.size(), "one output line per input");
        assertEquals(46, inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            String line = outputs.get(i).strip();
            int[] want = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            assertArrayEquals(want, llama2.encode(inputs.get(i), false, false), "input " + i + ": \"" + inputs.get(i) + "\"");
        }
    }

    /**
     * The same llama.cpp vectors with BOS, and llama-tokenizer-js's own vectors (Llama 2 vocabulary), all with BOS
     * 1 first. None is skipped: both follow SentencePiece's dummy prefix convention, as llama.cpp does.
     */
    @Test
    void llama2JsonVectors() throws IOException {
        int n = 0;
        for (String f : List.of("testvectors.llama.cpp-llama-spm.json", "testvectors.llama-tokenizer-js-1.2.2.json")) {
            JsonNode tests = JSON.readTree(Shared.file("tokenizers/llama2/" + f).toFile()).get("tests");
            for (JsonNode t : tests) {
                String text = t.get("input").asText();
                int[] want = ints(t.get("expected_ids_with_bos"));
                assertArrayEquals(want, llama2.encode(text, true, false), f + ": \"" + text + "\"");
                n++;
            }
        }
        assertTrue(n > 46, n + " vectors");
    }

    /** Text outside the vocabulary (emoji, CJK) falls back to byte tokens; streaming them gives whole characters. */
    @Test
    void llama2RoundTripAndStreaming() throws IOException {
        Random r = new Random(11);
        List<String> texts = new ArrayList<>(ByteLevelVectorsTest.TRICKY);
        for (int i = 0; i < 300; i++) texts.add(RandomText.of(r, 40));
        for (String s : texts) {
            if (s.isEmpty()) continue;
            int[] ids = llama2.encode(s, true, false);
            assertEquals(" " + s, llama2.decode(ids), s);
            StreamingDecoder d = llama2.newStreamingDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                String piece = d.accept(id);
                assertFalse(piece.contains("\uFFFD") && !s.contains("\uFFFD"), "piece cut inside a character: " + s);
                streamed.append(piece);
            }
            assertEquals(" " + s, streamed.append(d.flush()).toString());
        }
        String lama = "🦙";
        int[] ids = llama2.encode(lama, false, false);
        assertArrayEquals(new int[] {29871, 243, 162, 169, 156}, ids, "▁ and the four bytes of U+1F999");
        StreamingDecoder d = llama2.newStreamingDecoder();
        assertEquals(List.of(" ", "", "", "", lama), Arrays.stream(ids).mapToObj(d::accept).toList());
    }

    @Test
    void llama2Specials() {
        assertEquals(32000, llama2.vocabSize());
        assertEquals(1, llama2.bos());
        assertEquals(2, llama2.eos());
        assertTrue(llama2.addBosByDefault());
        assertFalse(llama2.addEosByDefault());
        assertTrue(llama2.isEndOfGeneration(2));
        assertFalse(llama2.isEndOfGeneration(1));
        assertEquals("<s>", llama2.piece(1));
        assertEquals("▁Hello", llama2.piece(15043));
        assertEquals("<0x0A>", llama2.piece(13));
        // special text is text unless asked: "<s>" alone is then 3 pieces; parsed, it is BOS itself
        assertArrayEquals(new int[] {1, 1}, llama2.encode("<s>", true, true));
        assertArrayEquals(new int[] {1, 529, 29879, 29958}, llama2.encode("<s>", true, false));
    }

    /** stories260K's 512-piece vocabulary: llama-tokenize ids with BOS, and with special-token parsing where given. */
    @Test
    void stories260K() throws IOException {
        Tokenizer t = load("models/stories260K/stories260K-f32.gguf");
        JsonNode vectors = JSON.readTree(Shared.file("models/stories260K/fixtures/stories260K-tokenizer_vectors.json").toFile()).get("vectors");
        assertEquals(30, vectors.size());
        int special = 0;
        for (JsonNode v : vectors) {
            String text = v.get("text").asText();
            int[] ids = ints(v.get("ids"));
            assertArrayEquals(ids, t.encode(text, true, false), "\"" + text + "\"");
            if (v.has("ids_parse_special")) {
                assertArrayEquals(ints(v.get("ids_parse_special")), t.encode(text, true, true), "parsed: \"" + text + "\"");
                special++;
            } else {
                assertArrayEquals(ids, t.encode(text, true, true), "parsed, same ids: \"" + text + "\"");
            }
            JsonNode pieces = v.get("tokens");
            for (int i = 0; i < ids.length; i++) assertEquals(pieces.get(i).asText(), t.piece(ids[i]));
            // decoding gives back the dummy-prefix space with the text; the empty text has no piece to carry it
            assertEquals(text.isEmpty() ? "" : " " + text, t.decode(ids), "decode of \"" + text + "\"");
        }
        assertEquals(1, special);
    }

    /** The tiny llama fixture (first 512 Llama 2 pieces): llama.cpp's ids, no BOS. */
    @Test
    void tinyLlama() throws IOException {
        Tokenizer t = load("fixtures/llamacpp/tiny-llama-f32.gguf");
        JsonNode v = JSON.readTree(Shared.file("fixtures/hf/tokenizer-vectors.json").toFile());
        JsonNode strings = v.get("strings"), ids = v.get("llama-family").get("llamacpp");
        assertEquals(13, strings.size());
        for (int i = 0; i < strings.size(); i++) {
            assertArrayEquals(ints(ids.get(i)), t.encode(strings.get(i).asText(), false, false), strings.get(i).asText());
        }
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }
}
