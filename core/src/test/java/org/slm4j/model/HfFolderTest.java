package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.HfFolder;
import org.slm4j.format.ModelFormatException;
import org.slm4j.format.SafetensorsFile;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.format.SafetensorsWriter;
import org.slm4j.tensor.HalfFloats;
import org.slm4j.testing.Shared;

/**
 * HF folders built by the test from the tiny-llama fixture: sharded, in F16 and BF16, in the HF cache layout; and
 * broken ones (shard index paths, missing and misplaced tensors, hostile config.json), each a clear error.
 */
class HfFolderTest {
    @TempDir Path dir;

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static JsonNode ref() throws IOException {
        return LlamaCppFixturesTest.JSON.readTree(Shared.file("fixtures/llamacpp/tiny-llama-f32.json").toFile());
    }

    private static Path fixture() {
        return Shared.file("fixtures/hf/tiny-llama");
    }

    /** The fixture's tensors, in file order, optionally converted to {@code dtype}, into writers chosen per tensor. */
    private static void copyTensors(Dtype dtype, java.util.function.Function<String, SafetensorsWriter> writerOf) {
        try (SafetensorsFile src = SafetensorsFile.open(fixture().resolve("model.safetensors"))) {
            for (SafetensorsFile.Tensor t : src.tensors().values()) {
                MemorySegment data = src.tensorData(t);
                float[] v = data.toArray(F32);
                MemorySegment out = data;
                if (dtype != Dtype.F32) {
                    out = MemorySegment.ofArray(new byte[v.length * 2]);
                    for (int i = 0; i < v.length; i++) {
                        out.set(I16, 2L * i, dtype == Dtype.F16 ? HalfFloats.floatToF16(v[i]) : HalfFloats.floatToBf16(v[i]));
                    }
                }
                writerOf.apply(t.name()).add(t.name(), dtype, t.shape(), MemorySegment.ofArray(out.toArray(ValueLayout.JAVA_BYTE)));
            }
        }
    }

    /** A copy of tiny-llama in {@code target}: config edited by {@code edit}, weights as {@code dtype}. */
    private static Path copy(Path target, Dtype dtype, Consumer<ObjectNode> edit) throws IOException {
        Files.createDirectories(target);
        ObjectNode config = (ObjectNode) LlamaCppFixturesTest.JSON.readTree(fixture().resolve("config.json").toFile());
        edit.accept(config);
        Files.writeString(target.resolve("config.json"), config.toPrettyString());
        Files.copy(fixture().resolve("tokenizer.json"), target.resolve("tokenizer.json"));
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
        copyTensors(dtype, name -> w);
        w.write(target.resolve("model.safetensors"));
        return target;
    }

