package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.ModelFormatException;
import org.slm4j.tensor.Kernels;
import org.slm4j.testing.Shared;

/**
 * Hugging Face folders against llama.cpp: ../shared/fixtures/hf holds the exact weights of the llama.cpp fixture
 * GGUFs, with q/k in HF's rotate_half order, so running them with {@link RopeLayout#HALF} and no permutation must
 * give llama.cpp's logits (1e-4 at every position) and its 16 greedy tokens.
 */
class HfFixturesTest {
    static final LlamaCppFixturesTest.Tolerance F32 = new LlamaCppFixturesTest.Tolerance(1e-4, 1.0, 1.0);

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-stablelm", "tiny-danube"})
    void tinyFoldersMatchLlamaCpp(String name) throws IOException {
        JsonNode ref = LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/llamacpp/" + name + "-f32.json").toFile());
        try (Model model = Models.open(Shared.file("fixtures/hf/" + name))) {
            assertEquals(RopeLayout.HALF, model.config().ropeLayout());
            LlamaCppFixturesTest.check("hf/" + name, model, ref, F32);
        }
    }

    @Test
    void stablelmConfigIsReadAsTheGgufSays() {
        try (Model model = Models.open(Shared.file("fixtures/hf/tiny-stablelm"))) {
            ModelConfig c = model.config();
            assertEquals(NormKind.LAYER, c.norm());
            assertTrue(c.qkvBias());
            assertEquals(16, c.headDim());
            assertEquals(4, c.rotaryDims(), "partial_rotary_factor 0.25 of 16 dims");
            assertNotSame(model.weights().tokenEmbd(), model.weights().output(), "lm_head.weight is its own tensor");
        }
    }

    @Test
    void stories260KTiedEmbeddingsMatchItsGguf() throws IOException {
        JsonNode ref = LlamaCppFixturesTest.JSON.readTree(Shared.file("models/stories260K/fixtures/stories260K-f32.json").toFile());
        try (Model model = Models.open(Shared.file("models/stories260K/hf"))) {
            assertSame(model.weights().tokenEmbd(), model.weights().output(), "tie_word_embeddings: the head is the embedding");
            LlamaCppFixturesTest.check("hf/stories260K", model, ref, F32);
        }
    }

    @Test
    void slidingWindowFromConfig() throws IOException {
        JsonNode ref = LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/swa/tiny-swa-w4.json").toFile());
        try (Model model = Models.open(Shared.file("fixtures/swa/tiny-swa-w4-hf"))) {
            assertEquals(4, model.config().slidingWindow(), "sliding_window from config.json");
            LlamaCppFixturesTest.check("hf/tiny-swa-w4", model, ref, F32);
        }
    }

    /** The negative control: the same HF weights run with adjacent-pair RoPE are a different model. */
    @Test
    void adjacentPairRopeOnHfWeightsDoesNotMatch() throws IOException {
        JsonNode ref = LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/llamacpp/tiny-llama-f32.json").toFile());
        try (Model model = Models.open(Shared.file("fixtures/hf/tiny-llama"))) {
            ModelConfig c = model.config();
            ModelConfig adjacent = new ModelConfig(c.architecture(), c.vocabSize(), c.dim(), c.layers(), c.heads(), c.kvHeads(),
                    c.headDim(), c.ffnDim(), c.norm(), c.normEps(), c.qkvBias(), c.rotaryDims(), RopeLayout.ADJACENT,
                    c.ropeTheta(), c.contextLength(), c.slidingWindow(), c.qkNorm(), c.parallelResidual(), c.ropeFreqScale());
            int[] tokens = LlamaCppFixturesTest.ints(ref.get("tokens"));
            Transformer t = new Transformer(adjacent, model.weights(), Kernels.best(), tokens.length);
            float[] flat = t.forward(Batch.of(new KvCache(adjacent, tokens.length, tokens.length), tokens, true));
            double max = 0;
            for (int i = 0; i < flat.length; i++) {
                max = Math.max(max, Math.abs(flat[i] - ref.get("logits").get(i / c.vocabSize()).get(i % c.vocabSize()).asDouble()));
            }
            System.out.printf("hf/tiny-llama with ADJACENT rope: max |diff| %.3f%n", max);
            assertTrue(max > 0.5, "adjacent-pair RoPE on rotate_half weights should not match llama.cpp, max diff " + max);
        }
    }

    @Test
    void hfFoldersTokenizeAsTheirTokenizerJsonSays() throws java.io.IOException {
        // stories260K's tokenizer.json gives llama.cpp's ids on all 30 vectors (checked with HF tokenizers via DJL)
        var vectors = LlamaCppFixturesTest.JSON.readTree(
                Shared.file("models/stories260K/fixtures/stories260K-tokenizer_vectors.json").toFile()).get("vectors");
        try (Model model = Models.open(Shared.file("models/stories260K/hf"))) {
            for (var v : vectors) {
                assertArrayEquals(LlamaCppFixturesTest.ints(v.get("ids")),
                        model.tokenizer().encode(v.get("text").asText(), true, false), v.get("text").asText());
            }
        }
        // the byte-level tiny-stablelm folder gives llama.cpp's ids on the 13 strings of tokenizer-vectors.json
        var vectors13 = LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/hf/tokenizer-vectors.json").toFile());
        var expected = vectors13.get("stablelm").get("llamacpp");
        try (Model hf = Models.open(Shared.file("fixtures/hf/tiny-stablelm"))) {
            for (int i = 0; i < vectors13.get("strings").size(); i++) {
                String text = vectors13.get("strings").get(i).asText();
                assertArrayEquals(LlamaCppFixturesTest.ints(expected.get(i)), hf.tokenizer().encode(text, false, false), text);
            }
            assertEquals(13, expected.size());
        }
    }
}
