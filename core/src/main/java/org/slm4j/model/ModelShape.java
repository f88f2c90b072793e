package org.slm4j.model;

import java.util.Arrays;
import java.util.List;

/**
 * The shape of a model, without weights: what a random-weight model for benchmarks needs to be the real thing's size.
 * The presets are the published configs (REFERENCE.md, "Model configs").
 *
 * @param name        the preset's name on the command line
 * @param arch        GGUF architecture: "llama" or "stablelm"
 * @param rotaryDims  leading dims of each head that RoPE rotates
 * @param window      sliding window (0 = none)
 * @param bos         BOS id (also EOS for StableLM's {@code <|endoftext|>})
 * @param eos         EOS id
 */
public record ModelShape(String name, String arch, int vocab, int dim, int ffn, int layers, int heads, int kvHeads,
                         int rotaryDims, int context, int window, int bos, int eos) {
    public static final ModelShape STABLELM_2_1_6B =
            new ModelShape("stablelm-2-1_6b", "stablelm", 100352, 2048, 5632, 24, 32, 32, 16, 4096, 0, 100257, 100257);
    public static final ModelShape TINYLLAMA_1_1B =
            new ModelShape("tinyllama-1_1b", "llama", 32000, 2048, 5632, 22, 32, 4, 64, 2048, 0, 1, 2);
    public static final ModelShape DANUBE_1_8B =
            new ModelShape("danube-1_8b", "llama", 32000, 2560, 6912, 24, 32, 8, 80, 16384, 4096, 1, 2);
    public static final List<ModelShape> PRESETS = List.of(STABLELM_2_1_6B, TINYLLAMA_1_1B, DANUBE_1_8B);

    public ModelShape {
        if (!arch.equals("llama") && !arch.equals("stablelm")) throw new IllegalArgumentException("arch " + arch + ": llama or stablelm");
        if (vocab <= 0 || dim <= 0 || ffn <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || dim % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException(name + ": inconsistent shape " + this);
        }
        if (bos < 0 || bos >= vocab || eos < 0 || eos >= vocab) throw new IllegalArgumentException(name + ": bos/eos outside the vocabulary");
    }

    /** The preset named {@code name}; the message lists the names. */
    public static ModelShape named(String name) {
        for (ModelShape s : PRESETS) if (s.name.equals(name)) return s;
        throw new IllegalArgumentException("unknown shape '" + name + "'; expected one of "
                + Arrays.toString(PRESETS.stream().map(ModelShape::name).toArray()));
    }

    public int headDim() { return dim / heads; }

    public int kvDim() { return kvHeads * headDim(); }

    /** StableLM 2: LayerNorm with bias and q/k/v biases; the llama family: RMSNorm, no biases. */
    public boolean stablelm() { return arch.equals("stablelm"); }

    /** Weights in the model, an untied output head included. */
    public long parameters() {
        long d = dim, perLayer = 2L * d * d + 2L * d * kvDim() + 3L * d * ffn + 2L * d;
        if (stablelm()) perLayer += 2L * d + d + 2L * kvDim();   // norm biases, q/k/v biases
        return 2L * vocab * d + layers * perLayer + (stablelm() ? 2L : 1L) * d;
    }
}
