package org.slm4j.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (version 2 or 3), mapped into memory: the header parsed and validated on open, the tensor
 * data left in the mapping and handed out as slices, never copied.
 *
 * <p>Every malformed or hostile file is rejected on {@link #open} with a {@link ModelFormatException}
 * naming the file, byte offset, field, value and expectation (the checks are listed in the package
 * documentation); a file that opens has tensors that tile its data section inside the file. An I/O failure
 * (missing file, no permission) is an {@link UncheckedIOException}.
 *
 * <p>Metadata getters throw {@code ModelFormatException} naming file and key when a key is missing or
 * holds another type; the variants with a default return it only when the key is absent, never to hide a
 * wrong type. Array getters return copies. Metadata stays readable after {@link #close()}; tensor data does not.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;          // owns the mapping; null when the segment is not ours (tests)
    private final MemorySegment data;   // the whole file
    private final GgufReader.Header header;
    private final Map<String, GgufTensorInfo> byName;

    private GgufFile(Path path, Arena arena, MemorySegment data, GgufReader.Header header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
        this.byName = new HashMap<>();
        for (GgufTensorInfo t : header.tensors()) byName.put(t.name(), t);
    }

    /** Maps and validates {@code path} under {@link FormatLimits#DEFAULT}. */
    public static GgufFile open(Path path) {
        return open(path, FormatLimits.DEFAULT);
    }

    /** Maps and validates {@code path} under {@code limits}. */
    public static GgufFile open(Path path, FormatLimits limits) {
        return MappedFile.open(path, (arena, data) -> new GgufFile(path, arena, data, GgufReader.read(path.toString(), data, limits)));
    }

    /** Parses a GGUF image already in memory, named {@code name} in messages; closing it frees nothing. */
    static GgufFile parse(String name, MemorySegment data, FormatLimits limits) {
        return new GgufFile(Path.of(name), null, data, GgufReader.read(name, data, limits));
    }

    public Path path() { return path; }

    /** GGUF version, 2 or 3 (they differ only in allowing big-endian files, which slm4j rejects). */
    public int version() { return header.version(); }

    /** {@code general.alignment}, or 32 when absent: tensor data and the data section start are padded to it. */
    public long alignment() { return header.alignment(); }

    /** Byte offset in the file where the data section starts (the header end padded to {@link #alignment()}). */
    public long dataOffset() { return header.dataOffset(); }

    /** All metadata in file order, unmodifiable. */
    public Map<String, GgufValue> metadata() { return header.metadata(); }

    public boolean has(String key) { return header.metadata().containsKey(key); }

    public String getString(String key) {
        return (String) scalar(key, GgufValueType.STRING);
    }

    public String getString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    /** Any integer type whose value fits an int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) throw wrong(key, "an integer that fits an int");
        return (int) v;
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    /** Any integer type. */
    public long getLong(String key) {
        GgufValue v = value(key);
        if (!v.type().isInteger()) throw wrong(key, "an integer");
        return ((Number) v.value()).longValue();
    }

    public long getLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    /** FLOAT32, FLOAT64 (rounded to float) or any integer type. */
    public float getFloat(String key) {
        GgufValue v = value(key);
        if (v.type() != GgufValueType.FLOAT32 && v.type() != GgufValueType.FLOAT64 && !v.type().isInteger()) throw wrong(key, "a number");
        return ((Number) v.value()).floatValue();
    }

    public float getFloat(String key, float dflt) {
        return has(key) ? getFloat(key) : dflt;
    }

    public boolean getBool(String key) {
        return (Boolean) scalar(key, GgufValueType.BOOL);
    }

    public boolean getBool(String key, boolean dflt) {
        return has(key) ? getBool(key) : dflt;
    }

    /** An ARRAY of STRING, copied. */
    public String[] getStringArray(String key) {
        return ((String[]) array(key, GgufValueType.STRING)).clone();
    }

    /** An ARRAY of FLOAT32, FLOAT64 (rounded) or any integer type, as floats. */
    public float[] getFloatArray(String key) {
        GgufValue v = value(key);
        if (v.type() != GgufValueType.ARRAY || !(v.elementType() == GgufValueType.FLOAT32 || v.elementType() == GgufValueType.FLOAT64
                || v.elementType().isInteger())) {
            throw wrong(key, "an ARRAY of numbers");
        }
        if (v.value() instanceof float[] a) return a.clone();
        float[] out = new float[v.length()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) java.lang.reflect.Array.get(v.value(), i)).floatValue();
        return out;
    }

    /** An ARRAY of any integer type whose every element fits an int. */
    public int[] getIntArray(String key) {
        GgufValue v = value(key);
        if (v.type() != GgufValueType.ARRAY || !v.elementType().isInteger()) throw wrong(key, "an ARRAY of integers");
        if (v.value() instanceof int[] a) return a.clone();
        int[] out = new int[v.length()];
        for (int i = 0; i < out.length; i++) {
            long x = ((Number) java.lang.reflect.Array.get(v.value(), i)).longValue();
            if (x != (int) x) throw wrong(key, "integers that fit an int (element " + i + " is " + x + ")");
            out[i] = (int) x;
        }
        return out;
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensors() { return header.tensors(); }

    /** The tensor named {@code name}, or null. */
    public GgufTensorInfo tensor(String name) { return byName.get(name); }

    /**
     * The bytes of {@code t} as a slice of the mapping (no copy), valid until {@link #close()}. The slice
     * is aligned to {@link #alignment()} within the file, but read it with unaligned layouts: nothing in
     * the format promises more than that to a given element type.
     */
    public MemorySegment tensorData(GgufTensorInfo t) {
        if (!t.equals(byName.get(t.name()))) throw new IllegalArgumentException("tensor " + t + " is not one of " + path);
        return data.asSlice(header.dataOffset() + t.offset(), t.byteSize());
    }

    /** The bytes of the tensor named {@code name}; throws naming the tensor if the file has none by that name. */
    public MemorySegment tensorData(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) throw new ModelFormatException(path + ": no tensor named '" + name + "' among its " + byName.size() + " tensors");
        return tensorData(t);
    }

    /** Unmaps the file; tensor slices handed out become unusable. Closing twice is harmless. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version() + ", " + metadata().size() + " metadata, " + tensors().size() + " tensors]";
    }

    private GgufValue value(String key) {
        GgufValue v = header.metadata().get(key);
        if (v == null) throw new ModelFormatException(path + ": metadata key '" + key + "' is missing");
        return v;
    }

    private Object scalar(String key, GgufValueType type) {
        GgufValue v = value(key);
        if (v.type() != type) throw wrong(key, "a " + type);
        return v.value();
    }

    private Object array(String key, GgufValueType elementType) {
        GgufValue v = value(key);
        if (v.type() != GgufValueType.ARRAY || v.elementType() != elementType) throw wrong(key, "an ARRAY of " + elementType);
        return v.value();
    }

    private ModelFormatException wrong(String key, String expected) {
        return new ModelFormatException(path + ": byte " + header.valueOffsets().get(key) + ": metadata '" + key + "' is "
                + header.metadata().get(key) + ", expected " + expected);
    }
}
