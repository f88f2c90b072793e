package org.slm4j.model;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.slm4j.format.GgufWriter;

/**
 * Writes small random llama- or stablelm-arch GGUF models with the project's own writer, with a byte-level
 * SentencePiece vocabulary (unk, bos, eos and the 256 byte tokens), for loader tests.
 */
final class TinyGguf {
    static final int VOCAB = 3 + 256, DIM = 32, HEADS = 4, KV_HEADS = 2, FFN = 64, LAYERS = 2;

    private TinyGguf() {}

    /** A valid model; {@code edit} may change metadata or tensors before it is written. */
    static Path write(Path file, String arch, Consumer<GgufWriter> edit) {
        GgufWriter w = new GgufWriter();
        SplittableRandom r = new SplittableRandom(1);
        w.putString("general.architecture", arch);
        w.putUInt32(arch + ".context_length", 128);
        w.putUInt32(arch + ".embedding_length", DIM);
        w.putUInt32(arch + ".block_count", LAYERS);
        w.putUInt32(arch + ".feed_forward_length", FFN);
        w.putUInt32(arch + ".attention.head_count", HEADS);
        w.putUInt32(arch + ".attention.head_count_kv", KV_HEADS);
        w.putUInt32(arch + ".rope.dimension_count", DIM / HEADS);
        boolean stablelm = arch.equals("stablelm");
        w.putFloat32(arch + (stablelm ? ".attention.layer_norm_epsilon" : ".attention.layer_norm_rms_epsilon"), 1e-5f);
        RandomModel.vocabulary(w, VOCAB);
        int kv = DIM / HEADS * KV_HEADS;
        w.addTensor("token_embd.weight", random(r, VOCAB * DIM), DIM, VOCAB);
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            w.addTensor(b + "attn_norm.weight", ones(DIM), DIM);
            w.addTensor(b + "attn_q.weight", random(r, DIM * DIM), DIM, DIM);
            w.addTensor(b + "attn_k.weight", random(r, kv * DIM), DIM, kv);
            w.addTensor(b + "attn_v.weight", random(r, kv * DIM), DIM, kv);
            w.addTensor(b + "attn_output.weight", random(r, DIM * DIM), DIM, DIM);
            w.addTensor(b + "ffn_norm.weight", ones(DIM), DIM);
            w.addTensor(b + "ffn_gate.weight", random(r, FFN * DIM), DIM, FFN);
            w.addTensor(b + "ffn_up.weight", random(r, FFN * DIM), DIM, FFN);
            w.addTensor(b + "ffn_down.weight", random(r, FFN * DIM), FFN, DIM);
            if (stablelm) {
                w.addTensor(b + "attn_norm.bias", new float[DIM], DIM);
                w.addTensor(b + "ffn_norm.bias", new float[DIM], DIM);
                w.addTensor(b + "attn_q.bias", random(r, DIM), DIM);
                w.addTensor(b + "attn_k.bias", random(r, kv), kv);
                w.addTensor(b + "attn_v.bias", random(r, kv), kv);
            }
        }
        w.addTensor("output_norm.weight", ones(DIM), DIM);
        if (stablelm) w.addTensor("output_norm.bias", new float[DIM], DIM);
        w.addTensor("output.weight", random(r, VOCAB * DIM), DIM, VOCAB);
        edit.accept(w);
        w.write(file);
        return file;
    }

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((r.nextDouble() - 0.5) * 0.3);
        return v;
    }

    static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
