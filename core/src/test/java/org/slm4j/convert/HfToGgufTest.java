package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.GgufFile;
import org.slm4j.format.HfFolder;
import org.slm4j.format.Progress;
import org.slm4j.generate.Sampler;
import org.slm4j.model.Batch;
import org.slm4j.model.HfModel;
import org.slm4j.model.KvCache;
import org.slm4j.model.LayerWeights;
import org.slm4j.model.RopeLayout;
import org.slm4j.model.Transformer;
import org.slm4j.model.Weights;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Matrix;
import org.slm4j.testing.Shared;
import org.slm4j.tokenizer.Tokenizer;

/**
 * HF folder → GGUF → slm4j's GGUF loader, checked against two independent references: llama.cpp's logits for the
 * GGUF fixture the folder holds the weights of (../shared/fixtures/llamacpp, models/stories260K/fixtures), and the
 * folder itself run by slm4j's HF loader. A missing or wrong q/k permutation moves logits by ~3 (README of
 * fixtures/hf); the tolerances here are 1e-4 and 5e-5.
 */
class HfToGgufTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({
        "fixtures/hf/tiny-llama,          fixtures/llamacpp/tiny-llama-f32.json",
        "fixtures/hf/tiny-stablelm,       fixtures/llamacpp/tiny-stablelm-f32.json",
        "fixtures/hf/tiny-danube,         fixtures/llamacpp/tiny-danube-f32.json",
        "models/stories260K/hf,           models/stories260K/fixtures/stories260K-f32.json"})
    void f32ConversionComputesWhatTheFolderAndLlamaCppCompute(String folder, String fixture) throws IOException {
        Path hf = Shared.file(folder);
        JsonNode ref = JSON.readTree(Shared.file(fixture).toFile());
        Path out = tmp.resolve("out.gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);

        int[] tokens = ints(ref.get("tokens"));
        int[] prompt = ints(ref.get("greedy").get("prompt"));
        int[] expected = ints(ref.get("greedy").get("generated"));
        try (Model gguf = Models.open(out); Model folderModel = Models.open(hf)) {
            assertEquals(folderModel.config().architecture().equals("llama") ? RopeLayout.ADJACENT : RopeLayout.HALF,
                    gguf.config().ropeLayout());
            float[][] got = gguf.logits(tokens);
            double vsLlamaCpp = maxDiff(got, ref.get("logits"));
            double vsFolder = maxDiff(got, folderModel.logits(tokens));
            Greedy g = greedy(gguf, prompt, expected.length);
            double stepsVsLlamaCpp = maxDiff(g.steps, ref.get("greedy").get("step_logits"));
            System.out.printf("%-28s prefill vs llama.cpp %.2e, vs HF folder %.2e; greedy steps vs llama.cpp %.2e%n",
                    folder, vsLlamaCpp, vsFolder, stepsVsLlamaCpp);
            assertTrue(vsLlamaCpp < 1e-4, folder + ": converted logits differ from llama.cpp's by " + vsLlamaCpp);
            // the permuted q/k rows sum each head's dot products in another order: stories260K's logits then move by
            // 0.95e-5 .. 1.15e-5 from run to run (stablelm, unpermuted, by 0), where a wrong permutation moves them by ~3
            assertTrue(vsFolder < 5e-5, folder + ": converted logits differ from the folder's by " + vsFolder);
            assertArrayEquals(expected, g.tokens, folder + ": greedy tokens differ from llama.cpp's");
            assertTrue(stepsVsLlamaCpp < 1e-4, folder + ": greedy step logits differ by " + stepsVsLlamaCpp);
        }
    }

    @Test
    void llamaHyperParametersAndNamesAreLlamaCpps() throws IOException {
        Path out = tmp.resolve("danube.gguf");
        HfToGguf.convert(Shared.file("fixtures/hf/tiny-danube"), out, FileType.F32, Progress.NONE);
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals("llama", g.getString("general.architecture"));
            assertEquals(160, g.getInt("llama.embedding_length"));
            assertEquals(2, g.getInt("llama.attention.head_count"));
            assertEquals(1, g.getInt("llama.attention.head_count_kv"));
            assertEquals(80, g.getInt("llama.rope.dimension_count"));
            assertEquals(320, g.getInt("llama.feed_forward_length"));
            assertEquals(1e-5f, g.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertTrue(g.has("llama.attention.sliding_window"), "Danube's window is kept for slm4j");
            assertNotNull(g.tensor("output.weight"));
            assertNotNull(g.tensor("blk.1.ffn_gate.weight"));
            assertEquals("llama", g.getString("tokenizer.ggml.model"));
            assertEquals(0, g.getInt("general.file_type"));
        }
    }

    @Test
    void stablelmKeepsPartialRotaryAndBiases() throws IOException {
        Path out = tmp.resolve("stablelm.gguf");
        HfToGguf.convert(Shared.file("fixtures/hf/tiny-stablelm"), out, FileType.F32, Progress.NONE);
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals("stablelm", g.getString("general.architecture"));
            assertEquals(4, g.getInt("stablelm.rope.dimension_count"), "partial_rotary_factor 0.25 of head_dim 16");
            assertEquals(1e-5f, g.getFloat("stablelm.attention.layer_norm_epsilon"));
            assertNotNull(g.tensor("blk.0.attn_q.bias"));
            assertNotNull(g.tensor("blk.0.attn_norm.bias"));
            assertNotNull(g.tensor("output_norm.bias"));
            assertEquals("gpt2", g.getString("tokenizer.ggml.model"));
            assertEquals("gpt-2", g.getString("tokenizer.ggml.pre"));
            assertEquals(244, g.getStringArray("tokenizer.ggml.merges").length);
        }
    }

    @Test
    void tiedEmbeddingsWriteNoOutputTensor() throws IOException {
        Path out = tmp.resolve("stories.gguf");
        HfToGguf.convert(Shared.file("models/stories260K/hf"), out, FileType.F32, Progress.NONE);
        try (GgufFile g = GgufFile.open(out)) {
            assertNull(g.tensor("output.weight"), "tie_word_embeddings: llama.cpp reuses token_embd");
            assertEquals(8, g.getInt("llama.attention.key_length"), "config.json's explicit head_dim");
        }
    }

    /** The llama family's tokenizer.model, and stories260K's tokenizer.json alone, give llama.cpp's ids once converted. */
    @Test
    void convertedTokenizersGiveLlamaCppsIds() throws IOException {
        JsonNode v = JSON.readTree(Shared.file("fixtures/hf/tokenizer-vectors.json").toFile());
        for (String family : new String[] {"llama-family", "stablelm"}) {
            String folder = family.equals("stablelm") ? "fixtures/hf/tiny-stablelm" : "fixtures/hf/tiny-llama";
            Tokenizer t = convertedTokenizer(Shared.file(folder));
            JsonNode expected = v.get(family).get("llamacpp");
            for (int i = 0; i < v.get("strings").size(); i++) {
                String text = v.get("strings").get(i).asText();
                assertArrayEquals(ints(expected.get(i)), t.encode(text, false, false), folder + ": " + text);
            }
        }
        JsonNode stories = JSON.readTree(Shared.file("models/stories260K/fixtures/stories260K-tokenizer_vectors.json").toFile());
        Tokenizer fromJson = convertedTokenizer(Shared.file("models/stories260K/hf"));
        Tokenizer folderJson = Tokenizer.open(Shared.file("models/stories260K/hf/tokenizer.json"));
        for (JsonNode vec : stories.get("vectors")) {
            String text = vec.get("text").asText();
            assertArrayEquals(ints(vec.get("ids")), fromJson.encode(text, true, false), "stories260K: " + text);
            assertArrayEquals(folderJson.encode(text, true, false), fromJson.encode(text, true, false), "stories260K: " + text);
        }
    }

    private Tokenizer convertedTokenizer(Path folder) {
        Path out = tmp.resolve(folder.getFileName() + ".gguf");
        HfToGguf.convert(folder, out, FileType.F32, Progress.NONE);
        return Tokenizer.open(out);
    }

    /** The negative control: the same conversion with q/k rows left in HF order is a different model for llama.cpp. */
    @Test
    void withoutThePermutationLlamaCppsLogitsAreMissed() throws IOException {
        JsonNode ref = JSON.readTree(Shared.file("fixtures/llamacpp/tiny-llama-f32.json").toFile());
        Path out = tmp.resolve("unpermuted.gguf");
        try (HfFolder folder = HfFolder.open(Shared.file("fixtures/hf/tiny-llama"))) {
            HfToGguf.Plan plan = HfToGguf.plan(folder);
            Weights hf = HfModel.weights(folder, HfModel.config(folder));
            List<SourceTensor> tensors = new ArrayList<>();
            for (SourceTensor t : plan.tensors()) {
                String[] part = t.name().split("\\.");
                boolean qk = part.length == 4 && (part[2].equals("attn_q") || part[2].equals("attn_k"));
                if (!qk) {
                    tensors.add(t);
                    continue;
                }
                LayerWeights lw = hf.layers()[Integer.parseInt(part[1])];
                Matrix m = part[2].equals("attn_q") ? lw.attnQ() : lw.attnK();
                tensors.add(new SourceTensor() {
                    public String name() { return t.name(); }
                    public long[] shape() { return t.shape(); }
                    public GgmlType type() { return t.type(); }
                    public void readRow(long row, float[] dst, int off) { m.dequantizeRow((int) row, dst, off); }
                });
            }
            GgufQuantizer.write(plan.header(), tensors, FileType.F32, out, Progress.NONE);
        }
        try (Model gguf = Models.open(out)) {
            double d = maxDiff(gguf.logits(ints(ref.get("tokens"))), ref.get("logits"));
            System.out.printf("tiny-llama converted without the q/k permutation: max |diff| vs llama.cpp %.2f%n", d);
            assertTrue(d > 0.5, "unpermuted q/k should not match llama.cpp, max diff " + d);
        }
    }

    /** Embedding rows beyond the tokenizer (StableLM 2: 100289 tokens, 100352 rows) become UNUSED [PADi] tokens. */
    @Test
    void vocabularyIsPaddedToTheEmbedding() throws IOException {
        Path hf = randomFolder("padded", "llama");
        ObjectNode tok = (ObjectNode) JSON.readTree(hf.resolve("tokenizer.json").toFile());
        ObjectNode vocab = (ObjectNode) tok.get("model").get("vocab");
        for (int i = 290; i < 300; i++) vocab.remove("\u2581filler" + i);
        JSON.writeValue(hf.resolve("tokenizer.json").toFile(), tok);
        ObjectNode cfg = (ObjectNode) JSON.readTree(hf.resolve("tokenizer_config.json").toFile());
        cfg.put("chat_template", "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}");
        JSON.writeValue(hf.resolve("tokenizer_config.json").toFile(), cfg);

        Path out = tmp.resolve("padded.gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);
        try (GgufFile g = GgufFile.open(out)) {
            String[] tokens = g.getStringArray("tokenizer.ggml.tokens");
            int[] types = g.getIntArray("tokenizer.ggml.token_type");
            assertEquals(300, tokens.length);
            assertEquals("\u2581filler289", tokens[289]);
            assertEquals("[PAD295]", tokens[295]);
            assertEquals(5, types[295], "UNUSED");
            assertEquals(6, types[3 + 0x41], "<0x41> is a BYTE token");
            assertEquals(3, types[1], "<s> is CONTROL");
            assertEquals(1, g.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(2, g.getInt("tokenizer.ggml.eos_token_id"));
            assertTrue(g.getBool("tokenizer.ggml.add_bos_token"));
            assertEquals(cfg.get("chat_template").asText(), g.getString("tokenizer.chat_template"));
        }
    }

    @Test
    void nameIsTheFolderOrTheHubRepository() {
        assertEquals("tiny-llama", HfToGguf.modelName(Path.of("/x/tiny-llama"), "llama"));
        assertEquals("TinyLlama-1.1B-Chat-v1.0",
                HfToGguf.modelName(Path.of("/hub/models--TinyLlama--TinyLlama-1.1B-Chat-v1.0/snapshots/fe8a4ea1"), "llama"));
    }

    @Test
    void aFolderWithoutTokenizerIsNamed() throws IOException {
        Path hf = randomFolder("no-tokenizer", "llama");
        java.nio.file.Files.delete(hf.resolve("tokenizer.json"));
        var e = assertThrows(org.slm4j.format.ModelFormatException.class,
                () -> HfToGguf.convert(hf, tmp.resolve("x.gguf"), FileType.F32, Progress.NONE));
        assertTrue(e.getMessage().contains("no tokenizer.model or tokenizer.json"), e.getMessage());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("x.gguf")));
    }

    @Test
    void aNonFiniteWeightIsAFormatErrorNamingTheFolder() throws IOException {
        Path hf = randomFolder("nan", "llama");
        Path weights = hf.resolve(HfFolder.WEIGHTS);
        try (var ch = java.nio.channels.FileChannel.open(weights, java.nio.file.StandardOpenOption.WRITE)) {
            // lm_head.weight [300, 64] is written last: its last element is the file's last 4 bytes
            ch.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN).flip(), ch.size() - 4);
        }
        var e = assertThrows(org.slm4j.format.ModelFormatException.class,
                () -> HfToGguf.convert(hf, tmp.resolve("x.gguf"), FileType.Q8_0, Progress.NONE));
        assertTrue(e.getMessage().contains(hf.toString()) && e.getMessage().contains("'output.weight' row 299 element 63 is NaN"),
                e.getMessage());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("x.gguf")));
    }

    /** llama.cpp's converter reads a stablelm folder's tokenizer.json even beside a tokenizer.model (llama's reads the .model). */
    @Test
    void stablelmTakesTokenizerJsonOverATokenizerModel() throws IOException {
        Path hf = randomFolder("stablelm-both", "stablelm");
        java.nio.file.Files.copy(Shared.file("models/stories260K/original/tok512.model"), hf.resolve("tokenizer.model"));
        Path out = tmp.resolve("both.gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals("gpt2", g.getString("tokenizer.ggml.model"));
            assertEquals("<|endoftext|>", g.getStringArray("tokenizer.ggml.tokens")[299]);
        }
    }

    /**
     * llama.cpp's converter types a tokenizer.model's pieces by IsUnknown/IsControl/IsUnused/IsByte only, so a piece
     * the .model calls USER_DEFINED is written NORMAL, its '▁' kept; only tokenizer_config.json's added tokens become
     * USER_DEFINED (or CONTROL).
     */
    @Test
    void userDefinedPiecesOfATokenizerModelAreWrittenAsLlamaCppWritesThem() throws IOException {
        Path hf = randomFolder("user-defined", "llama");
        java.nio.file.Files.delete(hf.resolve("tokenizer.json"));
        JSON.writeValue(hf.resolve("tokenizer_config.json").toFile(),
                JSON.readTree("{\"added_tokens_decoder\": {\"5\": {\"content\": \"\u2581c\", \"special\": false}}}"));
        // pieces <unk> (UNKNOWN), ▁, a, ▁a (USER_DEFINED), <|x|> (USER_DEFINED), ▁b; BPE model
        java.io.ByteArrayOutputStream m = new java.io.ByteArrayOutputStream();
        String[] pieces = {"<unk>", "\u2581", "a", "\u2581a", "<|x|>", "\u2581b"};
        int[] types = {2, 1, 1, 4, 4, 1};
        for (int i = 0; i < pieces.length; i++) {
            byte[] t = pieces[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
            p.write(0x0A);
            p.write(t.length);
            p.writeBytes(t);
            p.write(0x15);   // score, fixed32
            int bits = Float.floatToIntBits(-i);
            for (int k = 0; k < 4; k++) p.write(bits >>> 8 * k);
            p.write(0x18);   // type
            p.write(types[i]);
            m.write(0x0A);
            m.write(p.size());
            m.writeBytes(p.toByteArray());
        }
        m.writeBytes(new byte[] {0x12, 0x02, 0x18, 0x02});   // trainer_spec.model_type = BPE
        java.nio.file.Files.write(hf.resolve("tokenizer.model"), m.toByteArray());

        Path out = tmp.resolve("user-defined.gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);
        try (GgufFile g = GgufFile.open(out)) {
            String[] tokens = g.getStringArray("tokenizer.ggml.tokens");
            int[] tokenTypes = g.getIntArray("tokenizer.ggml.token_type");
            assertEquals("\u2581a", tokens[3]);
            assertEquals(1, tokenTypes[3], "the .model's USER_DEFINED ▁a is NORMAL");
            assertEquals("<|x|>", tokens[4]);
            assertEquals(1, tokenTypes[4], "the .model's USER_DEFINED <|x|> is NORMAL too, not taken for a control token");
            assertEquals(" c", tokens[5], "the added token replaces the slot, '▁' written as a space");
            assertEquals(4, tokenTypes[5], "the added token is USER_DEFINED");
        }
    }

    /** A small F32 folder of {@code family} (RandomHfConversionTest's sizes) in {@code tmp/name}. */
    private Path randomFolder(String name, String family) {
        Path hf = tmp.resolve(name);
        org.slm4j.model.RandomHfFolder.write(RandomHfConversionTest.dims(family), family, org.slm4j.format.SafetensorsFile.Dtype.F32, 1, hf);
        return hf;
    }

    @Test
    void ropeOrderInterleavesEachHeadsHalves() {
        // head_dim 4: HF rows (0,2) and (1,3) are rotate_half pairs; GGUF wants them adjacent: 0,2,1,3
        assertArrayEquals(new int[] {0, 2, 1, 3, 4, 6, 5, 7}, HfToGguf.ropeOrder(2, 4));
    }

    record Greedy(int[] tokens, float[][] steps) {}

    /** The prompt as one batch, then one token per forward pass, each the argmax of the last logits. */
    static Greedy greedy(Model model, int[] prompt, int n) {
        Transformer t = model.newTransformer(prompt.length);
        KvCache cache = model.newCache(prompt.length + n, prompt.length);
        int vocab = model.config().vocabSize();
        int[] tokens = new int[n];
        float[][] steps = new float[n][];
        float[] logits = t.forward(Batch.of(cache, prompt, false));
        for (int i = 0; i < n; i++) {
            steps[i] = Arrays.copyOf(logits, vocab);
            tokens[i] = Sampler.argmax(steps[i], 0, vocab);
            if (i + 1 < n) logits = t.forward(Batch.of(cache, new int[] {tokens[i]}, false));
        }
        return new Greedy(tokens, steps);
    }

    static double maxDiff(float[][] got, JsonNode expected) {
        assertEquals(expected.size(), got.length);
        double max = 0;
        for (int r = 0; r < got.length; r++) {
            assertEquals(expected.get(r).size(), got[r].length);
            for (int i = 0; i < got[r].length; i++) max = Math.max(max, Math.abs(got[r][i] - expected.get(r).get(i).asDouble()));
        }
        return max;
    }

    static double maxDiff(float[][] a, float[][] b) {
        assertEquals(b.length, a.length);
        double max = 0;
        for (int r = 0; r < a.length; r++) for (int i = 0; i < a[r].length; i++) max = Math.max(max, Math.abs(a[r][i] - b[r][i]));
        return max;
    }

    static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }
}
