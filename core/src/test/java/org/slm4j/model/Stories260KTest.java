package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.generate.GenerationOptions;
import org.slm4j.generate.Generator;
import org.slm4j.testing.Shared;

/**
 * A real trained model: llama2.c's stories260K must reproduce the original run.c program's greedy text
 * byte for byte. run.c prints no leading space after BOS and ends with a newline; the rest is ours.
 */
class Stories260KTest {
    @Test
    void greedyFromBosReproducesRunC() throws IOException {
        String golden = Files.readString(Shared.file("models/stories260K/fixtures/golden_greedy_t0_n256.txt"), StandardCharsets.UTF_8);
        assertEquals(golden, runC(new int[] {1}, 256));
    }

    @Test
    void greedyFromPromptReproducesRunC() throws IOException {
        String golden = Files.readString(
                Shared.file("models/stories260K/fixtures/golden_greedy_t0_n64_prompt_once_upon_a_time.txt"), StandardCharsets.UTF_8);
        try (Model model = Models.open(Shared.file("models/stories260K/stories260K-f32.gguf"))) {
            int[] prompt = model.tokenizer().encode("Once upon a time", true, false);
            assertArrayEquals(new int[] {1, 403, 407, 261, 378}, prompt);
        }
        // run.c -n 64 with this 5-token prompt printed 60 new tokens (stories260K-golden_runc_check.json)
        assertEquals(golden, runC(new int[] {1, 403, 407, 261, 378}, 60));
    }

    /** What run.c prints: the prompt's text, then the greedy continuation, without the leading space, plus "\n". */
    static String runC(int[] prompt, int steps) throws IOException {
        try (Model model = Models.open(Shared.file("models/stories260K/stories260K-f32.gguf"))) {
            Generator.Result r = model.generator(GenerationOptions.greedy().withMaxTokens(steps))
                    .generate(prompt, (id, text) -> {});
            assertEquals(steps, r.tokens().length, "no end-of-generation token expected: " + r.stopReason());
            String promptText = model.tokenizer().decode(java.util.Arrays.copyOfRange(prompt, 1, prompt.length));
            String text = promptText + r.text();
            return text.substring(text.startsWith(" ") ? 1 : 0) + "\n";
        }
    }
}
