package org.slm4j.format;

import java.util.Arrays;
import java.util.Objects;
import org.slm4j.tensor.GgmlType;

/**
 * Where one tensor lies in a GGUF file and what it holds.
 *
 * <p>{@code shape} is ggml's {@code ne}: {@code ne[0]} is the row length (contiguous in memory), then
 * rows, then the outer dimensions; a matrix of {@code rows × cols} is {@code [cols, rows]}. An empty shape
 * is a single element. {@code offset} is relative to the start of the data section
 * ({@link GgufFile#dataOffset()}) and {@code byteSize} is {@code type.bytesFor(elementCount())}.
 * The shape is copied in and out, so the record is immutable.
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset, long byteSize) {
    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
        for (long ne : shape) {
            if (ne < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(shape));
        }
        if (offset < 0) throw new IllegalArgumentException("tensor '" + name + "' has negative offset " + offset);
        if (!countFits(shape)) throw new IllegalArgumentException("tensor '" + name + "' " + Arrays.toString(shape) + " has more elements than a long counts");
        if ((shape.length == 0 ? 1 : shape[0]) % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' " + type + " " + Arrays.toString(shape) + ": ne[0] is not a multiple of the block size " + type.blockSize());
        }
        long expected = type.bytesFor(product(shape, 0));
        if (byteSize != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' " + type + " " + Arrays.toString(shape) + " takes " + expected + " bytes, not " + byteSize);
        }
    }

    @Override
    public long[] shape() { return shape.clone(); }

    /** Number of elements: the product of the shape. */
    public long elementCount() { return product(shape, 0); }

    /** Row length {@code ne[0]} (1 for a scalar), checked to fit an int. */
    public int cols() {
        return toInt(shape.length == 0 ? 1 : shape[0], "columns");
    }

    /** Number of rows: the product of {@code ne[1..]} (1 for a vector), checked to fit an int. */
    public int rows() {
        return toInt(product(shape, 1), "rows");
    }

    /** Bytes of one row: {@code type.bytesFor(cols())}. */
    public long rowBytes() { return type.bytesFor(shape.length == 0 ? 1 : shape[0]); }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(shape, t.shape) && type == t.type
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), type, offset, byteSize);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset + "+" + byteSize;
    }

    private int toInt(long v, String what) {
        if (v > Integer.MAX_VALUE) {
            throw new ModelFormatException("tensor '" + name + "' " + Arrays.toString(shape) + " has " + v + " " + what + ", more than an int index reaches");
        }
        return (int) v;
    }

    /** Whether every partial product of the shape fits a long; zeros are skipped, so [0, 2^40, 2^40] does not fit. */
    static boolean countFits(long[] shape) {
        long n = 1;
        for (long ne : shape) {
            if (ne > 0 && n > Long.MAX_VALUE / ne) return false;
            n *= Math.max(ne, 1);
        }
        return true;
    }

    private static long product(long[] shape, int from) {
        long n = 1;
        for (int i = from; i < shape.length; i++) n *= shape[i]; // cannot overflow: countFits holds
        return n;
    }
}