    @Test
    void shardedFolderMatchesLlamaCpp() throws IOException {
        Path d = Files.createDirectories(dir.resolve("sharded"));
        Files.copy(fixture().resolve("config.json"), d.resolve("config.json"));
        Files.copy(fixture().resolve("tokenizer.json"), d.resolve("tokenizer.json"));
        SafetensorsWriter a = new SafetensorsWriter(), b = new SafetensorsWriter();
        ObjectNode map = LlamaCppFixturesTest.JSON.createObjectNode();
        copyTensors(Dtype.F32, name -> {
            boolean first = name.startsWith("model.layers.0.") || name.startsWith("model.embed");
            map.put(name, first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
            return first ? a : b;
        });
        a.write(d.resolve("model-00001-of-00002.safetensors"));
        b.write(d.resolve("model-00002-of-00002.safetensors"));
        ObjectNode index = LlamaCppFixturesTest.JSON.createObjectNode();
        index.putObject("metadata").put("total_size", 1);
        index.set("weight_map", map);
        Files.writeString(d.resolve("model.safetensors.index.json"), index.toPrettyString());
        try (Model model = Models.open(d)) {
            LlamaCppFixturesTest.check("hf/tiny-llama sharded", model, ref(), HfFixturesTest.F32);
        }
    }

    /** F16 and BF16 weights map straight onto Matrix: same model, within the rounding of the weights. */
    @Test
    void halfPrecisionWeights() throws IOException {
        for (Dtype dtype : List.of(Dtype.F16, Dtype.BF16)) {
            try (Model model = Models.open(copy(dir.resolve(dtype.name()), dtype, c -> {}))) {
                assertEquals(dtype.ggml(), model.weights().layers()[0].attnQ().type());
                LlamaCppFixturesTest.check("hf/tiny-llama " + dtype, model, ref(),
                        new LlamaCppFixturesTest.Tolerance(dtype == Dtype.F16 ? 1e-2 : 5e-2, 0, 0));
            }
        }
    }

    @Test
    void hfCacheSnapshotMayLinkIntoItsBlobs() throws IOException {
        Path repo = dir.resolve("models--org--tiny");
        Path built = copy(dir.resolve("built"), Dtype.F32, c -> {});
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snap = Files.createDirectories(repo.resolve("snapshots/0123abcd"));
        Files.copy(built.resolve("model.safetensors"), blobs.resolve("9f2e"));
        Files.copy(built.resolve("config.json"), blobs.resolve("77aa"));
        Files.createSymbolicLink(snap.resolve("model.safetensors"), Path.of("../../blobs/9f2e"));
        Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/77aa"));
        Files.copy(built.resolve("tokenizer.json"), blobs.resolve("5c01"));
        Files.createSymbolicLink(snap.resolve("tokenizer.json"), Path.of("../../blobs/5c01"));
        try (Model model = Models.open(snap)) {
            assertEquals(512, model.config().vocabSize());
        }
        // the same link from a folder that is not a cache snapshot leads outside it
        Path plain = Files.createDirectories(dir.resolve("plain"));
        Files.copy(built.resolve("config.json"), plain.resolve("config.json"));
        Files.createSymbolicLink(plain.resolve("model.safetensors"), blobs.resolve("9f2e"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Models.open(plain).close());
        assertTrue(e.getMessage().contains("outside the model folder"), e.getMessage());
    }

    // ---- shard index

    private Path shardedWithIndex(String weightMapJson) throws IOException {
        Path d = Files.createDirectories(dir.resolve("idx" + System.nanoTime()));
        Files.copy(fixture().resolve("config.json"), d.resolve("config.json"));
        new SafetensorsWriter().add("a", new float[] {1}, 1).write(d.resolve("s1.safetensors"));
        new SafetensorsWriter().add("b", new float[] {2}, 1).write(d.resolve("s2.safetensors"));
        Files.writeString(d.resolve("model.safetensors.index.json"), "{\"weight_map\":" + weightMapJson + "}");
        return d;
    }

    private void indexRejected(String weightMapJson, String... parts) throws IOException {
        Path d = shardedWithIndex(weightMapJson);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfFolder.open(d).close());
        assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }

    @Test
    void shardIndexChecks() throws IOException {
        try (HfFolder f = HfFolder.open(shardedWithIndex("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}"))) {
            assertEquals(List.of("a", "b"), f.tensorNames());
            assertEquals("s2.safetensors", f.fileOf("b").getFileName().toString());
        }
        indexRejected("{\"a\":\"../s1.safetensors\"}", "'a'", "not a plain");
        indexRejected("{\"a\":\"/etc/passwd.safetensors\"}", "not a plain");
        indexRejected("{\"a\":\"sub/s1.safetensors\"}", "not a plain");
        indexRejected("{\"a\":\"sub\\\\s1.safetensors\"}", "not a plain");
        indexRejected("{\"a\":\"s1.safetensors\\u0000\"}", "not a plain");
        indexRejected("{\"a\":\"s1.bin\"}", "not a plain");
        indexRejected("{\"a\":7}", "expected a file name");
        indexRejected("{\"a\":\"s1.safetensors\",\"b\":\"s3.safetensors\"}", "'s3.safetensors' does not exist");
        indexRejected("{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}", "'b' is in s2.safetensors", "puts it in s1");
        indexRejected("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\",\"c\":\"s2.safetensors\"}", "'c' is not in s2.safetensors");
        indexRejected("{\"a\":\"s1.safetensors\",\"a\":\"s2.safetensors\"}", "Duplicate field 'a'");
        indexRejected("[]", "weight_map");
    }

    @Test
    void tensorInTwoShards() throws IOException {
        Path d = shardedWithIndex("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}");
        new SafetensorsWriter().add("a", new float[] {1}, 1).add("b", new float[] {2}, 1).write(d.resolve("s2.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfFolder.open(d).close());
        assertTrue(e.getMessage().contains("'a' is in both s1.safetensors and s2.safetensors"), e.getMessage());
    }

    @Test
    void tensorTheIndexDoesNotList() throws IOException {
        Path d = shardedWithIndex("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}");
        new SafetensorsWriter().add("b", new float[] {2}, 1).add("c", new float[] {3}, 1).write(d.resolve("s2.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfFolder.open(d).close());
        assertTrue(e.getMessage().contains("'c' is in s2.safetensors but the index does not list it"), e.getMessage());
    }

    @Test
    void shardLinkedOutsideTheFolder() throws IOException {
        Path d = shardedWithIndex("{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}");
        Path outside = dir.resolve("elsewhere.safetensors");
        Files.move(d.resolve("s2.safetensors"), outside);
        Files.createSymbolicLink(d.resolve("s2.safetensors"), outside);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfFolder.open(d).close());
        assertTrue(e.getMessage().contains("weight_map['b']") && e.getMessage().contains("outside the model folder"), e.getMessage());
    }

    // ---- config.json and weights

    private void configRejected(Consumer<ObjectNode> edit, String... parts) throws IOException {
        Path d = copy(dir.resolve("cfg" + System.nanoTime()), Dtype.F32, edit);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Models.open(d).close());
        assertTrue(e.getMessage().contains(d.toString()), "message lacks the folder: " + e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }

    @Test
    void hostileConfigs() throws IOException {
        configRejected(c -> c.remove("hidden_size"), "config.json", "'hidden_size' is missing");
        configRejected(c -> c.remove("architectures"), "architectures");
        configRejected(c -> c.putArray("architectures").add("GPT2LMHeadModel"), "['GPT2LMHeadModel'] is not supported", "LlamaForCausalLM");
        configRejected(c -> c.put("num_key_value_heads", 3), "num_attention_heads 4 is not a multiple of num_key_value_heads 3");
        configRejected(c -> c.put("num_key_value_heads", 0), "num_key_value_heads 0");
        configRejected(c -> c.put("num_hidden_layers", 1_000_000), "block_count = 1000000");
        configRejected(c -> c.put("hidden_size", 1L << 40), "'hidden_size' is 1099511627776", "fits an int");
        configRejected(c -> c.put("vocab_size", -5), "vocab_size = -5");
        configRejected(c -> c.put("hidden_size", "64"), "'hidden_size' is \"64\"");
        configRejected(c -> c.put("rms_norm_eps", "small"), "rms_norm_eps");
        configRejected(c -> c.putObject("rope_scaling").put("type", "dynamic").put("factor", 2.0), "rope_scaling", "not supported yet");
        configRejected(c -> c.putObject("rope_scaling").put("type", "linear").put("factor", -2.0), "rope_scaling.factor");
        configRejected(c -> c.put("hidden_act", "gelu"), "hidden_act", "not supported yet");
        configRejected(c -> c.put("attention_bias", true), "attention_bias", "not supported yet");
        configRejected(c -> c.put("vocab_size", 600), "model.embed_tokens.weight", "[512, 64]", "[600, 64]");
        configRejected(c -> {
            c.remove("head_dim");
            c.put("num_attention_heads", 5);
            c.put("num_key_value_heads", 5);
        }, "hidden_size 64 is not a multiple of num_attention_heads 5");
    }

    @Test
    void nullHeadDimAndWindowMeanDerivedAndNone() throws IOException {
        Path d = copy(dir.resolve("nulls"), Dtype.F32, c -> {
            c.putArray("architectures").add("MistralForCausalLM");
            c.putNull("head_dim");
            c.putNull("sliding_window");
        });
        try (Model m = Models.open(d)) {
            assertEquals(16, m.config().headDim(), "hidden_size / num_attention_heads");
            assertEquals(0, m.config().slidingWindow());
        }
        configRejected(c -> {
            c.putArray("architectures").add("MistralForCausalLM");
            c.put("sliding_window", -4);
        }, "'sliding_window' is -4");
    }

    /** Random edits of config.json: each either opens or fails with ModelFormatException, nothing else. */
    @Test
    void configMutationFuzz() throws IOException {
        Path d = copy(dir.resolve("fuzz"), Dtype.F32, c -> {});
        byte[] original = Files.readAllBytes(d.resolve("config.json"));
        java.util.Random rnd = new java.util.Random(4);
        String jsonBytes = "0123456789-.e{}[]\":,";
        int opened = 0;
        for (int iter = 0; iter < 400; iter++) {
            byte[] m = original.clone();
            for (int e = 0, n = 1 + rnd.nextInt(3); e < n; e++) {
                int at = rnd.nextInt(m.length);
                m[at] = rnd.nextBoolean() ? (byte) jsonBytes.charAt(rnd.nextInt(jsonBytes.length())) : (byte) rnd.nextInt(256);
            }
            Files.write(d.resolve("config.json"), m);
            try (Model model = Models.open(d)) {
                opened++;
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().contains(d.toString()), expected.getMessage());
            }
        }
        assertTrue(opened > 0 && opened < 400, "opened " + opened);
    }

    @Test
    void stablelmOptionsNeedTheirTensors() throws IOException {
        // this llama folder's weights lack LayerNorm biases and the per-head norms qk_layernorm reads
        configRejected(c -> {
            c.putArray("architectures").add("StableLmForCausalLM");
            c.put("qk_layernorm", true);
        }, "is missing from the safetensors weights");
        configRejected(c -> {
            c.putArray("architectures").add("StableLmForCausalLM");
            c.put("partial_rotary_factor", 0.0);
        }, "partial_rotary_factor");
    }

    @Test
    void malformedConfigFiles() throws IOException {
        Path d = copy(dir.resolve("m"), Dtype.F32, c -> {});
        Files.writeString(d.resolve("config.json"), "[1, 2]");
        assertMessage(d, "config.json: expected a JSON object");
        Files.writeString(d.resolve("config.json"), "{\"a\": " + "[".repeat(100) + "]".repeat(100) + "}");
        assertMessage(d, "config.json: not valid JSON");
        Files.writeString(d.resolve("config.json"), "{\"a\": 1, \"a\": 2}");
        assertMessage(d, "Duplicate field 'a'");
        Files.write(d.resolve("config.json"), new byte[2 << 20]);
        assertMessage(d, "more than the 1048576");
        Files.copy(fixture().resolve("config.json"), d.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.delete(d.resolve("model.safetensors"));
        assertMessage(d, "neither model.safetensors nor model.safetensors.index.json");
        Files.writeString(d.resolve("generation_config.json"), "{");
        assertMessage(d, "generation_config.json: not valid JSON");
    }

    @Test
    void integerWeightsAreRejectedByName() throws IOException {
        Path d = copy(dir.resolve("int"), Dtype.F32, c -> {});
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile src = SafetensorsFile.open(fixture().resolve("model.safetensors"))) {
            for (SafetensorsFile.Tensor t : src.tensors().values()) {
                Dtype dt = t.name().equals("model.layers.1.mlp.up_proj.weight") ? Dtype.I32 : Dtype.F32;
                w.add(t.name(), dt, t.shape(), MemorySegment.ofArray(src.tensorData(t).toArray(ValueLayout.JAVA_BYTE)));
            }
        }
        w.write(d.resolve("model.safetensors"));
        assertMessage(d, "model.layers.1.mlp.up_proj.weight has dtype I32");
    }

    @Test
    void configAndTokenizerConfigAreRead() throws IOException {
        try (HfFolder f = HfFolder.open(fixture())) {
            assertEquals(1, f.generationConfig().get("bos_token_id").asInt());
            assertTrue(f.tokenizerConfig().isObject());
        }
        Path d = copy(dir.resolve("tc"), Dtype.F32, c -> {});
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"x\"},"
                + "{\"name\":\"default\",\"template\":\"{{ messages }}\"}]}");
        try (HfFolder f = HfFolder.open(d)) {
            assertEquals("{{ messages }}", f.chatTemplate());
            assertEquals(0, f.generationConfig().size(), "no generation_config.json: an empty object");
        }
    }

    private static void assertMessage(Path d, String part) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Models.open(d).close());
        assertTrue(e.getMessage().contains(part), "message lacks '" + part + "': " + e.getMessage());
    }
}
