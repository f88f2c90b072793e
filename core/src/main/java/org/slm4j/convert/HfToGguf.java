package org.slm4j.convert;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slm4j.format.GgufWriter;
import org.slm4j.format.HfFolder;
import org.slm4j.format.ModelFormatException;
import org.slm4j.format.Progress;
import org.slm4j.model.HfModel;
import org.slm4j.model.LayerWeights;
import org.slm4j.model.ModelConfig;
import org.slm4j.model.NormKind;
import org.slm4j.model.Weights;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Matrix;
import org.slm4j.tokenizer.GgufTokenizerWriter;

/**
 * Converts a Hugging Face folder (LlamaForCausalLM, MistralForCausalLM, StableLmForCausalLM) into the GGUF file
 * llama.cpp's convert_hf_to_gguf.py writes for it: the same architecture, hyper-parameter keys, tensor names and
 * tokenizer metadata, so that llama.cpp and slm4j's GGUF loader compute what the folder computes.
 *
 * <p>The RoPE trap: HF keeps q/k rows in rotate_half order, pairing dims (i, i + d/2) of each head; llama.cpp's
 * {@code llama} architecture rotates adjacent pairs (2i, 2i+1). So for {@code llama} the rows of each head of
 * {@code attn_q} (per attention head) and {@code attn_k} (per kv head) are interleaved: GGUF row 2i+j of a head is
 * HF row j·d/2 + i. {@code stablelm} runs NeoX RoPE, HF's own pairing, and is written unpermuted.
 *
 * <p>Nothing is loaded whole: matrices stay views of the mapped safetensors and are read row by row, permuted on
 * the fly, while {@link GgufQuantizer} writes the file.
 */
public final class HfToGguf {
    private HfToGguf() {}

    /** What a conversion writes: the metadata (no tensors yet) and the tensors in file order, read lazily. */
    public record Plan(GgufWriter header, List<SourceTensor> tensors) {}

