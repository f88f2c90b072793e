package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.generate.Sampler;
import org.slm4j.tensor.GgmlType;
import org.slm4j.testing.Shared;

/**
 * The engine against llama.cpp: every fixture model in ../shared/fixtures/llamacpp, logits of a 16-token
 * batch at every position and 16 greedy steps decoded one position at a time.
 *
 * <p>Tolerances come from the fixtures' README: F32 1e-4; F16 1e-2; BF16 5e-2; quantized types 0.2 with
 * identical argmax and greedy tokens. slm4j rounds activations as llama.cpp's CPU backend does (Q8_0, Q8_1,
 * Q8_K, F16, BF16), so most quantized positions match far tighter: {@link #TIGHT} checks that too (an engine
 * that keeps activations in float matches none). It allows for what the README documents: float noise of
 * ~1e-7 occasionally puts one activation on the other side of a rounding step, which moves that position
 * by up to ~0.1 on the tiny models and, once it is in the KV cache, every later decoding step.
 *
 * <p>stories260K is a trained model with larger activations and logits, where such a flip moves a position
 * by up to 0.3 (measured: Q8_0 0.22, Q4_0 0.30 over 64 greedy steps); its quantized files get 0.5 and need
 * a quarter of the prefill positions tight (measured 14 to 32 of 32, depending on the kernels' summation order). Their greedy paths must agree for the 16 tokens: later, Q4_0's
 * step 56 has a top-two margin of 0.033 in llama.cpp's own logits, which such a flip can reverse.
 *
 * <p>Greedy steps are teacher-forced on llama.cpp's tokens, so every step's logits are compared on the same
 * context; the argmax of each step is the free-running greedy token up to the first disagreement.
 */
class LlamaCppFixturesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A position "matches tightly" when every logit is within this of llama.cpp's. */
    static final double TIGHT = 1e-3;

    /** Largest |diff| allowed anywhere, and the shares of prefill and greedy-step positions that must be tight. */
    record Tolerance(double maxAbs, double prefillTight, double stepsTight, int greedyTokens) {
        Tolerance(double maxAbs, double prefillTight, double stepsTight) {
            this(maxAbs, prefillTight, stepsTight, Integer.MAX_VALUE);
        }
    }

    static Tolerance tolerance(String name) {
        if (name.contains("-f32")) return new Tolerance(1e-4, 1.0, 1.0);
        if (name.contains("-f16")) return new Tolerance(1e-2, 0.0, 0.0);
        if (name.contains("-bf16")) return new Tolerance(5e-2, 0.0, 0.0);
        if (name.startsWith("stories260K")) return new Tolerance(0.5, 0.25, 0.0, 16);
        return new Tolerance(0.2, 0.75, 0.75);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "tiny-llama-f32", "tiny-llama-f16", "tiny-llama-q8_0", "tiny-llama-q4_0",
        "tiny-stablelm-f32", "tiny-stablelm-f16", "tiny-stablelm-q8_0", "tiny-stablelm-q4_0",
        "tiny-danube-f32",
        "tiny256q-llama-f32", "tiny256q-llama-bf16", "tiny256q-llama-q4_1", "tiny256q-llama-q4_k_m", "tiny256q-llama-q6_k"})
    void matchesLlamaCpp(String name) throws IOException {
        Path gguf = Shared.file("fixtures/llamacpp/" + name + ".gguf");
        JsonNode ref = JSON.readTree(Shared.file("fixtures/llamacpp/" + name + ".json").toFile());
        try (Model model = Models.open(gguf)) {
            check(name, model, ref, tolerance(name));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-f32", "stories260K-q8_0", "stories260K-q4_0"})
    void stories260KMatchesLlamaCpp(String name) throws IOException {
        Path gguf = Shared.file("models/stories260K/" + name + ".gguf");
        JsonNode ref = JSON.readTree(Shared.file("models/stories260K/fixtures/" + name + ".json").toFile());
        try (Model model = Models.open(gguf)) {
            check(name, model, ref, tolerance(name));
        }
    }

    /**
     * An F16 KV cache against the same F32 references: keys and values rounded to F16 move the logits by about
     * 1e-3 (measured 1.4e-3 to 2.1e-3 here; allowed 5e-3, where a misplaced key moves them by 1e-1), and leave the
     * greedy tokens as they are. (The fixtures' own F16-cache runs, *.kvf16-fa.json, are no closer to ours:
     * llama.cpp's flash attention also rounds the queries and sums in F16, which moves them by about 4e-3.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "tiny-stablelm-f32", "tiny-danube-f32", "tiny256q-llama-f32"})
    void anF16CacheStaysNearTheReference(String name) throws IOException {
        Path gguf = Shared.file("fixtures/llamacpp/" + name + ".gguf");
        JsonNode ref = JSON.readTree(Shared.file("fixtures/llamacpp/" + name + ".json").toFile());
        try (Model model = Models.open(gguf).withCacheType(GgmlType.F16)) {
            assertEquals(GgmlType.F16, model.newCache(4, 1).type());
            check(name + " F16 cache", model, ref, new Tolerance(5e-3, 0.0, 0.0));
        }
    }

    /** Prefill logits, then free-running greedy decoding compared step by step. */
    static void check(String name, Model model, JsonNode ref, Tolerance tol) {
        int[] tokens = ints(ref.get("tokens"));
        float[][] logits = model.logits(tokens);
        Diff prefill = compare(name + " prefill", logits, ref.get("logits"), tol.maxAbs(), tol.prefillTight(), logits.length);

        JsonNode greedy = ref.get("greedy");
        int[] prompt = ints(greedy.get("prompt"));
        int[] expected = ints(greedy.get("generated"));
        List<float[]> steps = greedySteps(model, prompt, expected);
        int n = Math.min(expected.length, tol.greedyTokens());
        int[] got = new int[n];
        for (int i = 0; i < n; i++) got[i] = Sampler.argmax(steps.get(i), 0, steps.get(i).length);
        assertArrayEquals(java.util.Arrays.copyOf(expected, n), got, name + ": greedy tokens differ from llama.cpp's");
        Diff step = compare(name + " greedy steps", steps.toArray(float[][]::new), greedy.get("step_logits"),
                tol.maxAbs(), tol.stepsTight(), n);
        System.out.printf("%-24s prefill max |diff| %.2e (%d/%d tight), steps %.2e (%d/%d tight)%n", name,
                prefill.max, prefill.tight, prefill.rows, step.max, step.tight, step.rows);
    }

    /** Decoding as llama.cpp did: the prompt as one batch, then its tokens one position per forward pass. */
    static List<float[]> greedySteps(Model model, int[] prompt, int[] forced) {
        int n = forced.length;
        Transformer t = model.newTransformer(prompt.length);
        KvCache cache = model.newCache(prompt.length + n, prompt.length);
        int vocab = model.config().vocabSize();
        List<float[]> out = new ArrayList<>();
        float[] logits = t.forward(Batch.of(cache, prompt, false));
        for (int i = 0; i < n; i++) {
            float[] row = java.util.Arrays.copyOf(logits, vocab);
            out.add(row);
            if (i + 1 < n) logits = t.forward(Batch.of(cache, new int[] {forced[i]}, false));
        }
        return out;
    }

    record Diff(double max, int tight, int rows) {}

    /** Every row within maxAbs, tightShare of them within TIGHT, and the same argmax in the first argmaxRows rows. */
    static Diff compare(String what, float[][] got, JsonNode expected, double maxAbs, double tightShare, int argmaxRows) {
        assertEquals(expected.size(), got.length, what + ": rows");
        double max = 0;
        int tight = 0;
        for (int r = 0; r < got.length; r++) {
            JsonNode row = expected.get(r);
            assertEquals(row.size(), got[r].length, what + ": vocab size");
            double rowMax = 0;
            int refArgmax = 0;
            for (int i = 0; i < got[r].length; i++) {
                double e = row.get(i).asDouble();
                rowMax = Math.max(rowMax, Math.abs(got[r][i] - e));
                if (e > row.get(refArgmax).asDouble()) refArgmax = i;
            }
            assertTrue(rowMax <= maxAbs, what + ": position " + r + " differs by " + rowMax + " > " + maxAbs);
            if (r < argmaxRows) assertEquals(refArgmax, Sampler.argmax(got[r], 0, got[r].length), what + ": argmax at position " + r);
            if (rowMax <= TIGHT) tight++;
            max = Math.max(max, rowMax);
        }
        assertTrue(tight >= Math.ceil(tightShare * got.length),
                what + ": only " + tight + " of " + got.length + " positions within " + TIGHT + " of llama.cpp");
        return new Diff(max, tight, got.length);
    }

    static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }
}
