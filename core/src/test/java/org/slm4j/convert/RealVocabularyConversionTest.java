package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.GgufFile;
import org.slm4j.format.Progress;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.model.RandomHfFolder;
import org.slm4j.model.RandomModel;
import org.slm4j.testing.LlamaCpp;
import org.slm4j.testing.Shared;

/**
 * Real 32000-token vocabularies in a small random model, converted, then tokenized by llama.cpp itself: Llama 2's
 * tokenizer.model must give llama.cpp's own test vectors and the very pieces and scores of llama.cpp's converted
 * Llama vocabulary; Mistral's tokenizer.json alone (no tokenizer.model) must give the Mistral vectors, which the
 * merge-rank scores make possible.
 */
class RealVocabularyConversionTest {
    @TempDir
    Path tmp;

    private Path folderWith(String name, String... tokenizerFiles) throws IOException {
        Path hf = tmp.resolve(name);
        RandomHfFolder.write(new RandomModel.Dims("llama", 32000, 64, 96, 1, 4, 2, 16, 128, 0), name, Dtype.F32, 5, hf);
        Files.delete(hf.resolve("tokenizer.json"));
        for (String f : tokenizerFiles) Files.copy(Shared.file(f), hf.resolve(Path.of(f).getFileName()));
        return hf;
    }

    @Test
    void llama2IsLlamaCppsOwnVocabulary() throws IOException {
        Path hf = folderWith("llama2", "tokenizers/llama2/tokenizer.model", "tokenizers/llama2/tokenizer.json");
        Path out = tmp.resolve("llama2.gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);
        try (GgufFile ours = GgufFile.open(out);
             GgufFile theirs = GgufFile.open(Shared.file("tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            assertArrayEquals(theirs.getStringArray("tokenizer.ggml.tokens"), ours.getStringArray("tokenizer.ggml.tokens"));
            float[] sa = theirs.getFloatArray("tokenizer.ggml.scores"), sb = ours.getFloatArray("tokenizer.ggml.scores");
            int[] a = theirs.getIntArray("tokenizer.ggml.token_type"), b = ours.getIntArray("tokenizer.ggml.token_type");
            assertEquals(a.length, b.length);
            // ids 0-2 follow tokenizer_config.json's added_tokens_decoder (special: CONTROL, score -1000) as the
            // converter does; llama.cpp's vocabulary file was made from a config without it
            for (int i = 0; i < 3; i++) assertEquals(3, b[i], "token_type[" + i + "]");
            for (int i = 3; i < a.length; i++) {
                assertEquals(a[i], b[i], "token_type[" + i + "]");
                assertEquals(sa[i], sb[i], "scores[" + i + "]");
            }
        }
        Path dir = Shared.file("tokenizers/llamacpp-vocab");
        // llama.cpp's test-tokenizer-0 files: texts separated by a marker line, one line of ids per text
        List<String> texts = new ArrayList<>(List.of(Files.readString(dir.resolve("ggml-vocab-llama-spm.gguf.inp"))
                .split("\n__ggml_vocab_test__\n", -1)));
        List<String> outputs = Files.readAllLines(dir.resolve("ggml-vocab-llama-spm.gguf.out"));
        texts.removeLast();   // the marker after the last text
        assertEquals(outputs.size(), texts.size());
        List<int[]> got = LlamaCpp.tokenize(out, texts);
        int checked = 0;
        for (int i = 0; i < texts.size(); i++) {
            String want = outputs.get(i).strip();
            int[] ids = want.isEmpty() ? new int[0] : java.util.Arrays.stream(want.split(" ")).mapToInt(Integer::parseInt).toArray();
            assertArrayEquals(ids, got.get(i), "llama.cpp on the converted Llama 2 vocabulary: \"" + texts.get(i) + "\"");
            checked++;
        }
        assertTrue(checked > 30, checked + " vectors");
    }

    @Test
    void mistralTokenizerJsonAloneTokenizesAsMistral() throws IOException {
        Path hf = folderWith("mistral", "tokenizers/mistral-v0.1/tokenizer.json");
        Path out = tmp.resolve("mistral.gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);
        JsonNode tests = HfToGgufTest.JSON.readTree(
                Shared.file("tokenizers/mistral-v0.1/testvectors.mistral-tokenizer-js-1.0.0.json").toFile()).get("tests");
        List<String> texts = new ArrayList<>();
        for (JsonNode t : tests) texts.add(t.get("input").asText());
        List<int[]> got = LlamaCpp.tokenize(out, texts);
        for (int i = 0; i < texts.size(); i++) {
            int[] withBos = HfToGgufTest.ints(tests.get(i).get("expected_ids_with_bos"));
            assertArrayEquals(java.util.Arrays.copyOfRange(withBos, 1, withBos.length), got.get(i), "\"" + texts.get(i) + "\"");
        }
    }
}
