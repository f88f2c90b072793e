package org.slm4j.tensor;

/**
 * The weight types of GGUF files, with their ggml ids and block layouts.
 *
 * <p>A quantized type stores {@link #blockSize()} elements in {@link #blockBytes()} bytes. Rows of a
 * matrix are a whole number of blocks, so a row of {@code n} elements takes {@code n / blockSize * blockBytes}.
 * Types ggml knows but slm4j does not run are still listed, so a reader can name them in its error.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 2 + 16, true),
    Q4_1(3, 32, 2 + 2 + 16, true),
    // f16 d (Q5_1: and f16 m), the fifth bits of the 32 quants in a u32, 16 bytes of nibbles as Q4_0
    Q5_0(6, 32, 2 + 4 + 16, true),
    Q5_1(7, 32, 2 + 2 + 4 + 16, true),
    Q8_0(8, 32, 2 + 32, true),
    Q8_1(9, 32, 2 + 2 + 32, false),
    Q2_K(10, 256, 256 / 16 + 256 / 4 + 2 + 2, false),
    Q3_K(11, 256, 256 / 8 + 256 / 4 + 12 + 2, false),
    // super-block scale d and min dmin (f16), 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles
    Q4_K(12, 256, 2 + 2 + 12 + 128, true),
    // Q4_K's header and nibbles with 32 bytes of fifth bits between them
    Q5_K(13, 256, 2 + 2 + 12 + 32 + 128, true),
    // 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 sub-block scales, f16 d
    Q6_K(14, 256, 128 + 64 + 16 + 2, true),
    Q8_K(15, 256, 4 + 256 + 2 * 16, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    BF16(30, 1, 2, true);

    private final int id;
    private final int blockSize;
    private final int blockBytes;
    private final boolean supported;

    GgmlType(int id, int blockSize, int blockBytes, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.supported = supported;
    }

    /** The ggml type id stored in GGUF tensor infos. */
    public int id() { return id; }

    /** Elements per block (1 for plain float types). */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int blockBytes() { return blockBytes; }

    /** Whether slm4j can compute with weights of this type. */
    public boolean supported() { return supported; }

    /** Bytes taken by {@code elements} elements; {@code elements} must be a multiple of the block size. */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements is not a multiple of " + name() + "'s block of " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** The type with ggml id {@code id}, or null when the id is not one ggml defines here. */
    public static GgmlType byId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) return t;
        }
        return null;
    }
}
