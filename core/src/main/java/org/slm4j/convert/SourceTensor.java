package org.slm4j.convert;

import org.slm4j.tensor.GgmlType;

/**
 * A tensor to be written, handed out as float rows: a GGUF tensor being quantized, or a safetensors tensor being
 * converted. {@link #readRow} may be called from several threads at once, for different rows.
 */
public interface SourceTensor {
    /** The GGUF tensor name, e.g. {@code blk.0.attn_q.weight}. */
    String name();

    /** GGUF (ggml) order: {@code ne[0]}, the row length, first. */
    long[] shape();

    /** The type as stored in the source (F32, F16 or BF16 are the ones a quantizer accepts). */
    GgmlType type();

    /**
     * Writes row {@code row} ({@code shape()[0]} floats) to {@code dst[off ..]}; rows are counted over the remaining
     * dimensions, {@code ne[1]} fastest.
     */
    void readRow(long row, float[] dst, int off);
}
