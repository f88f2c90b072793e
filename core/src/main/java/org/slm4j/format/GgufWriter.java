package org.slm4j.format;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slm4j.tensor.GgmlType;

/**
 * Writes GGUF version 3 files (little-endian) that {@link GgufFile} and llama.cpp read: metadata in the
 * order it was put, then tensor infos and data in the order tensors were added, each tensor padded to the
 * alignment. Misuse (a bad name, shape or data length) is an {@link IllegalArgumentException} at the call
 * that caused it, so whatever this writes passes the reader's checks.
 *
 * <p>{@link #write} goes to a temporary file beside the target and moves it into place atomically, so a
 * killed write never leaves a complete-looking file behind. Tensor data segments are read at
 * {@code write} time: keep them alive until then.
 */
public final class GgufWriter {
    private final int alignment;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** {@code bytes}: the stored size; {@code source} writes exactly that many at {@code write} time. */
    private record Tensor(String name, GgmlType type, long[] shape, long bytes, TensorSource source) {}

    /**
     * Writes a tensor's stored bytes (little-endian, ggml block layout) when the file is written, so a model of
     * gigabytes can be produced piece by piece without holding it in memory.
     */
    @FunctionalInterface
    public interface TensorSource {
        /** Writes exactly the tensor's byte size to {@code out}; {@link #write} fails if the count differs. */
        void writeTo(WritableByteChannel out) throws IOException;
    }

    /** A writer with GGUF's default alignment of 32 bytes. */
    public GgufWriter() {
        this(GgufReader.DEFAULT_ALIGNMENT);
    }

