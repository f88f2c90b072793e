package org.slm4j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slm4j.format.HfFolder;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.format.SafetensorsWriter;
import org.slm4j.tensor.HalfFloats;

/**
 * Hugging Face folders with random weights and the shapes of {@link RandomModel}: what transformers would save for
 * StableLM 2 (StableLmForCausalLM), TinyLlama (LlamaForCausalLM) and H2O-Danube (MistralForCausalLM, with its
 * sliding window), for converting and benchmarking without downloading gigabytes.
 *
 * <p>The folder holds config.json with the keys the real configs have, model.safetensors (every tensor in one dtype,
 * rows generated while the file is written, so memory stays small), generation_config.json, and a tokenizer.json
 * with tokenizer_config.json: for llama-family shapes Llama's layout (byte-fallback BPE over '▁' pieces: unk, bos,
 * eos, the 256 byte pieces, then filler pieces), for StableLM a byte-level BPE (the 256 GPT-2 byte symbols, filler
 * words, {@code <|endoftext|>} last). Neither has merges: random weights need ids, not a trained vocabulary.
 * Weights follow {@link RandomModel}'s recipe: matrices uniform with standard deviation 1/√cols, norm weights 1,
 * biases of standard deviation 0.02, q/k in HF's rotate_half order like every HF checkpoint.
 */
public final class RandomHfFolder {
    private RandomHfFolder() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes {@code shape} with every tensor in {@code dtype} (F32, F16 or BF16) into the folder {@code dir}. */
    public static void write(RandomModel.Shape shape, Dtype dtype, long seed, Path dir) {
        write(shape.dims(), shape.id(), dtype, seed, dir);
    }

