package org.slm4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.testing.Shared;

/** The commands end to end, against llama.cpp's outputs in ../shared. */
class CliTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static String stories() {
        return Shared.file("models/stories260K/stories260K-f32.gguf").toString();
    }

    @Test
    void noArgumentsPrintsHelp() {
        Run r = run();
        assertEquals(0, r.code);
        assertTrue(r.out.contains("Usage: slm4j"), r.out);
        for (String cmd : new String[] {"generate", "logits", "tokenize", "info"}) {
            assertTrue(r.out.contains(cmd), cmd);
            Run h = run(cmd, "--help");
            assertEquals(0, h.code);
            assertTrue(h.out.contains("-m, --model"), cmd + ": " + h.out);
        }
    }

    @Test
    void generateGreedyJsonMatchesLlamaCpp() throws IOException {
        JsonNode check = JSON.readTree(Shared.file("models/stories260K/fixtures/stories260K-golden_runc_check.json").toFile());
        Run r = run("generate", "-m", stories(), "--tokens", "1", "-n", "24", "--greedy", "--json");
        assertEquals(0, r.code, r.err);
        JsonNode o = JSON.readTree(r.out);
        assertEquals("[1]", o.get("prompt_tokens").toString());
        JsonNode expected = check.get("bos_greedy256").get("generated_ids");
        assertEquals(24, o.get("tokens").size());
        for (int i = 0; i < 24; i++) assertEquals(expected.get(i).asInt(), o.get("tokens").get(i).asInt(), "token " + i);
        assertTrue(check.get("bos_greedy256").get("text").asText().startsWith(o.get("text").asText().strip()));
    }

    @Test
    void generateStreamsTextFromAPrompt() {
        Run r = run("generate", "-m", stories(), "-p", "Once upon a time", "-n", "12", "--greedy");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.startsWith(", there was a little girl named Lily."), r.out);
    }

    @Test
    void samplingWithASeedIsReproducible() {
        String[] args = {"generate", "-m", stories(), "--tokens", "1", "-n", "30", "--temperature", "1.0", "--seed", "7", "--json"};
        Run a = run(args), b = run(args);
        assertEquals(0, a.code, a.err);
        assertEquals(a.out, b.out);
    }

    /** The default F32 KV cache: llama.cpp's F32 reference to 1e-4; an F16 cache moves the logits by about 1e-3. */
    @Test
    void logitsJsonMatchesLlamaCpp() throws IOException {
        JsonNode ref = JSON.readTree(Shared.file("fixtures/llamacpp/tiny-stablelm-f32.json").toFile());
        String ids = ref.get("tokens").toString().replaceAll("[\\[\\] ]", "");
        String model = Shared.file("fixtures/llamacpp/tiny-stablelm-f32.gguf").toString();
        JsonNode f32 = null;
        for (String cache : new String[] {null, "f16"}) {
            Run r = cache == null ? run("logits", "-m", model, "--tokens", ids, "--json")
                    : run("logits", "-m", model, "--tokens", ids, "--json", "--cache-type", cache);
            assertEquals(0, r.code, r.err);
            JsonNode o = JSON.readTree(r.out);
            assertEquals(ref.get("tokens"), o.get("tokens"));
            JsonNode got = o.get("logits"), want = ref.get("logits");
            assertEquals(want.size(), got.size());
            double tolerance = cache == null ? 1e-4 : 5e-3, apart = 0;
            for (int p = 0; p < want.size(); p++) {
                for (int i = 0; i < want.get(p).size(); i++) {
                    assertEquals(want.get(p).get(i).asDouble(), got.get(p).get(i).asDouble(), tolerance,
                            "cache " + cache + ", position " + p + " logit " + i);
                    if (f32 != null) apart = Math.max(apart, Math.abs(got.get(p).get(i).asDouble() - f32.get(p).get(i).asDouble()));
                }
            }
            // the option reached the cache: F16 rounding moves the logits (by about 1e-3)
            if (f32 != null) assertTrue(apart > 1e-5, "--cache-type f16 computed what F32 does");
            f32 = got;
        }
    }

    @Test
    void slidingWindowCanBeOverridden() throws IOException {
        JsonNode ref = JSON.readTree(Shared.file("fixtures/swa/tiny-swa-w4.json").toFile());
        String ids = ref.get("tokens").toString().replaceAll("[\\[\\] ]", "");
        String model = Shared.file("fixtures/swa/tiny-swa-w4.gguf").toString();
        for (String window : new String[] {"4", "0"}) {
            Run r = run("logits", "-m", model, "--tokens", ids, "--json", "--sliding-window", window);
            assertEquals(0, r.code, r.err);
            JsonNode want = ref.get(window.equals("0") ? "logits_full_attention" : "logits");
            JsonNode got = JSON.readTree(r.out).get("logits");
            for (int p = 0; p < want.size(); p++) {
                assertEquals(want.get(p).get(7).asDouble(), got.get(p).get(7).asDouble(), 1e-4, "window " + window + " position " + p);
            }
        }
    }

    @Test
    void tokenizeJsonMatchesLlamaCpp() throws IOException {
        JsonNode vectors = JSON.readTree(Shared.file("models/stories260K/fixtures/stories260K-tokenizer_vectors.json").toFile());
        for (JsonNode v : vectors.get("vectors")) {
            String text = v.get("text").asText();
            if (text.isEmpty() || text.startsWith("-")) continue;   // not expressible as a picocli option value
            Run r = run("tokenize", "-m", stories(), "--text", text, "--json");
            assertEquals(0, r.code, r.err);
            assertEquals(v.get("ids"), JSON.readTree(r.out).get("ids"), text);
            assertEquals(v.get("tokens"), JSON.readTree(r.out).get("pieces"), text);
        }
    }

    /** --tokenizer instead of -m: the stories260K tokenizer.json gives llama.cpp's ids (its README: 30/30 under DJL). */
    @Test
    void tokenizeFromATokenizerFile() throws IOException {
        JsonNode vectors = JSON.readTree(Shared.file("models/stories260K/fixtures/stories260K-tokenizer_vectors.json").toFile());
        String json = Shared.file("models/stories260K/hf/tokenizer.json").toString();
        int n = 0;
        for (JsonNode v : vectors.get("vectors")) {
            String text = v.get("text").asText();
            if (text.isEmpty() || text.startsWith("-") || text.contains("<s>")) continue; // HF always parses <s>
            Run r = run("tokenize", "--tokenizer", json, "--text", text, "--json");
            assertEquals(0, r.code, r.err);
            assertEquals(v.get("ids"), JSON.readTree(r.out).get("ids"), text);
            n++;
        }
        assertTrue(n > 20, n + " vectors");
        Run both = run("tokenize", "--tokenizer", json, "-m", stories(), "--text", "x");
        assertEquals(2, both.code, "one source only");
        Run bad = run("tokenize", "--tokenizer", Shared.file("models/stories260K/README.md").toString(), "--text", "x");
        assertEquals(1, bad.code);
        assertTrue(bad.err.contains("not a tokenizer file"), bad.err);
    }

    @Test
    void infoDescribesTheModel() {
        Run r = run("info", "-m", Shared.file("fixtures/llamacpp/tiny-stablelm-q8_0.gguf").toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("stablelm"), r.out);
        assertTrue(r.out.contains("Q8_0"), r.out);
        assertTrue(r.out.contains("4 of 16 dims"), r.out);
    }

    @Test
    void badInputGivesOneClearLine(@TempDir Path dir) throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.gguf"), "not a model at all");
        Run r = run("info", "-m", junk.toString());
        assertEquals(1, r.code);
        assertTrue(r.err.startsWith("slm4j: error: ") && r.err.contains("junk.gguf"), r.err);
        assertFalse(r.err.contains("\tat "), "no stack trace: " + r.err);

        r = run("info", "-m", dir.resolve("missing.gguf").toString());
        assertEquals(1, r.code);
        assertTrue(r.err.contains("no such model file"), r.err);

        r = run("logits", "-m", stories(), "--tokens", "1,x");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("'x' is not a token id"), r.err);

        r = run("logits", "-m", stories(), "--tokens", "1,99999");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("token id 99999"), r.err);

        r = run("logits", "-m", stories(), "--tokens", "1,2", "--cache-type", "q8_0");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("--cache-type q8_0: expected f16 or f32"), r.err);
    }

    @Test
    void pullRefusesWhatIsNoRepoId() {
        Run r = run("pull", "acme/../etc");
        assertEquals(1, r.code);
        assertTrue(r.err.startsWith("slm4j: error: ") && r.err.contains("is not a repo id"), r.err);
        assertTrue(run("pull", "--help").out.contains("REPO_ID[@REVISION]"));
    }

    @Test
    void logitsOfAHuggingFaceFolder() throws IOException {
        JsonNode ref = JSON.readTree(Shared.file("fixtures/llamacpp/tiny-stablelm-f32.json").toFile());
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 4; i++) ids.append(i == 0 ? "" : ",").append(ref.get("tokens").get(i).asInt());
        Run r = run("logits", "-m", Shared.file("fixtures/hf/tiny-stablelm").toString(), "--tokens", ids.toString(), "--json");
        assertEquals(0, r.code, r.err);
        JsonNode got = JSON.readTree(r.out).get("logits");
        assertEquals(4, got.size());
        for (int p = 0; p < 4; p++) {
            for (int v = 0; v < got.get(p).size(); v++) {
                assertEquals(ref.get("logits").get(p).get(v).asDouble(), got.get(p).get(v).asDouble(), 1e-4, "position " + p + " id " + v);
            }
        }
    }
}
