package org.slm4j.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.slm4j.format.GgufWriter;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.HalfFloats;

/**
 * Writes a random-weight GGUF of a {@link ModelShape}, for benchmarks: the real tensor names, shapes and metadata, so
 * slm4j and llama.cpp load it as they would the real model, and a minimal tokenizer (byte-level for StableLM,
 * SentencePiece with byte fallback for the llama family) so text goes in and out. Matrices are in the requested type;
 * norms and biases stay F32, as llama.cpp's converter keeps them. Weights are streamed to disk chunk by chunk
 * ({@link GgufWriter.TensorBytes}), so a multi-GB file needs no more than 64 KiB of heap for its data.
 *
 * <p>Each weight is a hash of (seed, tensor, index): uniform in ±sqrt(3 / fan-in), so activations keep their scale
 * through the layers; norm weights are 1, biases uniform in ±0.02.
 */
public final class RandomGguf {
    private RandomGguf() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Writes {@code shape} with matrices in {@code type} (F32 or F16) to {@code out}, atomically. */
    public static void write(ModelShape shape, GgmlType type, long seed, Path out) {
        if (type != GgmlType.F32 && type != GgmlType.F16) throw new IllegalArgumentException("random weights are F32 or F16, not " + type);
        if (shape.vocab() < 260) throw new IllegalArgumentException(shape.name() + ": the minimal tokenizer needs 260 tokens (bytes and specials)");
        GgufWriter w = new GgufWriter();
        metadata(w, shape);
        w.putUInt32("general.file_type", type == GgmlType.F32 ? 0 : 1); // llama.cpp's LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
        tokenizer(w, shape);
        int d = shape.dim(), kv = shape.kvDim(), ffn = shape.ffn();
        boolean s = shape.stablelm();
        long[] counter = {0};
        Tensors t = new Tensors(w, type, seed, counter);
        t.matrix("token_embd.weight", d, shape.vocab());
        for (int l = 0; l < shape.layers(); l++) {
            String b = "blk." + l + ".";
            t.norm(b + "attn_norm", d, s);
            t.matrix(b + "attn_q.weight", d, d);
            t.matrix(b + "attn_k.weight", d, kv);
            t.matrix(b + "attn_v.weight", d, kv);
            if (s) {
                t.bias(b + "attn_q.bias", d);
                t.bias(b + "attn_k.bias", kv);
                t.bias(b + "attn_v.bias", kv);
            }
            t.matrix(b + "attn_output.weight", d, d);
            t.norm(b + "ffn_norm", d, s);
            t.matrix(b + "ffn_gate.weight", d, ffn);
            t.matrix(b + "ffn_up.weight", d, ffn);
            t.matrix(b + "ffn_down.weight", ffn, d);
        }
        t.norm("output_norm", d, s);
        t.matrix("output.weight", d, shape.vocab());
        w.write(out);
    }

