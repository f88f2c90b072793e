package org.slm4j.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Test-only, throwaway: finds tensors in a trusted GGUF fixture just well enough to view them as a {@link Matrix}.
 * It validates nothing; the real reader lives in org.slm4j.format.
 */
final class TestGgufTensors implements AutoCloseable {
    private record Info(GgmlType type, long[] ne, long offset) {}

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment file;
    private final Map<String, Info> tensors = new LinkedHashMap<>();
    private final long dataStart;
    private long pos;

    TestGgufTensors(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path)) {
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        if (u32() != 0x46554747) throw new IOException(path + " is not GGUF");
        u32(); // version
        long tensorCount = u64(), kvCount = u64(), alignment = 32;
        for (long i = 0; i < kvCount; i++) {
            String key = string();
            int type = u32();
            if (key.equals("general.alignment")) alignment = u32();
            else skip(type);
        }
        for (long i = 0; i < tensorCount; i++) {
            String name = string();
            long[] ne = new long[u32()];
            for (int d = 0; d < ne.length; d++) ne[d] = u64();
            GgmlType type = GgmlType.byId(u32());
            tensors.put(name, new Info(type, ne, u64()));
        }
        dataStart = (pos + alignment - 1) / alignment * alignment;
    }

    Set<String> names() {
        return tensors.keySet();
    }

    GgmlType type(String name) {
        return tensors.get(name).type();
    }

    /** A 2-D tensor as a Matrix (ne[0] = cols, ne[1] = rows). */
    Matrix matrix(String name) {
        Info t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        int cols = (int) t.ne()[0], rows = t.ne().length > 1 ? (int) t.ne()[1] : 1;
        long bytes = t.type().bytesFor(cols) * rows;
        return new Matrix(name, t.type(), file.asSlice(dataStart + t.offset(), bytes), rows, cols);
    }

    private void skip(int type) {
        switch (type) {
            case 0, 1, 7 -> pos += 1;
            case 2, 3 -> pos += 2;
            case 4, 5, 6 -> pos += 4;
            case 10, 11, 12 -> pos += 8;
            case 8 -> string();
            case 9 -> {
                int elementType = u32();
                long count = u64();
                for (long i = 0; i < count; i++) skip(elementType);
            }
            default -> throw new IllegalStateException("GGUF value type " + type);
        }
    }

    private int u32() {
        int v = file.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64() {
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private String string() {
        int n = (int) u64();
        String s = new String(file.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    @Override
    public void close() {
        arena.close();
    }
}
