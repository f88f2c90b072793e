package org.slm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slm4j.generate.GenerationOptions;
import org.slm4j.testing.LlamaCpp;
import org.slm4j.testing.Shared;

/**
 * llama.cpp (its Java binding, run in a child JVM) and slm4j on the same GGUF file: the same prompt ids, the same
 * greedy text. The harness the converter and quantizer tests use on the files slm4j writes.
 */
class LlamaCppOracleTest {
    private static final String PROMPT = "Once upon a time";

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-f32.gguf", "stories260K-q8_0.gguf"})
    void greedyTextMatchesLlamaCpp(String file) {
        Path gguf = Shared.file("models/stories260K/" + file);
        LlamaCpp.Completion reference = LlamaCpp.complete(gguf, PROMPT, 48);
        try (Model model = Models.open(gguf)) {
            assertArrayEquals(reference.promptTokens(), model.tokenizer().encode(PROMPT, false, true));
            String ours = model.generator(GenerationOptions.greedy().withMaxTokens(48)).generate(PROMPT).text();
            assertEquals(reference.text(), ours);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"fixtures/llamacpp/tiny-llama-f32.gguf", "fixtures/llamacpp/tiny-stablelm-f32.gguf"})
    void tokenizationMatchesLlamaCpp(String file) {
        Path gguf = Shared.file(file);
        List<String> texts = List.of("Hello world", " leading space", "tabs\tand\nnewlines  ", "digits 12345 and 3.14",
                "ünïcödé — “quotes”", "emoji 🙂 and 中文", "");
        List<int[]> reference = LlamaCpp.tokenize(gguf, texts);
        try (Model model = Models.open(gguf)) {
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(reference.get(i), model.tokenizer().encode(texts.get(i), false, true), texts.get(i));
            }
        }
    }
}