    /** A writer that pads tensor data to {@code alignment}, a power of two; written as general.alignment if not 32. */
    public GgufWriter(int alignment) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
        this.alignment = alignment;
    }

    /** Sets {@code key} (replacing an earlier value, keeping its place); general.alignment comes from the constructor. */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(value, "value");
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("metadata keys must be non-empty");
        if (key.equals(GgufReader.ALIGNMENT_KEY)) throw new IllegalArgumentException(key + " is set by the GgufWriter(int alignment) constructor");
        utf8(key, "key");
        if (value.value() instanceof String str) utf8(str, "value of '" + key + "'");
        if (value.value() instanceof String[] strs) for (String str : strs) utf8(str, "element of '" + key + "'");
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValue.ofString(v)); }
    public GgufWriter putUInt32(String key, long v) { return put(key, GgufValue.ofUInt32(v)); }
    public GgufWriter putInt32(String key, int v) { return put(key, GgufValue.ofInt32(v)); }
    public GgufWriter putFloat32(String key, float v) { return put(key, GgufValue.ofFloat32(v)); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValue.ofBool(v)); }
    public GgufWriter putStringArray(String key, String... v) { return put(key, GgufValue.ofStringArray(v)); }
    public GgufWriter putFloat32Array(String key, float... v) { return put(key, GgufValue.ofFloat32Array(v)); }
    public GgufWriter putInt32Array(String key, int... v) { return put(key, GgufValue.ofInt32Array(v)); }

    /**
     * Adds a tensor of {@code type} and ggml shape {@code ne} ({@code ne[0]} the row length, a multiple of
     * the type's block) whose stored bytes are {@code data}, of exactly {@code type.bytesFor(elements)} bytes.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        Objects.requireNonNull(data, "data");
        long bytes = expectedBytes(name, type, shape);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "' " + type + " " + Arrays.toString(shape)
                    + " takes " + bytes + " bytes, data has " + data.byteSize());
        }
        return add(name, type, shape, bytes, out -> {
            for (long off = 0; off < bytes; ) {
                long n = Math.min(bytes - off, 1 << 20);
                ByteBuffer chunk = data.asSlice(off, n).asByteBuffer();
                while (chunk.hasRemaining()) out.write(chunk);
                off += n;
            }
        });
    }

    /**
     * Adds a tensor whose {@code type.bytesFor(elements)} stored bytes {@code source} produces when the file is
     * written (in the order tensors were added).
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        Objects.requireNonNull(source, "source");
        return add(name, type, shape, expectedBytes(name, type, shape), source);
    }

    private GgufWriter add(String name, GgmlType type, long[] shape, long bytes, TensorSource source) {
        names.add(name);
        tensors.add(new Tensor(name, type, shape.clone(), bytes, source));
        return this;
    }

    /** Checks name and shape; returns the stored size of a tensor of {@code type} and {@code shape}. */
    private long expectedBytes(String name, GgmlType type, long[] shape) {
        Objects.requireNonNull(type, "type");
        long[] ne = shape.clone();
        byte[] nameBytes = utf8(Objects.requireNonNull(name, "name"), "tensor name");
        if (nameBytes.length == 0 || nameBytes.length > FormatLimits.DEFAULT.maxNameBytes()) {
            throw new IllegalArgumentException("tensor name '" + name + "' is " + nameBytes.length + " bytes, expected 1..63");
        }
        if (names.contains(name)) throw new IllegalArgumentException("tensor '" + name + "' was already added");
        String what = "tensor '" + name + "' " + type + " " + Arrays.toString(ne);
        if (ne.length > FormatLimits.DEFAULT.maxDims()) throw new IllegalArgumentException(what + " has more than 4 dimensions");
        if (Arrays.stream(ne).anyMatch(x -> x < 0)) throw new IllegalArgumentException(what + " has a negative dimension");
        if (!GgufTensorInfo.countFits(ne)) throw new IllegalArgumentException(what + " has more elements than a long counts");
        if ((ne.length == 0 ? 1 : ne[0]) % type.blockSize() != 0) {
            throw new IllegalArgumentException(what + ": the row length ne[0] must be a multiple of the block size " + type.blockSize());
        }
        return type.bytesFor(Arrays.stream(ne).reduce(1, (a, b) -> a * b));
    }

    /** Drops {@code key} if it was put (a converter copying metadata leaves out what it rewrites). */
    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** Drops the tensor named {@code name} if it was added. */
    public GgufWriter removeTensor(String name) {
        if (names.remove(name)) tensors.removeIf(t -> t.name().equals(name));
        return this;
    }

    /** Adds an F32 tensor of ggml shape {@code shape} holding {@code data}, copied now. */
    public GgufWriter addTensor(String name, float[] data, long... shape) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[Math.multiplyExact(data.length, Float.BYTES)]);
        for (int i = 0; i < data.length; i++) bytes.set(GgufReader.F32, (long) i * Float.BYTES, data[i]);
        return addTensor(name, GgmlType.F32, shape, bytes);
    }

    /** Writes the file: GGUF v3 to a temporary file beside {@code path}, flushed to disk, then moved onto {@code path}. */
    public void write(Path path) {
        AtomicFile.write(path, ch -> {
            Out out = new Out(ch);
            writeTo(out);
            out.flush();
        });
    }

    private void writeTo(Out out) throws IOException {
        Map<String, GgufValue> kv = new LinkedHashMap<>(metadata);
        if (alignment != GgufReader.DEFAULT_ALIGNMENT) kv.put(GgufReader.ALIGNMENT_KEY, GgufValue.ofUInt32(alignment));
        out.u32(GgufReader.MAGIC);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(kv.size());
        for (var e : kv.entrySet()) {
            out.string(utf8(e.getKey(), "key"));
            out.u32(e.getValue().type().id());
            value(out, e.getKey(), e.getValue());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(utf8(t.name, "tensor name"));
            out.u32(t.shape.length);
            for (long ne : t.shape) out.u64(ne);
            out.u32(t.type.id());
            out.u64(offset);
            offset += padded(t.bytes);
        }
        out.pad(alignment);
        for (Tensor t : tensors) {
            long before = out.written;
            t.source.writeTo(out);
            if (out.written - before != t.bytes) {
                throw new IllegalArgumentException("tensor '" + t.name + "': its source wrote " + (out.written - before)
                        + " bytes, expected " + t.bytes);
            }
            out.pad(alignment);
        }
    }

    private static void value(Out out, String key, GgufValue v) throws IOException {
        if (v.type() != GgufValueType.ARRAY) {
            scalar(out, key, v.type(), v.value());
            return;
        }
        out.u32(v.elementType().id());
        int n = v.length();
        out.u64(n);
        for (int i = 0; i < n; i++) scalar(out, key, v.elementType(), Array.get(v.value(), i));
    }

    private static void scalar(Out out, String key, GgufValueType type, Object v) throws IOException {
        switch (type) {
            case UINT8 -> out.u8((Short) v);
            case INT8 -> out.u8((Byte) v);
            case UINT16 -> out.u16((Integer) v);
            case INT16 -> out.u16((Short) v);
            case UINT32 -> out.u32((int) (long) (Long) v);
            case INT32 -> out.u32((Integer) v);
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> out.u8((Boolean) v ? 1 : 0);
            case STRING -> out.string(utf8((String) v, "value of '" + key + "'"));
            case ARRAY -> throw new IllegalStateException("nested array under '" + key + "'"); // GgufValue forbids it
        }
    }

    private long padded(long bytes) {
        return (bytes + alignment - 1) & -(long) alignment;
    }

    /** Strict UTF-8: a string with an unpaired surrogate would otherwise be written as '?'. */
    private static byte[] utf8(String s, String what) {
        CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            ByteBuffer b = enc.encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not valid Unicode (unpaired surrogate)");
        }
    }

    /** A little-endian output buffered in 64 KiB, counting the bytes written for padding. */
    private static final class Out implements WritableByteChannel {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Out(FileChannel ch) { this.ch = ch; }

        void u8(int v) throws IOException { room(1).put((byte) v); written += 1; }
        void u16(int v) throws IOException { room(2).putShort((short) v); written += 2; }
        void u32(int v) throws IOException { room(4).putInt(v); written += 4; }
        void u64(long v) throws IOException { room(8).putLong(v); written += 8; }

        void string(byte[] utf8) throws IOException {
            u64(utf8.length);
            segment(MemorySegment.ofArray(utf8));
        }

        void segment(MemorySegment s) throws IOException {
            for (long off = 0; off < s.byteSize(); ) {
                int n = (int) Math.min(room(1).remaining(), s.byteSize() - off);
                MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, buf.array(), buf.position(), n);
                buf.position(buf.position() + n);
                off += n;
                written += n;
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = src.remaining();
            while (src.hasRemaining()) {
                int k = Math.min(room(1).remaining(), src.remaining());
                buf.put(buf.position(), src, src.position(), k);
                buf.position(buf.position() + k);
                src.position(src.position() + k);
                written += k;
            }
            return n;
        }

        @Override
        public boolean isOpen() { return true; }

        @Override
        public void close() {}

        void pad(int alignment) throws IOException {
            while (written % alignment != 0) u8(0);
        }

        private ByteBuffer room(int n) throws IOException {
            if (buf.remaining() < n) flush();
            return buf;
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
            buf.clear();
        }
    }
}