    /**
     * Converts the folder {@code hfDir} into {@code out}, its matrices in {@code type}'s mix; progress counts bytes.
     *
     * @throws ModelFormatException naming the folder, file or field when the folder is malformed, unsupported, or
     *                              holds a weight the target cannot (NaN, infinite, beyond F16)
     */
    public static void convert(Path hfDir, Path out, FileType type, Progress progress) {
        try (HfFolder folder = HfFolder.open(hfDir)) {
            Plan plan = plan(folder);
            GgufQuantizer.write(plan.header(), plan.tensors(), type, out, progress);
        } catch (IllegalArgumentException e) {   // a weight the writer refuses (NaN, beyond F16) is a fault of the folder
            throw new ModelFormatException(hfDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The metadata and tensors of {@code folder} as llama.cpp names them; the tensors read from the folder's mapping,
     * so use them before closing it.
     *
     * @throws org.slm4j.format.ModelFormatException naming the file and field when the folder is malformed or not one
     *                                               of the supported architectures
     */
    public static Plan plan(HfFolder folder) {
        ModelConfig c = HfModel.config(folder);
        Weights w = HfModel.weights(folder, c);
        GgufWriter header = new GgufWriter();
        hyperParameters(folder, c, header);
        GgufTokenizerWriter.write(folder, c.architecture(), c.vocabSize(), header);
        return new Plan(header, tensors(c, w));
    }

    /** The {@code general.*} and {@code <arch>.*} keys llama.cpp reads for the architecture. */
    private static void hyperParameters(HfFolder folder, ModelConfig c, GgufWriter h) {
        String arch = c.architecture(), a = arch + ".";
        h.putString("general.architecture", arch);
        h.putString("general.name", modelName(folder.path(), arch));
        if (arch.equals("llama")) h.putUInt32(a + "vocab_size", c.vocabSize());
        h.putUInt32(a + "context_length", c.contextLength());
        h.putUInt32(a + "embedding_length", c.dim());
        h.putUInt32(a + "block_count", c.layers());
        h.putUInt32(a + "feed_forward_length", c.ffnDim());
        h.putUInt32(a + "attention.head_count", c.heads());
        h.putUInt32(a + "attention.head_count_kv", c.kvHeads());
        h.putUInt32(a + "rope.dimension_count", c.rotaryDims());
        h.putFloat32(a + "rope.freq_base", c.ropeTheta());
        if (c.norm() == NormKind.RMS) {
            h.putFloat32(a + "attention.layer_norm_rms_epsilon", c.normEps());
        } else {
            h.putFloat32(a + "attention.layer_norm_epsilon", c.normEps());
            h.putBool(a + "use_parallel_residual", c.parallelResidual());
        }
        // an explicit head_dim (not hidden_size / heads) is written as the converter does
        var headDim = folder.config().get("head_dim");
        if (headDim != null && !headDim.isNull()) {
            h.putUInt32(a + "attention.key_length", c.headDim());
            h.putUInt32(a + "attention.value_length", c.headDim());
        }
        if (c.ropeFreqScale() != 1f) {
            h.putString(a + "rope.scaling.type", "linear");
            h.putFloat32(a + "rope.scaling.factor", 1 / c.ropeFreqScale());
        }
        // slm4j's own key: llama.cpp's converter drops Mistral's window (and llama.cpp attends fully)
        if (c.slidingWindow() > 0) h.putUInt32(a + "attention.sliding_window", c.slidingWindow());
    }

    /** The folder's name, or for a hub cache snapshot ({@code models--ORG--NAME/snapshots/REV}) the repository's NAME. */
    static String modelName(Path folder, String dflt) {
        Path p = folder.toAbsolutePath().normalize();
        Path parent = p.getParent(), repo = parent == null ? null : parent.getParent();
        if (parent != null && repo != null && repo.getFileName() != null && parent.getFileName().toString().equals("snapshots")
                && repo.getFileName().toString().startsWith("models--")) {
            String r = repo.getFileName().toString();
            return r.substring(r.lastIndexOf("--") + 2);
        }
        return p.getFileName() == null ? dflt : p.getFileName().toString();
    }

    /** The tensors in llama.cpp's order (embedding, blocks, output norm, head); the head only when not tied. */
    private static List<SourceTensor> tensors(ModelConfig c, Weights w) {
        boolean permute = c.architecture().equals("llama");
        List<SourceTensor> t = new ArrayList<>();
        t.add(new MatrixRows("token_embd.weight", w.tokenEmbd(), null));
        for (int l = 0; l < w.layers().length; l++) {
            LayerWeights lw = w.layers()[l];
            String b = "blk." + l + ".";
            t.add(new VectorRow(b + "attn_norm.weight", lw.attnNorm()));
            if (lw.attnNormBias() != null) t.add(new VectorRow(b + "attn_norm.bias", lw.attnNormBias()));
            t.add(new MatrixRows(b + "attn_q.weight", lw.attnQ(), permute ? ropeOrder(c.heads(), c.headDim()) : null));
            t.add(new MatrixRows(b + "attn_k.weight", lw.attnK(), permute ? ropeOrder(c.kvHeads(), c.headDim()) : null));
            t.add(new MatrixRows(b + "attn_v.weight", lw.attnV(), null));
            if (lw.attnQBias() != null) {
                t.add(new VectorRow(b + "attn_q.bias", lw.attnQBias()));
                t.add(new VectorRow(b + "attn_k.bias", lw.attnKBias()));
                t.add(new VectorRow(b + "attn_v.bias", lw.attnVBias()));
            }
            if (lw.attnQNorm() != null) {   // per-head weights stacked: [heads, headDim]
                t.add(new VectorRow(b + "attn_q_norm.weight", lw.attnQNorm(), c.headDim()));
                t.add(new VectorRow(b + "attn_k_norm.weight", lw.attnKNorm(), c.headDim()));
            }
            t.add(new MatrixRows(b + "attn_output.weight", lw.attnOutput(), null));
            if (lw.ffnNorm() != null) t.add(new VectorRow(b + "ffn_norm.weight", lw.ffnNorm()));
            if (lw.ffnNormBias() != null) t.add(new VectorRow(b + "ffn_norm.bias", lw.ffnNormBias()));
            t.add(new MatrixRows(b + "ffn_gate.weight", lw.ffnGate(), null));
            t.add(new MatrixRows(b + "ffn_up.weight", lw.ffnUp(), null));
            t.add(new MatrixRows(b + "ffn_down.weight", lw.ffnDown(), null));
        }
        t.add(new VectorRow("output_norm.weight", w.outputNorm()));
        if (w.outputNormBias() != null) t.add(new VectorRow("output_norm.bias", w.outputNormBias()));
        if (w.output() != w.tokenEmbd()) t.add(new MatrixRows("output.weight", w.output(), null));
        return t;
    }

    /**
     * For each GGUF row of a q or k projection of {@code heads} heads of {@code headDim} rows, the HF row it comes
     * from: within a head, GGUF row 2i+j is HF row j·headDim/2 + i (rotate_half pairs made adjacent).
     */
    static int[] ropeOrder(int heads, int headDim) {
        int[] src = new int[heads * headDim];
        for (int r = 0; r < src.length; r++) {
            int h = r / headDim, w = r % headDim;
            src[r] = h * headDim + (w % 2) * (headDim / 2) + w / 2;
        }
        return src;
    }

    /** A matrix read from its mapping row by row; {@code order[r]} is the source row of row r, or null for as is. */
    private record MatrixRows(String name, Matrix m, int[] order) implements SourceTensor {
        @Override public long[] shape() { return new long[] {m.cols(), m.rows()}; }
        @Override public GgmlType type() { return m.type(); }

        @Override
        public void readRow(long row, float[] dst, int off) {
            int r = (int) row;
            m.dequantizeRow(order == null ? r : order[r], dst, off);
        }
    }

    /** A norm weight or bias already read as floats: 1-D, or rows of {@code width} (per-head norms). */
    private record VectorRow(String name, float[] v, int width) implements SourceTensor {
        VectorRow(String name, float[] v) {
            this(name, v, v.length);
        }

        @Override public long[] shape() { return width == v.length ? new long[] {width} : new long[] {width, v.length / width}; }
        @Override public GgmlType type() { return GgmlType.F32; }

        @Override
        public void readRow(long row, float[] dst, int off) {
            if (row < 0 || row >= v.length / width) throw new IndexOutOfBoundsException("row " + row + " of the tensor " + name);
            System.arraycopy(v, (int) row * width, dst, off, width);
        }
    }
}
