package org.slm4j.format;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slm4j.tensor.GgmlType;
import org.slm4j.testing.Shared;

/** Every GGUF in ../shared opens; facts from the fixture READMEs (and gguf-py's reading of the files) hold. */
class GgufSharedFilesTest {
    @ParameterizedTest
    @ValueSource(strings = {"fixtures/llamacpp", "fixtures/swa", "models/stories260K", "tokenizers/llamacpp-vocab"})
    void everySharedGgufOpens(String folder) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(Shared.file(folder))) {
            files = s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertFalse(files.isEmpty(), folder);
        for (Path f : files) {
            try (GgufFile g = GgufFile.open(f)) {
                assertEquals(3, g.version(), f.toString());
                assertTrue(g.has("general.architecture"), f.toString());
                long end = g.dataOffset();
                for (GgufTensorInfo t : g.tensors()) {
                    assertEquals(t.byteSize(), g.tensorData(t).byteSize());
                    end = g.dataOffset() + t.offset() + t.byteSize();
                }
                assertTrue(end <= Files.size(f), f.toString());
            }
        }
    }

    @Test
    void tinyLlamaF32() {
        try (GgufFile g = GgufFile.open(Shared.file("fixtures/llamacpp/tiny-llama-f32.gguf"))) {
            assertEquals("llama", g.getString("general.architecture"));
            assertEquals(21, g.tensors().size());
            assertEquals(24, g.metadata().size());
            assertEquals(13088, g.dataOffset());
            assertEquals(32, g.alignment());
            assertEquals(64, g.getInt("llama.embedding_length"));
            assertEquals(2, g.getInt("llama.attention.head_count_kv"));
            assertEquals(1e-5f, g.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000f, g.getFloat("llama.rope.freq_base"));
            assertEquals("llama", g.getString("tokenizer.ggml.model"));
            String[] tokens = g.getStringArray("tokenizer.ggml.tokens");
            assertEquals(512, tokens.length);
            assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>"), List.of(tokens).subList(0, 4));
            assertEquals(512, g.getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(512, g.getIntArray("tokenizer.ggml.token_type").length);
            assertTrue(g.getBool("tokenizer.ggml.add_bos_token", false));
            assertFalse(g.getBool("tokenizer.ggml.add_eos_token", true));
            GgufTensorInfo q = g.tensor("blk.0.attn_q.weight");
            assertArrayEquals(new long[] {64, 64}, q.shape());
            assertEquals(GgmlType.F32, q.type());
            assertEquals(64 * 64 * 4, q.byteSize());
            GgufTensorInfo k = g.tensor("blk.0.attn_k.weight");
            assertArrayEquals(new long[] {64, 32}, k.shape(), "2 kv heads of 16 = 32 rows of 64");
            // norm weights are 1 + 0.125 * N(0,1): finite and near 1
            GgufTensorInfo norm = g.tensor("output_norm.weight");
            var data = g.tensorData(norm);
            for (int i = 0; i < 64; i++) {
                float v = data.get(GgufReader.F32, 4L * i);
                assertTrue(v > 0.3f && v < 1.7f, "output_norm[" + i + "] = " + v);
            }
        }
    }

    @Test
    void tiny256qQ4KMixesTypes() {
        try (GgufFile g = GgufFile.open(Shared.file("fixtures/llamacpp/tiny256q-llama-q4_k_m.gguf"))) {
            assertEquals(GgmlType.Q6_K, g.tensor("output.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("blk.1.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.F32, g.tensor("blk.0.attn_norm.weight").type());
            GgufTensorInfo e = g.tensor("token_embd.weight");
            assertArrayEquals(new long[] {256, 512}, e.shape());
            assertEquals(512 * 144, e.byteSize(), "one 144-byte Q4_K block per 256-wide row");
            assertEquals(2048, g.getInt("llama.context_length"));
            assertEquals(8, g.getInt("llama.attention.head_count"));
        }
    }

    @Test
    void stories260KQuantizedFallbacks() {
        try (GgufFile g = GgufFile.open(Shared.file("models/stories260K/stories260K-q8_0.gguf"))) {
            assertEquals(48, g.tensors().size());
            assertEquals(14240, g.dataOffset());
            GgufTensorInfo down = g.tensor("blk.0.ffn_down.weight");
            assertEquals(GgmlType.F16, down.type(), "172 columns is no multiple of 32");
            assertArrayEquals(new long[] {172, 64}, down.shape());
            assertEquals(172, down.cols());
            assertEquals(64, down.rows());
            assertEquals(22016, down.byteSize());
            assertEquals(GgmlType.Q8_0, g.tensor("blk.0.ffn_gate.weight").type());
            assertEquals(512, g.getInt("llama.context_length"), "set to 512 after conversion");
        }
        try (GgufFile g = GgufFile.open(Shared.file("models/stories260K/stories260K-q4_0.gguf"))) {
            assertEquals(GgmlType.Q8_0, g.tensor("output.weight").type());
            assertEquals(GgmlType.Q4_0, g.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F16, g.tensor("blk.4.ffn_down.weight").type());
        }
    }

    @Test
    void stablelmAndSlidingWindow() {
        try (GgufFile g = GgufFile.open(Shared.file("fixtures/llamacpp/tiny-stablelm-f32.gguf"))) {
            assertEquals("stablelm", g.getString("general.architecture"));
            assertFalse(g.has("stablelm.rope.freq_base"));
            assertEquals(32, g.tensors().size());
            assertEquals(GgmlType.F32, g.tensor("blk.0.attn_q.bias").type());
        }
        try (GgufFile g = GgufFile.open(Shared.file("fixtures/swa/tiny-swa-w4.gguf"))) {
            assertEquals(GgufValue.ofUInt32(4), g.metadata().get("llama.attention.sliding_window"));
        }
    }

    @Test
    void vocabOnlyFilesHaveNoTensors() throws IOException {
        Path f = Shared.file("tokenizers/llamacpp-vocab/ggml-vocab-llama-spm.gguf");
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(List.of(), g.tensors());
            assertEquals(Files.size(f), g.dataOffset(), "no tensors: the header ends the file, unpadded");
            assertEquals(32000, g.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals("llama", g.getString("tokenizer.ggml.model"));
        }
        try (GgufFile g = GgufFile.open(Shared.file("tokenizers/llamacpp-vocab/ggml-vocab-gpt-neox.gguf"))) {
            assertEquals("gpt2", g.getString("tokenizer.ggml.model"));
            assertEquals(50432, g.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(50009, g.getStringArray("tokenizer.ggml.merges").length);
        }
    }
}
