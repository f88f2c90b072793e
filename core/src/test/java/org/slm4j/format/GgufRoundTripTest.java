package org.slm4j.format;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slm4j.tensor.GgmlType;

class GgufRoundTripTest {
    @TempDir Path dir;

    /** One value of every scalar type and an array of every element type, extremes included. */
    static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("u8", GgufValue.ofUInt8(255));
        m.put("i8", GgufValue.ofInt8((byte) -128));
        m.put("u16", GgufValue.ofUInt16(65535));
        m.put("i16", GgufValue.ofInt16(Short.MIN_VALUE));
        m.put("u32", GgufValue.ofUInt32(0xFFFF_FFFFL));
        m.put("i32", GgufValue.ofInt32(-7));
        m.put("u64", GgufValue.ofUInt64(Long.MAX_VALUE));
        m.put("i64", GgufValue.ofInt64(Long.MIN_VALUE));
        m.put("f32", GgufValue.ofFloat32(1e-5f));
        m.put("f64", GgufValue.ofFloat64(-Math.PI));
        m.put("bool", GgufValue.ofBool(true));
        m.put("str", GgufValue.ofString("héllo ▁wörld 🦙 \n\u0000end"));
        m.put("empty.str", GgufValue.ofString(""));
        m.put("a.u8", GgufValue.ofUInt8Array((short) 0, (short) 255));
        m.put("a.i8", GgufValue.ofInt8Array((byte) -1, (byte) 127));
        m.put("a.u16", GgufValue.ofUInt16Array(0, 65535));
        m.put("a.i16", GgufValue.ofInt16Array((short) -2, Short.MAX_VALUE));
        m.put("a.u32", GgufValue.ofUInt32Array(0, 0xFFFF_FFFFL));
        m.put("a.i32", GgufValue.ofInt32Array(Integer.MIN_VALUE, 0, 3));
        m.put("a.u64", GgufValue.ofUInt64Array(Long.MAX_VALUE, 1));
        m.put("a.i64", GgufValue.ofInt64Array(-1, Long.MIN_VALUE));
        m.put("a.f32", GgufValue.ofFloat32Array(0.5f, Float.NaN, Float.NEGATIVE_INFINITY, -0.0f));
        m.put("a.f64", GgufValue.ofFloat64Array(1e300, -0.0));
        m.put("a.bool", GgufValue.ofBoolArray(true, false, true));
        m.put("a.str", GgufValue.ofStringArray("<unk>", "▁the", "", "日本"));
        m.put("a.empty", GgufValue.ofInt32Array());
        return m;
    }

    record Added(String name, GgmlType type, long[] shape, byte[] bytes) {}

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 1, 64, 4096})
    void everyValueTypeAndSeveralTensorTypesReadBackEqual(int alignment) throws IOException {
        Random r = new Random(42);
        GgufWriter w = alignment == 32 ? new GgufWriter() : new GgufWriter(alignment);
        Map<String, GgufValue> meta = everyValueType();
        meta.forEach(w::put);
        float[] f32 = new float[8 * 3];
        for (int i = 0; i < f32.length; i++) f32[i] = r.nextFloat() - 0.5f;
        w.addTensor("f32", f32, 8, 3);
        List<Added> added = new ArrayList<>();
        // raw block bytes: the reader must hand back exactly what was stored, whatever they encode
        added.add(new Added("f16", GgmlType.F16, new long[] {32, 2}, randomBytes(r, 32 * 2 * 2)));
        added.add(new Added("q8_0", GgmlType.Q8_0, new long[] {64, 2}, randomBytes(r, 2 * 2 * 34)));
        added.add(new Added("q4_k", GgmlType.Q4_K, new long[] {256, 3}, randomBytes(r, 3 * 144)));
        added.add(new Added("q6_k.3d", GgmlType.Q6_K, new long[] {256, 1, 2}, randomBytes(r, 2 * 210)));
        added.add(new Added("empty", GgmlType.F32, new long[] {0, 4}, new byte[0]));
        for (Added a : added) w.addTensor(a.name, a.type, a.shape, MemorySegment.ofArray(a.bytes));
        Path file = dir.resolve("all.gguf");
        w.write(file);

        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(3, g.version());
            assertEquals(alignment, g.alignment());
            Map<String, GgufValue> expected = new LinkedHashMap<>(meta);
            if (alignment != 32) expected.put("general.alignment", GgufValue.ofUInt32(alignment));
            assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(g.metadata().keySet()), "insertion order");
            assertEquals(expected, g.metadata());

            assertEquals(List.of("f32", "f16", "q8_0", "q4_k", "q6_k.3d", "empty"), g.tensors().stream().map(GgufTensorInfo::name).toList());
            assertEquals(0, g.dataOffset() % alignment);
            long expectedOffset = 0;
            for (GgufTensorInfo t : g.tensors()) {
                assertEquals(expectedOffset, t.offset(), t.name());
                expectedOffset += (t.byteSize() + alignment - 1) / alignment * alignment;
            }
            assertEquals(g.dataOffset() + expectedOffset, Files.size(file), "each tensor padded, the last one too");

            GgufTensorInfo t = g.tensor("f32");
            assertArrayEquals(new long[] {8, 3}, t.shape());
            assertEquals(GgmlType.F32, t.type());
            assertEquals(8, t.cols());
            assertEquals(3, t.rows());
            MemorySegment s = g.tensorData(t);
            for (int i = 0; i < f32.length; i++) {
                assertEquals(f32[i], s.get(GgufReader.F32, 4L * i));
            }
            for (Added a : added) {
                GgufTensorInfo info = g.tensor(a.name);
                assertEquals(a.type, info.type());
                assertArrayEquals(a.shape, info.shape());
                assertArrayEquals(a.bytes, g.tensorData(a.name).toArray(ValueLayout.JAVA_BYTE), a.name);
            }
            assertEquals(2, g.tensor("q6_k.3d").rows());
            assertEquals(0, g.tensor("empty").elementCount());
        }
    }

    /** The writer's bytes against an encoding written out by hand from the spec. */
    @Test
    void writerMatchesTheSpecByteForByte() throws IOException {
        Path file = dir.resolve("tiny.gguf");
        new GgufWriter().putUInt32("a", 7).addTensor("t", new float[] {1.0f}, 1).write(file);
        String expected = "47475546" + "03000000" + "0100000000000000" + "0100000000000000"  // magic, v3, 1 tensor, 1 kv
                + "0100000000000000" + "61" + "04000000" + "07000000"                          // "a": UINT32 7
                + "0100000000000000" + "74" + "01000000" + "0100000000000000" + "00000000" + "0000000000000000" // "t": 1 dim [1], F32, offset 0
                + "00".repeat(96 - 74)                                                         // header padded to 32
                + "0000803f" + "00".repeat(28);                                                // 1.0f, padded to 32
        assertEquals(expected, HexFormat.of().formatHex(Files.readAllBytes(file)));
    }

    @Test
    void customAlignmentIsWrittenAsUint32Key() throws IOException {
        Path file = dir.resolve("a64.gguf");
        new GgufWriter(64).putString("general.architecture", "llama").addTensor("x", new float[] {1, 2}, 2).write(file);
        byte[] b = Files.readAllBytes(file);
        assertEquals(0, b.length % 64);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(GgufValue.ofUInt32(64), g.metadata().get("general.alignment"));
            assertEquals(192, g.dataOffset()); // 24 + 45 ("general.architecture") + 33 (alignment) + 33 ("x") = 135, padded to 64
            assertEquals(2.0f, g.tensorData("x").get(GgufReader.F32, 4));
        }
    }

    @Test
    void getterConversions() throws IOException {
        Path file = dir.resolve("getters.gguf");
        GgufWriter w = new GgufWriter();
        everyValueType().forEach(w::put);
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(255, g.getInt("u8"));
            assertEquals(-128, g.getInt("i8"));
            assertEquals(0xFFFF_FFFFL, g.getLong("u32", 0));
            assertEquals(Long.MAX_VALUE, g.getLong("u64", 0));
            assertEquals(1e-5f, g.getFloat("f32"));
            assertEquals((float) -Math.PI, g.getFloat("f64"));
            assertEquals(-7f, g.getFloat("i32"));
            assertTrue(g.getBool("bool", false));
            assertEquals("", g.getString("empty.str"));
            assertEquals(5, g.getInt("missing", 5));
            assertEquals("d", g.getString("missing", "d"));
            assertArrayEquals(new String[] {"<unk>", "▁the", "", "日本"}, g.getStringArray("a.str"));
            assertArrayEquals(new int[] {0, 255}, g.getIntArray("a.u8"));
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, 3}, g.getIntArray("a.i32"));
            assertArrayEquals(new float[] {-2, Short.MAX_VALUE}, g.getFloatArray("a.i16"));
            g.getStringArray("a.str")[0] = "changed";
            assertEquals("<unk>", g.getStringArray("a.str")[0], "arrays come back as copies");

            assertMessage(() -> g.getInt("u32"), "'u32'", "fits an int");
            assertMessage(() -> g.getInt("u64", 1), "'u64'", "fits an int");
            assertMessage(() -> g.getString("u8"), "'u8'", "expected a STRING");
            assertMessage(() -> g.getString("u8", "dflt"), "'u8'", "expected a STRING");
            assertMessage(() -> g.getString("nope"), "'nope'", "missing");
            assertMessage(() -> g.getFloat("str"), "'str'", "a number");
            assertMessage(() -> g.getIntArray("a.u32"), "'a.u32'", "fit an int");
            assertMessage(() -> g.getStringArray("a.i32"), "'a.i32'", "ARRAY of STRING");
            assertMessage(() -> g.tensorData("nope"), "'nope'", "no tensor");
            for (var e : List.of(
                    assertThrows(ModelFormatException.class, () -> g.getBool("u8", true)),
                    assertThrows(ModelFormatException.class, () -> g.getInt("str")))) {
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            }
        }
    }

    @Test
    void writerRejectsWhatTheReaderWould() {
        GgufWriter w = new GgufWriter();
        MemorySegment q = MemorySegment.ofArray(new byte[34]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.Q8_0, new long[] {16, 2}, q), "ne[0] not a block multiple");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.Q8_0, new long[] {64}, q), "data length");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), new float[] {1}, 1), "name of 64 bytes");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", new float[] {1}, 1, 1, 1, 1, 1), "5 dims");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", new float[0], -1, 0), "negative ne");
        w.addTensor("x", new float[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", new float[] {1}, 1), "duplicate");
        assertThrows(IllegalArgumentException.class, () -> w.put("", GgufValue.ofBool(true)));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.ofUInt32(64)));
        assertThrows(IllegalArgumentException.class, () -> w.putString("bad", "\uD800"));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter(3));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.ofUInt8(256));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.ofUInt32(-1));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.ARRAY, GgufValueType.ARRAY, new int[0]));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.UINT32, null, 5));
    }

    @Test
    void failedWriteLeavesNeitherTargetNorTempFile() throws IOException {
        Path file = dir.resolve("out.gguf");
        Arena arena = Arena.ofConfined();
        MemorySegment data = arena.allocate(4);
        GgufWriter w = new GgufWriter().addTensor("x", GgmlType.F32, new long[] {1}, data);
        arena.close(); // the tensor's memory is gone by the time write() reads it
        assertThrows(IllegalStateException.class, () -> w.write(file));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(), listing.toList());
        }
        Files.writeString(file, "old");
        new GgufWriter().putBool("b", true).write(file);
        try (GgufFile g = GgufFile.open(file); var listing = Files.list(dir)) {
            assertTrue(g.getBool("b"));
            assertEquals(List.of(file), listing.toList(), "replaced in place, no temp file left");
        }
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        ModelFormatException e = assertThrows(ModelFormatException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }
}
