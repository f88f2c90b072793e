package org.slm4j.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slm4j.format.SafetensorsFile.Dtype;

/**
 * Writes safetensors files that {@link SafetensorsFile} and the Python library read: the JSON header padded with
 * spaces to a multiple of 8 bytes, then the tensors' bytes back to back in the order they were added. Misuse (a
 * duplicate name, a data length that does not match dtype and shape) is an {@link IllegalArgumentException} at the
 * call that caused it. {@link #write} goes to a temporary file beside the target, flushed, then moved into place
 * atomically, so a killed write never leaves a complete-looking file. Data segments are read at write time.
 */
public final class SafetensorsWriter {
    /** {@code bytes}: the stored size; {@code source} writes exactly that many at {@code write} time. */
    private record Entry(String name, Dtype dtype, long[] shape, long bytes, GgufWriter.TensorSource source) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    /** Adds {@code key: value} to {@code __metadata__} (e.g. "format": "pt"). */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Adds a tensor of PyTorch shape {@code shape} (last dimension fastest) whose little-endian bytes are {@code data}. */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, MemorySegment data) {
        Objects.requireNonNull(data, "data");
        long bytes = byteSize(name, dtype, shape);
        if (bytes != data.byteSize()) {
            throw new IllegalArgumentException(name + ": " + dtype + " " + Arrays.toString(shape) + " takes " + bytes
                    + " bytes, data has " + data.byteSize() + " bytes");
        }
        tensors.put(name, new Entry(name, dtype, shape.clone(), bytes, ch -> writeSegment(ch, data)));
        return this;
    }

    /**
     * Adds a tensor whose little-endian bytes {@code source} produces when the file is written (in the order tensors
     * were added), so a model of gigabytes can be written piece by piece without holding it in memory.
     */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, GgufWriter.TensorSource source) {
        Objects.requireNonNull(source, "source");
        long bytes = byteSize(name, dtype, shape);
        tensors.put(name, new Entry(name, dtype, shape.clone(), bytes, source));
        return this;
    }

    /** Checks name and shape; the stored size of a {@code dtype} tensor of {@code shape}. */
    private long byteSize(String name, Dtype dtype, long[] shape) {
        Objects.requireNonNull(dtype, "dtype");
        if (name == null || name.isEmpty() || name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name '" + name + "' is empty or reserved");
        }
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor '" + name + "' was already added");
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            count = Math.multiplyExact(count, d);
        }
        long bits = Math.multiplyExact(count, (long) dtype.bits());
        if (bits % 8 != 0) throw new IllegalArgumentException(name + ": " + dtype + " " + Arrays.toString(shape) + " takes " + bits + " bits, not whole bytes");
        return bits / 8;
    }

    /** Adds an F32 tensor holding {@code values}, copied now. */
    public SafetensorsWriter add(String name, float[] values, long... shape) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, Float.BYTES)]);
        MemorySegment.copy(values, 0, bytes, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        return add(name, Dtype.F32, shape, bytes);
    }

    /** The header bytes, space-padded to a multiple of 8, without the length prefix. */
    byte[] header() {
        Map<String, Object> root = new LinkedHashMap<>();
        if (!metadata.isEmpty()) root.put(SafetensorsFile.METADATA_KEY, metadata);
        long offset = 0;
        for (Entry e : tensors.values()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", e.dtype.name());
            t.put("shape", e.shape);
            t.put("data_offsets", new long[] {offset, offset + e.bytes});
            offset += e.bytes;
            root.put(e.name, t);
        }
        byte[] json;
        try {
            json = new ObjectMapper().writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a safetensors header", e);
        }
        byte[] padded = Arrays.copyOf(json, (json.length + 7) & ~7);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    /** Writes the file to a temporary file beside {@code path}, flushed to disk, then moved onto {@code path}. */
    public void write(Path path) {
        AtomicFile.write(path, ch -> {
            byte[] header = header();
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            List<ByteBuffer> parts = new ArrayList<>(List.of(len, ByteBuffer.wrap(header)));
            for (ByteBuffer b : parts) while (b.hasRemaining()) ch.write(b);
            for (Entry e : tensors.values()) {
                long before = ch.position();
                e.source.writeTo(ch);
                if (ch.position() - before != e.bytes) {
                    throw new IllegalArgumentException("tensor '" + e.name + "': its source wrote " + (ch.position() - before)
                            + " bytes, expected " + e.bytes);
                }
            }
        });
    }

    /** Streams {@code s} in 1 MiB chunks, so a mapped multi-GB tensor never lands in the heap whole. */
    private static void writeSegment(WritableByteChannel ch, MemorySegment s) throws IOException {
        byte[] chunk = new byte[(int) Math.min(1 << 20, Math.max(1, s.byteSize()))];
        for (long off = 0; off < s.byteSize(); ) {
            int n = (int) Math.min(chunk.length, s.byteSize() - off);
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, chunk, 0, n);
            ByteBuffer b = ByteBuffer.wrap(chunk, 0, n);
            while (b.hasRemaining()) ch.write(b);
            off += n;
        }
    }
}
