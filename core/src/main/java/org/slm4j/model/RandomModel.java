package org.slm4j.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.slm4j.format.GgufWriter;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Quantizer;

/**
 * Full-size GGUF models with random weights and the real shapes of the three supported models, for measuring speed
 * (ours and llama.cpp's on the same file) without downloading gigabytes.
 *
 * <p>Every matrix, token_embd and output included, is stored in the one requested type (llama-quantize's default mix
 * would keep some in other types); norm weights, norm biases and q/k/v biases are F32 as converters write them.
 * Matrices are uniform with the standard deviation 1/√cols, so activations keep a sane scale through the layers.
 * The vocabulary is a SentencePiece one that loads everywhere: unk, bos, eos, the 256 byte tokens, then unique
 * filler pieces up to the shape's vocabulary size. Rows are generated, quantized and written in chunks while the
 * file is written: memory stays small whatever the model's size.
 */
public final class RandomModel {
    private RandomModel() {}

    /**
     * The sizes a random model is made of; {@link Shape} holds the real ones, tests make small ones.
     *
     * @param arch          "llama" or "stablelm"
     * @param ropeDims      rotated dims of each head (StableLM: a quarter of the head)
     * @param slidingWindow attention window, 0 for full attention (a Danube-like Mistral model when set)
     */
    public record Dims(String arch, int vocab, int dim, int ffn, int layers, int heads, int kvHeads, int ropeDims, int context,
                int slidingWindow) {}

    /** The shapes of REFERENCE.md's model table. */
    public enum Shape {
        STABLELM_2_1_6B("stablelm-2-1_6b", new Dims("stablelm", 100352, 2048, 5632, 24, 32, 32, 16, 4096, 0)),
        TINYLLAMA_1_1B("tinyllama-1_1b", new Dims("llama", 32000, 2048, 5632, 22, 32, 4, 64, 2048, 0)),
        DANUBE_1_8B("danube-1_8b", new Dims("llama", 32000, 2560, 6912, 24, 32, 8, 80, 16384, 4096));

        private final String id;
        private final Dims dims;

        Shape(String id, Dims dims) {
            this.id = id;
            this.dims = dims;
        }

        /** The command-line name, e.g. "tinyllama-1_1b". */
        public String id() { return id; }

        /** The sizes. */
        public Dims dims() { return dims; }

        /** The shape named {@code id}; an IllegalArgumentException lists the names when none matches. */
        public static Shape of(String id) {
            for (Shape s : values()) if (s.id.equals(id.toLowerCase(Locale.ROOT))) return s;
            throw new IllegalArgumentException("unknown shape '" + id + "'; expected one of "
                    + Arrays.stream(values()).map(Shape::id).toList());
        }
    }

    /** Writes {@code shape} with every matrix in {@code type} (F32, F16, Q8_0 or Q4_0) to {@code file}. */
    public static void write(Shape shape, GgmlType type, long seed, Path file) {
        write(shape.dims, shape.id, type, seed, file);
    }

