package org.slm4j.format;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slm4j.tensor.GgmlType;

/**
 * Parses and validates a GGUF header from a mapped file. Every read goes through {@link #need}, which
 * checks the bytes are there before touching them, and every count is checked against the bytes its
 * smallest encoding needs before anything is allocated: a hostile file gets a {@link ModelFormatException}
 * naming the byte offset, field, value and expectation, never an exception of another kind.
 *
 * <pre>
 * struct gguf_header {                  struct gguf_kv { gguf_string key; u32 type; value; }
 *     u32 magic;      // "GGUF"          struct gguf_string { u64 len; u8 utf8[len]; }
 *     u32 version;    // 2 or 3          array value: u32 element type, u64 count, elements
 *     u64 tensor_count;                  struct gguf_tensor_info {
 *     u64 metadata_kv_count;                 gguf_string name; u32 n_dims; u64 ne[n_dims];
 *     gguf_kv kv[metadata_kv_count];         u32 type; u64 offset; }  // offset from the data section
 *     gguf_tensor_info info[tensor_count];
 * }  // then padding to general.alignment, then the tensor data, each tensor padded to the alignment
 * </pre>
 */
final class GgufReader {
    static final int MAGIC = 0x46554747;          // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // smallest encodings, what declared counts are checked against
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;          // key length, 1-byte key, type, 1-byte value
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8; // empty name, n_dims 0, type, offset

    /** A parsed header; {@code valueOffsets} gives each metadata value's byte offset, for error messages. */
    record Header(int version, long alignment, long dataOffset, Map<String, GgufValue> metadata,
                  Map<String, Long> valueOffsets, List<GgufTensorInfo> tensors) {}

    private final String file;
    private final MemorySegment data;
    private final long size;
    private final FormatLimits limits;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private long pos;

    private GgufReader(String file, MemorySegment data, FormatLimits limits) {
        this.file = file;
        this.data = data;
        this.size = data.byteSize();
        this.limits = limits;
    }

    /** Parses the header of {@code data}, the whole file named {@code file}. */
    static Header read(String file, MemorySegment data, FormatLimits limits) {
        return new GgufReader(file, data, limits).header();
    }

    private Header header() {
        long magic = u32("magic");
        if (magic != MAGIC) throw fail(0, "magic", describeMagic(), "'GGUF' (47 47 55 46)");
        long version = u32("version");
        if (version == 1) throw fail(4, "version", 1, "2 or 3 (GGUF v1 used 32-bit counts and is no longer supported)");
        if (version != 0 && (version & 0xFFFF) == 0) {
            throw fail(4, "version", "0x" + Long.toHexString(version), "2 or 3; the file looks byte-swapped (big-endian)");
        }
        if (version < 2 || version > 3) throw fail(4, "version", version, "2 or 3");
        long tensorCount = count("tensor count", limits.maxTensors(), MIN_TENSOR_INFO_BYTES);
        long kvCount = count("metadata entry count", limits.maxMetadataEntries(), MIN_KV_BYTES);

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        Map<String, Long> valueOffsets = new HashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = string("metadata key #" + i, -1, limits.maxStringBytes());
            if (key.isEmpty()) throw fail(keyAt, "metadata key #" + i, "\"\"", "a non-empty key");
            if (metadata.containsKey(key)) throw fail(keyAt, "metadata key #" + i, quote(key), "a unique key (it is a duplicate)");
            String field = "metadata " + quote(key);
            GgufValueType type = valueType(field + " type");
            valueOffsets.put(key, pos);
            metadata.put(key, type == GgufValueType.ARRAY ? array(field) : new GgufValue(type, null, scalar(type, field, -1)));
        }
        long alignment = alignment(metadata, valueOffsets);

