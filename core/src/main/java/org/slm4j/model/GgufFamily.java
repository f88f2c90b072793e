package org.slm4j.model;

import java.util.Arrays;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufTensorInfo;
import org.slm4j.format.ModelFormatException;
import org.slm4j.tensor.Matrix;

/**
 * The GGUF architectures slm4j runs, and how each maps its {@code <arch>.*} metadata onto {@link ModelConfig}.
 * Tensor names are the same for both ({@code token_embd}, {@code blk.N.attn_q}, …); only these switches differ.
 * H2O-Danube arrives as {@code llama} (llama.cpp converts MistralForCausalLM so), with
 * {@code llama.attention.sliding_window} when the converter wrote it.
 */
enum GgufFamily {
    /** Llama, TinyLlama, Mistral, H2O-Danube: RMSNorm, q/k rows permuted for adjacent-pair RoPE. */
    LLAMA("llama", NormKind.RMS, "attention.layer_norm_rms_epsilon", RopeLayout.ADJACENT),
    /** StableLM 2: LayerNorm with bias, q/k/v biases, NeoX RoPE on the first 25 % of each head (not permuted). */
    STABLELM("stablelm", NormKind.LAYER, "attention.layer_norm_epsilon", RopeLayout.HALF);

    final String arch;
    final NormKind norm;
    final String epsKey;
    final RopeLayout rope;

    GgufFamily(String arch, NormKind norm, String epsKey, RopeLayout rope) {
        this.arch = arch;
        this.norm = norm;
        this.epsKey = epsKey;
        this.rope = rope;
    }

    static GgufFamily of(GgufFile gguf) {
        String arch = gguf.getString("general.architecture");
        for (GgufFamily f : values()) {
            if (f.arch.equals(arch)) return f;
        }
        throw new ModelFormatException(gguf.path() + ": general.architecture '" + arch
                + "' is not supported; slm4j runs " + String.join(", ", names()));
    }

    private static String[] names() {
        GgufFamily[] v = values();
        String[] n = new String[v.length];
        for (int i = 0; i < v.length; i++) n[i] = v[i].arch;
        return n;
    }

    /** The config the file's metadata and tensor shapes describe. */
    ModelConfig config(GgufFile gguf) {
        String p = arch + ".";
        int dim = gguf.getInt(p + "embedding_length");
        int heads = gguf.getInt(p + "attention.head_count");
        int kvHeads = gguf.getInt(p + "attention.head_count_kv", heads);
        if (heads <= 0 || dim % heads != 0 && !gguf.has(p + "attention.key_length")) {
            throw new ModelFormatException(gguf.path() + ": " + p + "embedding_length " + dim
                    + " is not a multiple of " + p + "attention.head_count " + heads);
        }
        int headDim = gguf.getInt(p + "attention.key_length", dim / heads);
        var embd = gguf.tensor("token_embd.weight");
        if (embd == null) throw new ModelFormatException(gguf.path() + ": tensor token_embd.weight is missing");
        int vocab = gguf.getInt(p + "vocab_size", embd.rows());
        try {
            return new ModelConfig(arch, vocab, dim,
                    gguf.getInt(p + "block_count"), heads, kvHeads, headDim,
                    gguf.getInt(p + "feed_forward_length"),
                    norm, gguf.getFloat(p + epsKey),
                    gguf.tensor("blk.0.attn_q.bias") != null,
                    gguf.getInt(p + "rope.dimension_count", headDim), rope,
                    gguf.getFloat(p + "rope.freq_base", 10000f),
                    gguf.getInt(p + "context_length"),
                    gguf.getInt(p + "attention.sliding_window", 0),
                    // as llama.cpp decides: by the tensors present
                    gguf.tensor("blk.0.attn_q_norm.weight") != null,
                    this == STABLELM && gguf.tensor("blk.0.ffn_norm.weight") == null,
                    ropeFreqScale(gguf, p));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(gguf.path() + ": " + e.getMessage(), e);
        }
    }

    /** 1 / factor for linear RoPE scaling (rope.scaling.factor, or the older rope.scale_linear), else 1. */
    private static float ropeFreqScale(GgufFile gguf, String p) {
        String type = gguf.getString(p + "rope.scaling.type", "linear");
        if (type.equals("none")) return 1f;
        if (!type.equals("linear")) {
            throw new ModelFormatException(gguf.path() + ": " + p + "rope.scaling.type '" + type
                    + "' is not supported; slm4j runs 'none' and 'linear'");
        }
        float factor = gguf.getFloat(p + "rope.scaling.factor", gguf.getFloat(p + "rope.scale_linear", 0f));
        return factor == 0 ? 1f : 1 / factor;   // 0 (or no key): unscaled, as llama.cpp reads it
    }

    /** The weights, checked against the shapes the config implies; matrices stay in the mapping. */
    Weights weights(GgufFile gguf, ModelConfig c) {
        return Weights.load(c, new WeightSource() {
            public Matrix matrix(String name, int rows, int cols) { return GgufFamily.matrix(gguf, name, rows, cols); }
            public float[] vector(String name, int n) { return GgufFamily.vector(gguf, name, n); }
            public boolean has(String name) { return gguf.tensor(name) != null; }
        });
    }

    private static Matrix matrix(GgufFile gguf, String name, int rows, int cols) {
        GgufTensorInfo t = require(gguf, name);
        if (t.shape().length != 2 || t.shape()[0] != cols || t.shape()[1] != rows) {
            throw new ModelFormatException(gguf.path() + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected [" + cols + ", " + rows + "] from the model's hyper-parameters");
        }
        if (!t.type().supported()) {
            throw new ModelFormatException(gguf.path() + ": tensor " + name + " has weight type " + t.type()
                    + ", which slm4j cannot compute with yet");
        }
        return new Matrix(name, t.type(), gguf.tensorData(t), rows, cols);
    }

    private static float[] vector(GgufFile gguf, String name, int n) {
        GgufTensorInfo t = require(gguf, name);
        // 1-D, or per-head weights stacked as [heads, headDim] (attn_q_norm, attn_k_norm)
        if (t.elementCount() != n || t.shape().length > 2) {
            throw new ModelFormatException(gguf.path() + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected [" + n + "]");
        }
        if (!t.type().supported()) {
            throw new ModelFormatException(gguf.path() + ": tensor " + name + " has type " + t.type() + ", expected a float type");
        }
        float[] v = new float[n];
        new Matrix(name, t.type(), gguf.tensorData(t), 1, n).dequantizeRow(0, v, 0);
        return v;
    }

    private static GgufTensorInfo require(GgufFile gguf, String name) {
        GgufTensorInfo t = gguf.tensor(name);
        if (t == null) throw new ModelFormatException(gguf.path() + ": tensor " + name + " is missing");
        return t;
    }
}