    /** Writes a model of sizes {@code d} (named {@code name} in messages) into {@code dir}, created if absent. */
    public static void write(RandomModel.Dims d, String name, Dtype dtype, long seed, Path dir) {
        if (dtype != Dtype.F32 && dtype != Dtype.F16 && dtype != Dtype.BF16) {
            throw new IllegalArgumentException("cannot write random " + dtype + " safetensors; supported: F32, F16, BF16");
        }
        boolean stablelm = d.arch().equals("stablelm");
        if (!stablelm && !d.arch().equals("llama")) throw new IllegalArgumentException("unknown architecture " + d.arch());
        if (d.vocab() <= 0 || d.dim() <= 0 || d.ffn() <= 0 || d.layers() <= 0 || d.heads() <= 0 || d.kvHeads() <= 0) {
            throw new IllegalArgumentException(name + ": every size must be positive, got " + d);
        }
        if (d.dim() % d.heads() != 0 || d.heads() % d.kvHeads() != 0) {
            throw new IllegalArgumentException(name + ": dim " + d.dim() + ", heads " + d.heads() + ", kv heads " + d.kvHeads() + " do not divide");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e, e);
        }
        int eot = d.vocab() - 1;   // StableLM's <|endoftext|>: bos, eos and unk
        json(dir.resolve(HfFolder.CONFIG), config(d, dtype, stablelm, eot));
        json(dir.resolve(HfFolder.GENERATION_CONFIG), Map.of("bos_token_id", stablelm ? eot : 1, "eos_token_id", stablelm ? eot : 2));
        if (stablelm) byteLevelTokenizer(dir, d.vocab(), d.context());
        else llamaTokenizer(dir, d.vocab(), d.context());
        weights(d, dtype, seed, stablelm).write(dir.resolve(HfFolder.WEIGHTS));
    }

    /** config.json as transformers saves it for the architecture. */
    private static Map<String, Object> config(RandomModel.Dims d, Dtype dtype, boolean stablelm, int eot) {
        boolean mistral = !stablelm && d.slidingWindow() > 0;
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(stablelm ? "StableLmForCausalLM" : mistral ? "MistralForCausalLM" : "LlamaForCausalLM"));
        c.put("model_type", stablelm ? "stablelm" : mistral ? "mistral" : "llama");
        c.put("vocab_size", d.vocab());
        c.put("hidden_size", d.dim());
        c.put("intermediate_size", d.ffn());
        c.put("num_hidden_layers", d.layers());
        c.put("num_attention_heads", d.heads());
        c.put("num_key_value_heads", d.kvHeads());
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", d.context());
        c.put("rope_theta", 10000.0);
        c.put("rope_scaling", null);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", stablelm ? eot : 1);
        c.put("eos_token_id", stablelm ? eot : 2);
        c.put("torch_dtype", switch (dtype) { case F16 -> "float16"; case BF16 -> "bfloat16"; default -> "float32"; });
        c.put("use_cache", true);
        if (stablelm) {
            c.put("layer_norm_eps", 1e-5);
            c.put("partial_rotary_factor", (double) d.ropeDims() / (d.dim() / d.heads()));
            c.put("use_qkv_bias", true);
            c.put("qk_layernorm", false);
            c.put("use_parallel_residual", false);
        } else {
            c.put("rms_norm_eps", 1e-5);
            c.put("attention_bias", false);
            if (mistral) c.put("sliding_window", d.slidingWindow());
        }
        return c;
    }

    /** The tensors in transformers' names and [out, in] shapes, generated as the file is written. */
    private static SafetensorsWriter weights(RandomModel.Dims d, Dtype dtype, long seed, boolean stablelm) {
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
        int kvDim = d.kvHeads() * (d.dim() / d.heads());
        matrix(w, "model.embed_tokens.weight", dtype, d.vocab(), d.dim(), seed);
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            vector(w, p + "input_layernorm.weight", dtype, d.dim(), 1f, 0, seed);
            if (stablelm) vector(w, p + "input_layernorm.bias", dtype, d.dim(), 0, 0.02f, seed);
            matrix(w, p + "self_attn.q_proj.weight", dtype, d.dim(), d.dim(), seed);
            matrix(w, p + "self_attn.k_proj.weight", dtype, kvDim, d.dim(), seed);
            matrix(w, p + "self_attn.v_proj.weight", dtype, kvDim, d.dim(), seed);
            if (stablelm) {
                vector(w, p + "self_attn.q_proj.bias", dtype, d.dim(), 0, 0.02f, seed);
                vector(w, p + "self_attn.k_proj.bias", dtype, kvDim, 0, 0.02f, seed);
                vector(w, p + "self_attn.v_proj.bias", dtype, kvDim, 0, 0.02f, seed);
            }
            matrix(w, p + "self_attn.o_proj.weight", dtype, d.dim(), d.dim(), seed);
            vector(w, p + "post_attention_layernorm.weight", dtype, d.dim(), 1f, 0, seed);
            if (stablelm) vector(w, p + "post_attention_layernorm.bias", dtype, d.dim(), 0, 0.02f, seed);
            matrix(w, p + "mlp.gate_proj.weight", dtype, d.ffn(), d.dim(), seed);
            matrix(w, p + "mlp.up_proj.weight", dtype, d.ffn(), d.dim(), seed);
            matrix(w, p + "mlp.down_proj.weight", dtype, d.dim(), d.ffn(), seed);
        }
        vector(w, "model.norm.weight", dtype, d.dim(), 1f, 0, seed);
        if (stablelm) vector(w, "model.norm.bias", dtype, d.dim(), 0, 0.02f, seed);
        matrix(w, "lm_head.weight", dtype, d.vocab(), d.dim(), seed);
        return w;
    }

    private static void vector(SafetensorsWriter w, String name, Dtype dtype, int n, float base, float std, long seed) {
        w.add(name, dtype, new long[] {n}, out -> rows(out, dtype, RandomModel.random(seed, name), 1, n, base, std));
    }

    private static void matrix(SafetensorsWriter w, String name, Dtype dtype, int rows, int cols, long seed) {
        float std = (float) (1 / Math.sqrt(cols));
        w.add(name, dtype, new long[] {rows, cols}, out -> rows(out, dtype, RandomModel.random(seed, name), rows, cols, 0, std));
    }

    /** Writes {@code rows × cols} values base + noise, little-endian in {@code dtype}, about 1 MiB at a time. */
    private static void rows(WritableByteChannel out, Dtype dtype, SplittableRandom r, int rows, int cols, float base, float std)
            throws IOException {
        int rowBytes = cols * dtype.bits() / 8, chunkRows = Math.max(1, (1 << 20) / Math.max(1, rowBytes));
        ByteBuffer buf = ByteBuffer.allocate(chunkRows * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            buf.clear();
            for (int i = r0; i < Math.min(rows, r0 + chunkRows); i++) {
                for (int c = 0; c < cols; c++) {
                    float v = base + RandomModel.uniform(r, std);
                    switch (dtype) {
                        case F16 -> buf.putShort(HalfFloats.floatToF16(v));
                        case BF16 -> buf.putShort(HalfFloats.floatToBf16(v));
                        default -> buf.putFloat(v);
                    }
                }
            }
            buf.flip();
            while (buf.hasRemaining()) out.write(buf);
        }
    }

    /** Llama's legacy tokenizer.json layout (LlamaTokenizerFast) over RandomModel's SentencePiece-style vocabulary. */
    private static void llamaTokenizer(Path dir, int vocab, int context) {
        if (vocab < 3 + 256) throw new IllegalArgumentException("a llama-family vocabulary needs at least 259 tokens, not " + vocab);
        Map<String, Integer> ids = new LinkedHashMap<>();
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++) ids.put(specials[i], i);
        for (int b = 0; b < 256; b++) ids.put(String.format("<0x%02X>", b), 3 + b);
        for (int i = 3 + 256; i < vocab; i++) ids.put("\u2581filler" + i, i);
        List<Object> added = new ArrayList<>();
        Map<String, Object> decoderEntries = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            added.add(addedToken(i, specials[i]));
            decoderEntries.put(Integer.toString(i), addedTokenConfig(specials[i]));
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("version", "1.0");
        t.put("truncation", null);
        t.put("padding", null);
        t.put("added_tokens", added);
        t.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                Map.of("type", "Prepend", "prepend", "\u2581"),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "\u2581"))));
        t.put("pre_tokenizer", null);
        t.put("post_processor", Map.of("type", "TemplateProcessing",
                "single", List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)), Map.of("Sequence", Map.of("id", "A", "type_id", 0))),
                "pair", List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)), Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                        Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 1)), Map.of("Sequence", Map.of("id", "B", "type_id", 1))),
                "special_tokens", Map.of("<s>", Map.of("id", "<s>", "ids", List.of(1), "tokens", List.of("<s>")))));
        t.put("decoder", Map.of("type", "Sequence", "decoders", List.of(
                Map.of("type", "Replace", "pattern", Map.of("String", "\u2581"), "content", " "),
                Map.of("type", "ByteFallback"), Map.of("type", "Fuse"),
                Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))));
        t.put("model", bpe(ids, "<unk>", true));
        json(dir.resolve("tokenizer.json"), t);

        Map<String, Object> c = new LinkedHashMap<>();
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("added_tokens_decoder", decoderEntries);
        c.put("bos_token", "<s>");
        c.put("eos_token", "</s>");
        c.put("unk_token", "<unk>");
        c.put("pad_token", null);
        c.put("clean_up_tokenization_spaces", false);
        c.put("legacy", true);
        c.put("model_max_length", context);
        c.put("tokenizer_class", "LlamaTokenizerFast");
        json(dir.resolve(HfFolder.TOKENIZER_CONFIG), c);
    }

    /** A GPT-2-style byte-level tokenizer.json (GPT2TokenizerFast), {@code <|endoftext|>} as the last id. */
    private static void byteLevelTokenizer(Path dir, int vocab, int context) {
        if (vocab < 257) throw new IllegalArgumentException("a byte-level vocabulary needs at least 257 tokens, not " + vocab);
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) ids.put(byteSymbol(b), b);
        for (int i = 256; i < vocab - 1; i++) ids.put("filler" + i, i);
        String eot = "<|endoftext|>";
        ids.put(eot, vocab - 1);
        Map<String, Object> byteLevel = Map.of("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true, "use_regex", true);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("version", "1.0");
        t.put("truncation", null);
        t.put("padding", null);
        t.put("added_tokens", List.of(addedToken(vocab - 1, eot)));
        t.put("normalizer", null);
        t.put("pre_tokenizer", byteLevel);
        t.put("post_processor", byteLevel);
        t.put("decoder", byteLevel);
        t.put("model", bpe(ids, null, false));
        json(dir.resolve("tokenizer.json"), t);

        Map<String, Object> c = new LinkedHashMap<>();
        c.put("add_bos_token", false);
        c.put("add_prefix_space", false);
        c.put("added_tokens_decoder", Map.of(Integer.toString(vocab - 1), addedTokenConfig(eot)));
        c.put("bos_token", eot);
        c.put("eos_token", eot);
        c.put("unk_token", eot);
        c.put("pad_token", null);
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", context);
        c.put("tokenizer_class", "GPT2TokenizerFast");
        json(dir.resolve(HfFolder.TOKENIZER_CONFIG), c);
    }

    /** GPT-2's printable stand-in for byte {@code b}: itself when printable, else U+0100 onwards in byte order. */
    private static String byteSymbol(int b) {
        if (b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE) return Character.toString(b);
        int n = 0;
        for (int x = 0; x < b; x++) if (!(x >= '!' && x <= '~' || x >= 0xA1 && x <= 0xAC || x >= 0xAE)) n++;
        return Character.toString(256 + n);
    }

    private static Map<String, Object> bpe(Map<String, Integer> vocab, String unk, boolean byteFallback) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "BPE");
        m.put("dropout", null);
        m.put("unk_token", unk);
        m.put("continuing_subword_prefix", null);
        m.put("end_of_word_suffix", null);
        m.put("fuse_unk", byteFallback);
        m.put("byte_fallback", byteFallback);
        m.put("ignore_merges", false);
        m.put("vocab", vocab);
        m.put("merges", List.of());
        return m;
    }

    private static Map<String, Object> addedToken(int id, String content) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("id", id);
        a.putAll(addedTokenConfig(content));
        return a;
    }

    private static Map<String, Object> addedTokenConfig(String content) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("content", content);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", true);
        return a;
    }

    private static void json(Path file, Object value) {
        try {
            Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e, e);
        }
    }
}
