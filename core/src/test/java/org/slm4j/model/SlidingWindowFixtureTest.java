package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.generate.Sampler;
import org.slm4j.testing.Shared;

/**
 * Sliding-window attention against transformers' rule (../shared/fixtures/swa: W = 4, a 24-token prompt
 * and 32 greedy steps, far past the window). llama.cpp has no window for llama GGUFs, so the reference
 * is a float64 HF-convention forward; the same file without the window must match full attention.
 */
class SlidingWindowFixtureTest {
    @Test
    void windowedLogitsAndGreedyMatchTransformersRule() throws IOException {
        JsonNode ref = LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/swa/tiny-swa-w4.json").toFile());
        try (Model model = Models.open(Shared.file("fixtures/swa/tiny-swa-w4.gguf"))) {
            assertEquals(4, model.config().slidingWindow(), "llama.attention.sliding_window from the GGUF");
            LlamaCppFixturesTest.check("tiny-swa-w4", model, ref, new LlamaCppFixturesTest.Tolerance(1e-4, 1.0, 1.0));
            // the cache for the whole run stays at the window plus the prompt's batch, rounded up to a key block of 16
            // (24 + 32 positions in 32 slots: the greedy steps go round the ring)
            int[] prompt = LlamaCppFixturesTest.ints(ref.get("greedy").get("prompt"));
            assertEquals(32, model.newCache(prompt.length + 32, prompt.length).capacity());
        }
    }

    @Test
    void withoutTheWindowItIsFullAttention() throws IOException {
        JsonNode ref = LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/swa/tiny-swa-w4.json").toFile());
        try (Model model = Models.open(Shared.file("fixtures/swa/tiny-swa-w4.gguf"))) {
            int[] tokens = LlamaCppFixturesTest.ints(ref.get("tokens"));
            float[][] rows = model.withSlidingWindow(0).logits(tokens);
            int vocab = model.config().vocabSize();
            LlamaCppFixturesTest.compare("tiny-swa-w4 full attention", rows, ref.get("logits_full_attention"), 1e-4, 1.0, rows.length);
            // and the windowed run really differs past the window (the fixture's negative control)
            float[][] windowed = model.logits(tokens);
            assertTrue(Math.abs(windowed[10][Sampler.argmax(windowed[10], 0, vocab)] - rows[10][Sampler.argmax(windowed[10], 0, vocab)]) > 1e-2);
        }
    }
}
