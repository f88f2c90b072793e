package org.slm4j.model;

import org.slm4j.format.GgufFile;

/** Reads a decoder's config and weights out of an open GGUF file. */
public final class GgufModel {
    private GgufModel() {}

    /** The config from the file's metadata; throws ModelFormatException naming what is wrong. */
    public static ModelConfig config(GgufFile gguf) {
        return GgufFamily.of(gguf).config(gguf);
    }

    /** The weights, shape-checked against {@code config}; matrices are views of the mapping, not copies. */
    public static Weights weights(GgufFile gguf, ModelConfig config) {
        return GgufFamily.of(gguf).weights(gguf, config);
    }
}
