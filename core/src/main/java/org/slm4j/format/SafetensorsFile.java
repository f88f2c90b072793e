package org.slm4j.format;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slm4j.tensor.GgmlType;

/**
 * A safetensors file, mapped into memory: {@code u64 N}, N bytes of JSON header, then the byte buffer the
 * header's {@code data_offsets} index. The header is validated on open; tensor data stays in the mapping and is
 * handed out as slices, never copied.
 *
 * <p>Checks (each failure is a {@link ModelFormatException} naming the file, and the tensor and field when there is
 * one): N ≤ 100,000,000 and 8 + N ≤ file size; the header strict UTF-8 JSON, one object (trailing spaces allowed),
 * no duplicate keys, nesting and string sizes capped; {@code __metadata__} an object of strings; every other entry
 * exactly {@code dtype}, {@code shape}, {@code data_offsets}, the dtype one safetensors defines, shape non-negative
 * integers, offsets two integers with begin ≤ end; end − begin == product(shape) × bits / 8, checked against
 * overflow; the tensors, sorted by offset, tile the buffer from 0 to its last byte with no gap and no overlap.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The largest header the format allows (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000;
    static final String METADATA_KEY = "__metadata__";
    private static final int MAX_DIMS = 8;

    /** The element types safetensors defines, with their widths; F32, F16 and BF16 share ggml's byte layout. */
    public enum Dtype {
        BOOL(8, null), U8(8, null), I8(8, null), F8_E5M2(8, null), F8_E4M3(8, null), F8_E8M0(8, null),
        I16(16, null), U16(16, null), F16(16, GgmlType.F16), BF16(16, GgmlType.BF16),
        I32(32, null), U32(32, null), F32(32, GgmlType.F32), F64(64, null), I64(64, null), U64(64, null),
        F4(4, null), F6_E2M3(6, null), F6_E3M2(6, null);

        private final int bits;
        private final GgmlType ggml;

        Dtype(int bits, GgmlType ggml) {
            this.bits = bits;
            this.ggml = ggml;
        }

        public int bits() { return bits; }

        /** The ggml type with the same bytes (F32, F16, BF16), or null when slm4j cannot compute with this one. */
        public GgmlType ggml() { return ggml; }

        static Dtype of(String name) {
            for (Dtype d : values()) if (d.name().equals(name)) return d;
            return null;
        }
    }

    /**
     * One tensor of the header.
     *
     * @param shape PyTorch order: the last dimension varies fastest (a linear weight is [out, in])
     * @param begin first byte in the data buffer (after the header)
     * @param end   one past the last byte
     */
    public record Tensor(String name, Dtype dtype, long[] shape, long begin, long end) {
        public long byteSize() { return end - begin; }

        public long[] shape() { return shape.clone(); }

        @Override
        public String toString() {
            return name + " " + dtype + " " + Arrays.toString(shape);
        }
    }

    private final Path path;
    private final Arena arena;            // owns the mapping; null when the segment is not ours (tests)
    private final MemorySegment data;     // the whole file
    private final long bufferStart;       // 8 + N
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        String where = path.toString();
        long size = data.byteSize();
        if (size < 8) throw new ModelFormatException(where + ": " + size + " bytes, truncated before the 8-byte header length");
        long n = data.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new ModelFormatException(where + ": header length " + Long.toUnsignedString(n) + " is outside [0, " + MAX_HEADER_BYTES + "]");
        }
        if (n > size - 8) {
            throw new ModelFormatException(where + ": header length " + n + " is larger than the " + (size - 8)
                    + " bytes after it (truncated file?)");
        }
        this.bufferStart = 8 + n;
        Map<String, Tensor> byName = new LinkedHashMap<>();
        this.metadata = parseHeader(where, data.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), byName);
        checkTiling(where, byName.values(), size - bufferStart);
        this.tensors = Collections.unmodifiableMap(byName);
    }

    /** Maps and validates {@code path}; an I/O failure is an {@link UncheckedIOException}. */
    public static SafetensorsFile open(Path path) {
        return MappedFile.open(path, (arena, data) -> new SafetensorsFile(path, arena, data));
    }

    /** Parses an image already in memory, named {@code name} in messages; closing it frees nothing. */
    static SafetensorsFile parse(String name, MemorySegment data) {
        return new SafetensorsFile(Path.of(name), null, data);
    }

    public Path path() { return path; }

    /** The tensors in header order, by name, unmodifiable. */
    public Map<String, Tensor> tensors() { return tensors; }

    /** The tensor named {@code name}, or null. */
    public Tensor tensor(String name) { return tensors.get(name); }

    /** The header's {@code __metadata__} (string to string), empty when absent. */
    public Map<String, String> metadata() { return metadata; }

    /** The bytes of {@code t}, a slice of the mapping (no copy, any alignment) valid until {@link #close()}. */
    public MemorySegment tensorData(Tensor t) {
        if (!t.equals(tensors.get(t.name()))) throw new IllegalArgumentException("tensor " + t + " is not one of " + path);
        return data.asSlice(bufferStart + t.begin(), t.byteSize());
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    /** A JSON reader for untrusted files: duplicate keys rejected, nesting, string and number sizes capped. */
    static ObjectMapper strictJson(int maxDepth, int maxStringBytes) {
        JsonMapper m = JsonMapper.builder()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(maxDepth).maxStringLength(maxStringBytes).maxNumberLength(64).build());
        return m;
    }

    /** Strict UTF-8 (Jackson would otherwise accept some malformed sequences inside strings). */
    static String utf8(String where, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(where + " is not valid UTF-8: " + e.getMessage());
        }
    }

    private static final ObjectMapper HEADER_JSON = strictJson(4, (int) MAX_HEADER_BYTES);

    private static Map<String, String> parseHeader(String where, byte[] bytes, Map<String, Tensor> out) {
        String text = utf8(where + ": header", bytes);
        if (!text.startsWith("{")) throw new ModelFormatException(where + ": header does not start with '{'");
        JsonNode root;
        try {
            root = HEADER_JSON.readTree(text);
        } catch (IOException e) {
            throw new ModelFormatException(where + ": header is not valid JSON: " + firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) throw new ModelFormatException(where + ": header is not a JSON object");
        Map<String, String> meta = Map.of();
        for (var it = root.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals(METADATA_KEY)) {
                meta = metadata(where, v);
                continue;
            }
            out.put(name, tensor(where + ": tensor '" + name + "'", name, v));
        }
        return meta;
    }

    private static Map<String, String> metadata(String where, JsonNode v) {
        if (!v.isObject()) throw new ModelFormatException(where + ": " + METADATA_KEY + " is " + v.getNodeType() + ", expected an object of strings");
        Map<String, String> meta = new LinkedHashMap<>();
        for (var it = v.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(where + ": " + METADATA_KEY + " entry '" + e.getKey() + "' is "
                        + e.getValue().getNodeType() + ", expected a string");
            }
            meta.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(meta);
    }

    private static Tensor tensor(String what, String name, JsonNode v) {
        if (!v.isObject()) throw new ModelFormatException(what + " is " + v.getNodeType() + ", expected an object");
        for (var it = v.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("dtype") && !f.equals("shape") && !f.equals("data_offsets")) {
                throw new ModelFormatException(what + " has unknown field '" + f + "'; expected dtype, shape, data_offsets");
            }
        }
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || sh == null || off == null) throw new ModelFormatException(what + " lacks one of dtype, shape, data_offsets");
        Dtype dtype = dt.isTextual() ? Dtype.of(dt.textValue()) : null;
        if (dtype == null) {
            throw new ModelFormatException(what + ": dtype " + dt + " is not one safetensors defines " + Arrays.toString(Dtype.values()));
        }
        if (!sh.isArray() || sh.size() > MAX_DIMS) throw new ModelFormatException(what + ": shape " + sh + " is not an array of at most " + MAX_DIMS + " integers");
        long[] shape = new long[sh.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(what + ": shape[" + i + "]", sh.get(i));
            try {
                count = Math.multiplyExact(count, shape[i]);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(what + ": shape " + sh + " has more elements than a long counts");
            }
        }
        if (!off.isArray() || off.size() != 2) throw new ModelFormatException(what + ": data_offsets " + off + " is not [begin, end]");
        long begin = nonNegativeLong(what + ": data_offsets[0]", off.get(0));
        long end = nonNegativeLong(what + ": data_offsets[1]", off.get(1));
        if (end < begin) throw new ModelFormatException(what + ": data_offsets [" + begin + ", " + end + "] end before begin");
        long bits;
        try {
            bits = Math.multiplyExact(count, (long) dtype.bits());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(what + ": " + dtype + " " + sh + " takes more bytes than a long counts");
        }
        if (bits % 8 != 0 || bits / 8 != end - begin) {
            throw new ModelFormatException(what + ": " + dtype + " " + sh + " takes " + bits + " bits, but data_offsets ["
                    + begin + ", " + end + "] hold " + (end - begin) + " bytes");
        }
        return new Tensor(name, dtype, shape, begin, end);
    }

    private static long nonNegativeLong(String what, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw new ModelFormatException(what + " is " + v + ", expected a non-negative integer");
        }
        return v.longValue();
    }

    /** Sorted by begin, tensors must follow each other exactly from 0 to the buffer's end. */
    private static void checkTiling(String where, java.util.Collection<Tensor> all, long bufferBytes) {
        List<Tensor> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(Tensor::begin).thenComparingLong(Tensor::end));
        long expected = 0;
        Tensor prev = null;
        for (Tensor t : sorted) {
            if (t.begin() != expected) {
                throw new ModelFormatException(where + ": tensor '" + t.name() + "' data_offsets [" + t.begin() + ", " + t.end() + "] "
                        + (t.begin() < expected ? "overlap tensor '" + prev.name() + "' ending at " + expected
                                : "leave a gap after byte " + expected));
            }
            expected = t.end();
            prev = t;
        }
        if (expected != bufferBytes) {
            throw new ModelFormatException(where + ": tensors end at data byte " + expected + " but the data buffer has "
                    + bufferBytes + " bytes" + (expected > bufferBytes ? " (offsets out of range: truncated file?)" : " (trailing bytes)"));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
