package org.slm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A {@code [rows, cols]} weight matrix in one {@link GgmlType}, viewed in place over mapped file memory (no copy;
 * memory on the Java heap is copied off it once, see the constructor).
 * Row r is {@code cols} elements, {@code cols / blockSize} whole blocks, contiguous. In GGUF terms ne[0] = cols
 * and ne[1] = rows.
 *
 * <p>The vector kernels may attach a copy of a Q4_0, Q8_0 or K-quant matrix regrouped for generation
 * ({@link BlockGroups}): a class, not a record, so that the copy is made once per matrix and dropped with it.
 */
public final class Matrix {
    private final String name;
    private final GgmlType type;
    private final MemorySegment data;
    private final int rows, cols;
    private volatile BlockGroups groups;      // Q4_0, Q8_0, Q4_K, Q5_K, Q6_K: built on first use by the vector kernels

    /**
     * @param name the tensor's name, used in every error about it
     * @param data exactly {@code rows * rowBytes()} bytes, little-endian, any alignment. Heap memory is copied to
     *             native memory, the kind a file mapping is: C2 does not compile the F32 and BF16 kernels' vector
     *             loads from a heap segment over a byte array into single instructions, and every vector is boxed
     *             (rows of 224 columns: 86 and 57 KB allocated per 64-row matmul)
     */
    public Matrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, () -> name + ": type");
        Objects.requireNonNull(data, () -> name + ": data");
        if (!type.supported()) {
            throw new IllegalArgumentException(name + ": weight type " + type + " has no kernel in slm4j");
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": shape [" + rows + ", " + cols + "] must be positive");
        }
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": " + cols + " columns is not a multiple of "
                    + type + "'s block of " + type.blockSize());
        }
        long rowBytes = type.bytesFor(cols);
        if (rowBytes > Long.MAX_VALUE / rows) {
            throw new IllegalArgumentException(name + ": " + type + " [" + rows + ", " + cols + "] takes more than 2^63 bytes");
        }
        long expected = rowBytes * rows;
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes of data, expected " + expected
                    + " for " + type + " [" + rows + ", " + cols + "]");
        }
        this.name = name;
        this.type = type;
        this.data = data.isNative() ? data : Arena.ofAuto().allocate(expected, 64).copyFrom(data);
        this.rows = rows;
        this.cols = cols;
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    public MemorySegment data() {
        return data;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /**
     * The regrouped copy of this matrix (a type {@link BlockGroups#regroups} takes), built by the first caller (the others wait for it). The file
     * pages it was read from are then let go: only a prompt's pass reads them again ({@link #releasePages}).
     */
    BlockGroups groups() {
        BlockGroups g = groups;
        if (g != null) return g;
        synchronized (this) {
            if (groups == null) {
                groups = BlockGroups.of(this);
                releasePages();
            }
            return groups;
        }
    }

    /** Drops this matrix's pages of a file mapping from the process (they stay cached; a later read faults them in). */
    void releasePages() {
        if (data.isMapped()) data.unload();
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.bytesFor(cols);
    }

    /** Writes row {@code row} as floats to dst[dstOffset .. dstOffset + cols) (an embedding lookup). */
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(dstOffset, cols, dst.length);
        Blocks.dequantize(type, data, row * rowBytes(), cols, dst, dstOffset);
    }

    @Override
    public String toString() {
        return name + " " + type + " [" + rows + ", " + cols + "]";
    }
}
