package org.slm4j.model;

import org.slm4j.format.HfFolder;

/**
 * Reads a decoder's config and weights out of an open Hugging Face folder ({@code config.json} and safetensors),
 * parallel to {@link GgufModel}. Every family runs with {@link RopeLayout#HALF}: HF stores q/k in rotate_half order,
 * which is the Transformer's HALF pairing, so the weights are used as they are, unpermuted.
 */
public final class HfModel {
    private HfModel() {}

    /** The config from config.json; throws ModelFormatException naming the file, key and value that is wrong. */
    public static ModelConfig config(HfFolder folder) {
        return HfFamily.of(folder).config(folder);
    }

    /**
     * The weights, shape-checked against {@code config}; matrices are views of the mapped safetensors (F32, F16 or
     * BF16), not copies. The output head is {@code lm_head.weight}, or the embedding when the config ties them or the
     * file has no head.
     */
    public static Weights weights(HfFolder folder, ModelConfig config) {
        return HfFamily.of(folder).weights(folder, config);
    }
}