        List<GgufTensorInfo> tensors = new ArrayList<>();
        List<Long> infoOffsets = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long expectedOffset = 0; // the running padded sum of tensor sizes: tensors tile the data section
        for (long i = 0; i < tensorCount; i++) {
            long at = pos;
            String name = string("tensor #" + i + " name", -1, limits.maxNameBytes());
            if (!names.add(name)) throw fail(at, "tensor #" + i + " name", quote(name), "a unique name (it is a duplicate)");
            GgufTensorInfo t = tensorInfo(name);
            if (t.offset() != expectedOffset) {
                throw fail(pos - 8, "offset of tensor '" + name + "'", t.offset(), expectedOffset + " (the end of the previous tensor, padded to "
                        + alignment + "); it " + (t.offset() < expectedOffset ? "overlaps the previous tensor" : "leaves a gap"));
            }
            expectedOffset = add(t.offset(), alignUp(t.byteSize(), alignment, pos - 8, "size of tensor '" + name + "'"), pos - 8, "end of tensor '" + name + "'");
            tensors.add(t);
            infoOffsets.add(at);
        }

        // with no tensors there is no data section to align (as gguf.cpp: the header may end the file)
        long dataOffset = tensors.isEmpty() ? pos : alignUp(pos, alignment, pos, "end of header");
        if (dataOffset > size) throw fail(pos, "data section start", dataOffset, "at most the file size " + size + " (truncated?)");
        for (int i = 0; i < tensors.size(); i++) {
            GgufTensorInfo t = tensors.get(i);
            long start = add(dataOffset, t.offset(), infoOffsets.get(i), "start of tensor '" + t.name() + "'");
            long end = add(start, t.byteSize(), infoOffsets.get(i), "end of tensor '" + t.name() + "'");
            if (end > size) {
                throw fail(infoOffsets.get(i), "data of tensor '" + t.name() + "'", "bytes " + start + ".." + end,
                        "within the file of " + size + " bytes (truncated?)");
            }
        }
        return new Header((int) version, alignment, dataOffset, Collections.unmodifiableMap(metadata),
                Map.copyOf(valueOffsets), List.copyOf(tensors));
    }

    private GgufTensorInfo tensorInfo(String name) {
        long dimsAt = pos;
        long nDims = u32("n_dims of tensor '" + name + "'");
        if (nDims > limits.maxDims()) throw fail(dimsAt, "n_dims of tensor '" + name + "'", nDims, "at most " + limits.maxDims());
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < ne.length; d++) {
            long at = pos;
            ne[d] = i64("ne[" + d + "] of tensor '" + name + "'");
            if (ne[d] < 0) throw fail(at, "ne[" + d + "] of tensor '" + name + "'", Long.toUnsignedString(ne[d]), "a count below 2^63");
        }
        if (!GgufTensorInfo.countFits(ne)) throw fail(dimsAt, "shape of tensor '" + name + "'", Arrays.toString(ne), "an element count that fits a long");
        long typeAt = pos;
        long typeId = u32("type of tensor '" + name + "'");
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw fail(typeAt, "type of tensor '" + name + "'", "ggml type id " + typeId, "one of " + Arrays.toString(GgmlType.values()));
        }
        long cols = ne.length == 0 ? 1 : ne[0];
        if (cols % type.blockSize() != 0) {
            throw fail(dimsAt + 4, "ne[0] (row length) of " + type + " tensor '" + name + "'", cols, "a multiple of the block size " + type.blockSize());
        }
        long elements = 1;
        for (long n : ne) elements *= n; // fits: countFits
        if (elements / type.blockSize() > Long.MAX_VALUE / type.blockBytes()) {
            throw fail(dimsAt, "byte size of tensor '" + name + "'", Arrays.toString(ne) + " " + type, "a size that fits a long");
        }
        long offsetAt = pos;
        long offset = i64("offset of tensor '" + name + "'");
        if (offset < 0) throw fail(offsetAt, "offset of tensor '" + name + "'", Long.toUnsignedString(offset), "an offset below 2^63");
        return new GgufTensorInfo(name, ne, type, offset, type.bytesFor(elements));
    }

    private long alignment(Map<String, GgufValue> metadata, Map<String, Long> valueOffsets) {
        GgufValue v = metadata.get(ALIGNMENT_KEY);
        if (v == null) return DEFAULT_ALIGNMENT;
        long at = valueOffsets.get(ALIGNMENT_KEY);
        if (v.type() != GgufValueType.UINT32) throw fail(at, ALIGNMENT_KEY, v, "a UINT32");
        long a = (Long) v.value();
        if (a == 0 || (a & (a - 1)) != 0) throw fail(at, ALIGNMENT_KEY, a, "a power of two");
        if (a > limits.maxAlignment()) throw fail(at, ALIGNMENT_KEY, a, "at most " + limits.maxAlignment() + " (FormatLimits.maxAlignment)");
        return a;
    }

    private GgufValueType valueType(String field) {
        long at = pos;
        long id = u32(field);
        GgufValueType t = GgufValueType.byId(id);
        if (t == null) throw fail(at, field, id, "a GGUF value type id 0..12");
        return t;
    }

    private GgufValue array(String field) {
        long typeAt = pos;
        GgufValueType et = valueType(field + " element type");
        if (et == GgufValueType.ARRAY) throw fail(typeAt, field + " element type", "ARRAY", "a scalar type (GGUF has no nested arrays)");
        long countAt = pos;
        long n = i64(field + " array length");
        if (n < 0 || n > limits.maxArrayLength()) {
            throw fail(countAt, field + " array length", Long.toUnsignedString(n), "at most " + limits.maxArrayLength() + " (FormatLimits.maxArrayLength)");
        }
        if (n > (size - pos) / et.minBytes()) {
            throw fail(countAt, field + " array length", n, "at most " + (size - pos) / et.minBytes() + ": " + n + " " + et
                    + " elements of at least " + et.minBytes() + " bytes need more than the " + (size - pos) + " bytes left");
        }
        int len = (int) n;
        Object value = switch (et) {
            case INT8 -> bulk(new byte[len], JAVA_BYTE);
            case INT16 -> bulk(new short[len], I16);
            case INT32 -> bulk(new int[len], I32);
            case INT64 -> bulk(new long[len], I64);
            case FLOAT32 -> bulk(new float[len], F32);
            case FLOAT64 -> bulk(new double[len], F64);
            case UINT8 -> { short[] a = new short[len]; for (int i = 0; i < len; i++) a[i] = (Short) scalar(et, field, i); yield a; }
            case UINT16 -> { int[] a = new int[len]; for (int i = 0; i < len; i++) a[i] = (Integer) scalar(et, field, i); yield a; }
            case UINT32, UINT64 -> { long[] a = new long[len]; for (int i = 0; i < len; i++) a[i] = (Long) scalar(et, field, i); yield a; }
            case BOOL -> { boolean[] a = new boolean[len]; for (int i = 0; i < len; i++) a[i] = (Boolean) scalar(et, field, i); yield a; }
            case STRING -> { String[] a = new String[len]; for (int i = 0; i < len; i++) a[i] = (String) scalar(et, field, i); yield a; }
            case ARRAY -> throw new AssertionError(); // rejected above
        };
        return new GgufValue(GgufValueType.ARRAY, et, value);
    }

    /** Copies {@code array.length} fixed-size elements; the caller checked that their bytes remain. */
    private <A> A bulk(A array, ValueLayout layout) {
        int len = java.lang.reflect.Array.getLength(array);
        MemorySegment.copy(data, layout, pos, array, 0, len);
        pos += len * layout.byteSize();
        return array;
    }

    /** One scalar of type {@code t}; {@code index} is its place in an array (for messages), or -1. */
    private Object scalar(GgufValueType t, String field, long index) {
        long at = pos;
        return switch (t) {
            case UINT8 -> (short) (u8(field) & 0xFF);
            case INT8 -> u8(field);
            case UINT16 -> (int) (i16(field) & 0xFFFF);
            case INT16 -> i16(field);
            case UINT32 -> u32(field);
            case INT32 -> (int) u32(field);
            case UINT64 -> {
                long v = i64(field);
                if (v < 0) throw fail(at, element(field, index), Long.toUnsignedString(v), "a UINT64 below 2^63");
                yield v;
            }
            case INT64 -> i64(field);
            case FLOAT32 -> Float.intBitsToFloat((int) u32(field));
            case FLOAT64 -> Double.longBitsToDouble(i64(field));
            case BOOL -> {
                byte b = u8(field);
                if (b != 0 && b != 1) throw fail(at, element(field, index), b & 0xFF, "a BOOL of 0 or 1");
                yield b == 1;
            }
            case STRING -> string(field, index, limits.maxStringBytes());
            case ARRAY -> throw new AssertionError(); // arrays go through array()
        };
    }

    /** A UTF-8 string of at most {@code maxBytes}; {@code index} is its place in an array, or -1 (names are built only on failure). */
    private String string(String field, long index, long maxBytes) {
        long at = pos;
        if (size - pos < 8) throw truncated(8, element(field, index) + " length");
        long len = data.get(I64, pos);
        pos += 8;
        if (len < 0 || len > maxBytes) throw fail(at, element(field, index) + " length", Long.toUnsignedString(len), "at most " + maxBytes + " bytes");
        if (size - pos < len) throw truncated(len, element(field, index));
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(data, JAVA_BYTE, pos, bytes, 0, bytes.length);
        try {
            String s = utf8.decode(ByteBuffer.wrap(bytes)).toString();
            pos += len;
            return s;
        } catch (CharacterCodingException e) {
            throw fail(at, element(field, index), hex(bytes), "valid UTF-8");
        }
    }

    /** Reads a u64 count, checked against its cap and against the bytes left for its smallest encoding. */
    private long count(String field, long cap, int minBytes) {
        long at = pos;
        long n = i64(field);
        if (n < 0 || n > cap) throw fail(at, field, Long.toUnsignedString(n), "at most " + cap + " (FormatLimits)");
        if (n > (size - pos) / minBytes) {
            throw fail(at, field, n, "at most " + (size - pos) / minBytes + ": each entry takes at least " + minBytes
                    + " bytes and only " + (size - pos) + " remain");
        }
        return n;
    }

    private byte u8(String field) {
        need(1, field);
        return data.get(JAVA_BYTE, pos++);
    }

    private short i16(String field) {
        need(2, field);
        short v = data.get(I16, pos);
        pos += 2;
        return v;
    }

    private long u32(String field) {
        need(4, field);
        long v = Integer.toUnsignedLong(data.get(I32, pos));
        pos += 4;
        return v;
    }

    private long i64(String field) {
        need(8, field);
        long v = data.get(I64, pos);
        pos += 8;
        return v;
    }

    private void need(long n, String field) {
        if (n > size - pos) throw truncated(n, field);
    }

    private ModelFormatException truncated(long n, String field) {
        return new ModelFormatException(file + ": byte " + pos + ": " + field + " needs " + n + " bytes but the file ends at byte " + size + " (truncated)");
    }

    private long alignUp(long x, long alignment, long at, String field) {
        if (x > Long.MAX_VALUE - (alignment - 1)) throw fail(at, field, x, "a size that still fits a long once padded");
        return (x + alignment - 1) & -alignment;
    }

    private long add(long a, long b, long at, String field) {
        if (a > Long.MAX_VALUE - b) throw fail(at, field, a + " + " + b, "a position that fits a long");
        return a + b;
    }

    ModelFormatException fail(long at, String field, Object value, String expected) {
        return new ModelFormatException(file + ": byte " + at + ": " + field + " is " + value + ", expected " + expected);
    }

    private String describeMagic() {
        byte[] b = new byte[4];
        MemorySegment.copy(data, JAVA_BYTE, 0, b, 0, 4);
        StringBuilder s = new StringBuilder("'");
        for (byte c : b) s.append(c >= 0x20 && c < 0x7F ? (char) c : '?');
        return s.append("' (").append(hex(b)).append(')').toString();
    }

    private static String element(String field, long index) {
        return index < 0 ? field : field + "[" + index + "]";
    }

    /** A key or name for a message, cut short: a hostile key may be megabytes long. */
    private static String quote(String s) {
        return "'" + (s.length() > 100 ? s.substring(0, 97) + "..." : s) + "'";
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 32); i++) s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xFF));
        return b.length > 32 ? s + " ..." : s.toString();
    }
}
