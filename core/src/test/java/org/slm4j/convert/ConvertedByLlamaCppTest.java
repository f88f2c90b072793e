package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.Progress;
import org.slm4j.generate.GenerationOptions;
import org.slm4j.testing.LlamaCpp;
import org.slm4j.testing.Shared;

/**
 * llama.cpp itself loads what the converter writes: the same prompt ids and the same greedy text as slm4j on the
 * same converted file, and the same ids on text with spaces, digits, bytes and special-token text.
 */
class ConvertedByLlamaCppTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({
        "models/stories260K/hf,    F32,  Once upon a time",
        "models/stories260K/hf,    Q8_0, Once upon a time",
        "fixtures/hf/tiny-stablelm, F32, Hello world",
        "fixtures/hf/tiny-danube,  F32,  Hello world"})
    void llamaCppGreedyTextEqualsOurs(String folder, FileType type, String prompt) {
        Path out = tmp.resolve("converted.gguf");
        HfToGguf.convert(Shared.file(folder), out, type, Progress.NONE);
        LlamaCpp.Completion reference = LlamaCpp.complete(out, prompt, 32);
        try (Model model = Models.open(out)) {
            assertArrayEquals(reference.promptTokens(), model.tokenizer().encode(prompt, false, true), folder + " prompt ids");
            String ours = model.generator(GenerationOptions.greedy().withMaxTokens(32)).generate(prompt).text();
            System.out.printf("%s %s: llama.cpp %s%n", folder, type, reference.text().replace("\n", "\\n"));
            assertEquals(reference.text(), ours, folder + " " + type);
        }
    }

    @ParameterizedTest
    @CsvSource({"fixtures/hf/tiny-llama", "fixtures/hf/tiny-stablelm", "models/stories260K/hf"})
    void llamaCppTokenizesTheConvertedVocabularyAsWeDo(String folder) {
        Path out = tmp.resolve("converted.gguf");
        HfToGguf.convert(Shared.file(folder), out, FileType.F32, Progress.NONE);
        List<String> texts = List.of("Hello world", " leading space", "tabs\tand\nnewlines  ", "digits 12345 and 3.14",
                "ünïcödé — “quotes”", "emoji 🙂 and 中文", "<s>special</s> <|endoftext|>", "");
        List<int[]> reference = LlamaCpp.tokenize(out, texts);
        try (Model model = Models.open(out)) {
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(reference.get(i), model.tokenizer().encode(texts.get(i), false, true), folder + ": " + texts.get(i));
            }
        }
    }
}