    static void write(Dims shape, String id, GgmlType type, long seed, Path file) {
        if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.Q8_0 && type != GgmlType.Q4_0) {
            throw new IllegalArgumentException("cannot write random " + type + " weights; supported: F32, F16, Q8_0, Q4_0");
        }
        GgufWriter w = new GgufWriter();
        String a = shape.arch + ".";
        boolean stablelm = shape.arch.equals("stablelm");
        int headDim = shape.dim / shape.heads, kvDim = shape.kvHeads * headDim;
        w.putString("general.architecture", shape.arch);
        w.putString("general.name", "random " + id + " " + type);
        w.putUInt32("general.file_type", fileType(type));
        w.putUInt32(a + "context_length", shape.context);
        w.putUInt32(a + "embedding_length", shape.dim);
        w.putUInt32(a + "block_count", shape.layers);
        w.putUInt32(a + "feed_forward_length", shape.ffn);
        w.putUInt32(a + "attention.head_count", shape.heads);
        w.putUInt32(a + "attention.head_count_kv", shape.kvHeads);
        w.putUInt32(a + "rope.dimension_count", shape.ropeDims);
        w.putFloat32(a + "rope.freq_base", 10000f);
        w.putFloat32(a + (stablelm ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"), 1e-5f);
        if (shape.slidingWindow > 0) w.putUInt32(a + "attention.sliding_window", shape.slidingWindow);
        vocabulary(w, shape.vocab);

        matrix(w, "token_embd.weight", type, shape.vocab, shape.dim, seed);
        for (int l = 0; l < shape.layers; l++) {
            String b = "blk." + l + ".";
            vector(w, b + "attn_norm.weight", shape.dim, 1f, 0, seed);
            if (stablelm) vector(w, b + "attn_norm.bias", shape.dim, 0, 0.02f, seed);
            matrix(w, b + "attn_q.weight", type, shape.dim, shape.dim, seed);
            matrix(w, b + "attn_k.weight", type, kvDim, shape.dim, seed);
            matrix(w, b + "attn_v.weight", type, kvDim, shape.dim, seed);
            if (stablelm) {
                vector(w, b + "attn_q.bias", shape.dim, 0, 0.02f, seed);
                vector(w, b + "attn_k.bias", kvDim, 0, 0.02f, seed);
                vector(w, b + "attn_v.bias", kvDim, 0, 0.02f, seed);
            }
            matrix(w, b + "attn_output.weight", type, shape.dim, shape.dim, seed);
            vector(w, b + "ffn_norm.weight", shape.dim, 1f, 0, seed);
            if (stablelm) vector(w, b + "ffn_norm.bias", shape.dim, 0, 0.02f, seed);
            matrix(w, b + "ffn_gate.weight", type, shape.ffn, shape.dim, seed);
            matrix(w, b + "ffn_up.weight", type, shape.ffn, shape.dim, seed);
            matrix(w, b + "ffn_down.weight", type, shape.dim, shape.ffn, seed);
        }
        vector(w, "output_norm.weight", shape.dim, 1f, 0, seed);
        if (stablelm) vector(w, "output_norm.bias", shape.dim, 0, 0.02f, seed);
        matrix(w, "output.weight", type, shape.vocab, shape.dim, seed);
        w.write(file);
    }

    /** llama.cpp's LLAMA_FTYPE for a file whose matrices are all {@code type}. */
    private static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            default -> throw new AssertionError(type);
        };
    }

    /** Writes the byte-fallback SentencePiece vocabulary of {@code size} tokens (at least 259) described above. */
    static void vocabulary(GgufWriter w, int size) {
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>";
        tokens[1] = "<s>";
        tokens[2] = "</s>";
        types[0] = 2;                                       // unknown
        types[1] = types[2] = 3;                            // control
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6;                               // byte
        }
        for (int i = 3 + 256; i < size; i++) {
            tokens[i] = "\u2581filler" + i;                 // unique, never merged from text: ids exist to be sampled
            scores[i] = -i;
            types[i] = 1;                                   // normal
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putStringArray("tokenizer.ggml.tokens", tokens);
        w.putFloat32Array("tokenizer.ggml.scores", scores);
        w.putInt32Array("tokenizer.ggml.token_type", types);
        w.putUInt32("tokenizer.ggml.bos_token_id", 1);
        w.putUInt32("tokenizer.ggml.eos_token_id", 2);
        w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
    }

    static SplittableRandom random(long seed, String name) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
    }

    /** An F32 vector: {@code base} plus uniform noise of standard deviation {@code std}. */
    private static void vector(GgufWriter w, String name, int n, float base, float std, long seed) {
        SplittableRandom r = random(seed, name);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = base + uniform(r, std);
        w.addTensor(name, v, n);
    }

    /** A [rows, cols] matrix of {@code type}, generated and quantized chunk by chunk as the file is written. */
    private static void matrix(GgufWriter w, String name, GgmlType type, int rows, int cols, long seed) {
        float std = (float) (1 / Math.sqrt(cols));
        w.addTensor(name, type, new long[] {cols, rows}, (WritableByteChannel out) -> {
            SplittableRandom r = random(seed, name);
            int rowBytes = (int) type.bytesFor(cols), chunkRows = Math.max(1, (1 << 20) / rowBytes);
            ByteBuffer buf = ByteBuffer.allocate(chunkRows * rowBytes);
            float[] row = new float[cols];
            for (int r0 = 0; r0 < rows; r0 += chunkRows) {
                buf.clear();
                for (int i = r0; i < Math.min(rows, r0 + chunkRows); i++) {
                    for (int c = 0; c < cols; c++) row[c] = uniform(r, std);
                    Quantizer.quantizeRow(type, row, 0, cols, buf);
                }
                buf.flip();
                while (buf.hasRemaining()) out.write(buf);
            }
        });
    }

    /** Uniform on [-√3·std, √3·std): standard deviation {@code std}. */
    static float uniform(SplittableRandom r, float std) {
        return (float) ((r.nextDouble() * 2 - 1) * 1.7320508 * std);
    }
}
