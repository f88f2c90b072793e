package org.slm4j.model;

import org.slm4j.tensor.Matrix;

/**
 * Where {@link Weights#load} finds tensors, asked for by their GGUF names ({@code blk.0.attn_q.weight}). Each
 * format maps the names onto its own and checks shapes and types, naming its own file and tensor in errors.
 */
interface WeightSource {
    /** The [rows, cols] matrix {@code name}; throws ModelFormatException if missing or shaped otherwise. */
    Matrix matrix(String name, int rows, int cols);

    /** The length-{@code n} vector {@code name}, as floats. */
    float[] vector(String name, int n);

    /** Whether the file has {@code name} (only asked of optional tensors: {@code output.weight}). */
    boolean has(String name);
}