    private static void metadata(GgufWriter w, ModelShape shape) {
        String a = shape.arch() + ".";
        w.putString("general.architecture", shape.arch());
        w.putString("general.name", shape.name() + " (random weights)");
        w.putUInt32(a + "context_length", shape.context());
        w.putUInt32(a + "embedding_length", shape.dim());
        w.putUInt32(a + "block_count", shape.layers());
        w.putUInt32(a + "feed_forward_length", shape.ffn());
        w.putUInt32(a + "attention.head_count", shape.heads());
        w.putUInt32(a + "attention.head_count_kv", shape.kvHeads());
        w.putUInt32(a + "rope.dimension_count", shape.rotaryDims());
        w.putFloat32(a + "rope.freq_base", 10000f);
        w.putFloat32(a + (shape.stablelm() ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"), 1e-5f);
        if (shape.window() > 0) w.putUInt32(a + "attention.sliding_window", shape.window());
    }

    /** A vocabulary of the right size that encodes any text: byte tokens, then filler pieces that never match. */
    private static void tokenizer(GgufWriter w, ModelShape shape) {
        int n = shape.vocab();
        String[] tokens = new String[n];
        int[] types = new int[n];
        float[] scores = new float[n];
        Arrays.fill(types, 1); // NORMAL
        if (shape.stablelm()) {
            // GPT-2's byte alphabet: printable Latin-1 bytes stand for themselves, the rest for 256 + k
            for (int b = 0, k = 0; b < 256; b++) {
                boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
                tokens[b] = String.valueOf((char) (printable ? b : 256 + k++));
            }
            for (int i = 256; i < n; i++) tokens[i] = "[RANDOM" + i + "]";
            tokens[shape.eos()] = "<|endoftext|>";
            types[shape.eos()] = 3; // CONTROL
            w.putString("tokenizer.ggml.model", "gpt2");
            w.putString("tokenizer.ggml.pre", "stablelm2");
            w.putStringArray("tokenizer.ggml.merges");
            w.putBool("tokenizer.ggml.add_bos_token", false);
        } else {
            tokens[0] = "<unk>";
            types[0] = 2; // UNKNOWN
            tokens[1] = "<s>";
            tokens[2] = "</s>";
            types[1] = types[2] = 3; // CONTROL
            for (int b = 0; b < 256; b++) {
                tokens[3 + b] = String.format("<0x%02X>", b);
                types[3 + b] = 6; // BYTE
            }
            for (int i = 259; i < n; i++) {
                tokens[i] = "[RANDOM" + i + "]";
                scores[i] = -i;
            }
            tokens[259] = "\u2581"; // SentencePiece's space, so spaces decode as spaces rather than as its three bytes
            w.putString("tokenizer.ggml.model", "llama");
            w.putFloat32Array("tokenizer.ggml.scores", scores);
        }
        w.putStringArray("tokenizer.ggml.tokens", tokens);
        w.putInt32Array("tokenizer.ggml.token_type", types);
        w.putUInt32("tokenizer.ggml.bos_token_id", shape.bos());
        w.putUInt32("tokenizer.ggml.eos_token_id", shape.eos());
    }

    /** Adds tensors whose values are generated while the writer streams them. */
    private record Tensors(GgufWriter w, GgmlType type, long seed, long[] counter) {
        void matrix(String name, int cols, int rows) {
            float scale = (float) Math.sqrt(3.0 / cols);
            add(name, type, new long[] {cols, rows}, (long) cols * rows, scale, 0f);
        }

        void norm(String name, int n, boolean withBias) {
            add(name + ".weight", GgmlType.F32, new long[] {n}, n, 0f, 1f);
            if (withBias) bias(name + ".bias", n);
        }

        void bias(String name, int n) {
            add(name, GgmlType.F32, new long[] {n}, n, 0.02f, 0f);
        }

        /** Element i = offset + scale × (uniform in [-1, 1) from hash(seed, tensor, i)). */
        private void add(String name, GgmlType t, long[] ne, long elements, float scale, float offset) {
            long key = seed * 0x9E3779B97F4A7C15L + counter[0]++ * 0xD1B54A32D192ED03L;
            int width = t == GgmlType.F32 ? 4 : 2;
            w.addTensor(name, t, ne, t.bytesFor(elements), (byteOffset, chunk) -> {
                long first = byteOffset / width;
                for (long i = 0, n = chunk.byteSize() / width; i < n; i++) {
                    float v = offset + scale * uniform(key + (first + i) * 0x9E3779B97F4A7C15L);
                    if (t == GgmlType.F32) chunk.set(F32, 4 * i, v);
                    else chunk.set(F16, 2 * i, HalfFloats.floatToF16(v));
                }
            });
        }

        /** SplitMix64's finalizer on {@code x}: uniform in [-1, 1). */
        private static float uniform(long x) {
            x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
            x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
            x ^= x >>> 31;
            return (float) ((x >>> 40) * 0x1.0p-23 - 1.0);
        }
    }
}
