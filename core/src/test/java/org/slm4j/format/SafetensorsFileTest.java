package org.slm4j.format;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.tensor.GgmlType;
import org.slm4j.testing.Shared;

/** Safetensors round trips, the shared fixtures' files, and hostile headers that must end in ModelFormatException. */
class SafetensorsFileTest {
    @TempDir Path dir;

    /** A file of {@code u64 len(header)}, {@code header}, then {@code dataBytes} bytes 0, 1, 2, ... */
    static byte[] raw(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return raw(h, h.length, dataBytes);
    }

    static byte[] raw(byte[] header, long declaredLength, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        for (int i = 0; i < dataBytes; i++) b.put((byte) i);
        return b.array();
    }

    private ModelFormatException rejects(byte[] bytes, String... parts) throws IOException {
        Path f = Files.write(dir.resolve("hostile.safetensors"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), "message lacks the file: " + e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        return e;
    }

    @Test
    void roundTrip() throws IOException {
        float[] a = {1.5f, -2f, 3.25f, 0f, Float.MIN_VALUE, -0f};
        byte[] f16 = {0x00, 0x3c, 0x00, (byte) 0xc0}; // 1.0, -2.0
        Path f = dir.resolve("rt.safetensors");
        new SafetensorsWriter().putMetadata("format", "pt")
                .add("a", a, 2, 3)
                .add("h", Dtype.F16, new long[] {2}, MemorySegment.ofArray(f16))
                .add("empty", Dtype.I64, new long[] {0, 5}, MemorySegment.ofArray(new byte[0]))
                .add("scalar", Dtype.BF16, new long[] {}, MemorySegment.ofArray(new byte[] {(byte) 0x80, 0x3f}))
                .write(f);
        try (var dirList = Files.list(dir)) {
            assertEquals(1, dirList.count(), "no temporary file left beside the target");
        }
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "the header is padded to 8 bytes");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(java.util.List.of("a", "h", "empty", "scalar"), java.util.List.copyOf(st.tensors().keySet()));
            SafetensorsFile.Tensor t = st.tensor("a");
            assertEquals(Dtype.F32, t.dtype());
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertArrayEquals(a, st.tensorData(t).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)));
            assertArrayEquals(f16, st.tensorData(st.tensor("h")).toArray(ValueLayout.JAVA_BYTE));
            assertEquals(0, st.tensorData(st.tensor("empty")).byteSize());
            assertEquals(GgmlType.BF16, st.tensor("scalar").dtype().ggml());
            assertEquals(8 + headerLen + Float.BYTES * 6 + 4 + 0 + 2, Files.size(f), "data back to back after the header");
        }
    }

    @Test
    void writerRejectsMisuse() {
        var w = new SafetensorsWriter().add("x", new float[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> w.add("x", new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> w.add("y", new float[] {1, 2}, 3));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new float[] {1}, 1));
    }

    @Test
    void handWrittenFileFromTheSpec() throws IOException {
        // two F32 values, and a 4-bit F4 tensor of 4 elements (2 bytes): offsets written by hand
        String h = "{\"__metadata__\":{\"k\":\"v\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"q\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[8,10]}}   ";
        Path f = Files.write(dir.resolve("spec.safetensors"), raw(h, 10));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(2, st.tensors().size());
            assertArrayEquals(new byte[] {8, 9}, st.tensorData(st.tensor("q")).toArray(ValueLayout.JAVA_BYTE));
            assertEquals("v", st.metadata().get("k"));
        }
    }

    @Test
    void sharedFixtureFilesOpen() {
        try (SafetensorsFile st = SafetensorsFile.open(Shared.file("fixtures/hf/tiny-llama/model.safetensors"))) {
            assertEquals("pt", st.metadata().get("format"));
            assertArrayEquals(new long[] {512, 64}, st.tensor("model.embed_tokens.weight").shape());
            assertEquals(Dtype.F32, st.tensor("lm_head.weight").dtype());
        }
    }

    static String t(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void headerLength() throws IOException {
        rejects(new byte[5], "5 bytes", "truncated");
        rejects(raw(new byte[] {'{', '}'}, 100, 0), "header length 100", "larger than the 2 bytes");
        rejects(raw(new byte[] {'{', '}'}, 200_000_000, 0), "header length 200000000", "100000000");
        rejects(raw(new byte[] {'{', '}'}, -1, 0), "header length 18446744073709551615");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        rejects(raw("{" + t("w", "F32", "[4]", 0, 16) + "}", 8), "tensors end at data byte 16", "8 bytes", "out of range");
        rejects(raw("{" + t("w", "F32", "[1]", 0, 4) + "}", 12), "trailing bytes");
        rejects(raw("{" + t("w", "F32", "[1]", 8, 4) + "}", 12), "'w'", "end before begin");
        rejects(raw("{" + t("w", "F32", "[1]", 0, 99999999999999999L) + "}", 4), "'w'", "bits");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551620]}}", 4), "'w'", "data_offsets[1]");
    }

    @Test
    void overlapAndGap() throws IOException {
        rejects(raw("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}", 12), "'b'", "overlap tensor 'a'");
        rejects(raw("{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}", 12), "'b'", "gap after byte 4");
        rejects(raw("{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 0, 4) + "}", 4), "overlap");
    }

    @Test
    void dtypeShapeAndFields() throws IOException {
        rejects(raw("{" + t("w", "F12", "[1]", 0, 4) + "}", 4), "'w'", "dtype \"F12\"", "F32");
        rejects(raw("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "'w'", "dtype 7");
        rejects(raw("{" + t("w", "F32", "[3]", 0, 4) + "}", 4), "'w'", "96 bits", "4 bytes");
        rejects(raw("{" + t("w", "F32", "[-1]", 0, 4) + "}", 4), "shape[0]", "-1");
        rejects(raw("{" + t("w", "F32", "[1.5]", 0, 4) + "}", 4), "shape[0]", "1.5");
        rejects(raw("{" + t("w", "F32", "[4294967296,4294967296,4294967296]", 0, 4) + "}", 4), "more elements than a long");
        rejects(raw("{" + t("w", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) + "}", 4), "shape");
        rejects(raw("{" + t("w", "F4", "[3]", 0, 2) + "}", 2), "12 bits");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4), "unknown field 'x'");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "lacks one of");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "data_offsets");
        rejects(raw("{\"w\":[1]}", 0), "'w'", "expected an object");
        rejects(raw("{\"__metadata__\":{\"a\":1}}", 0), "__metadata__", "'a'", "expected a string");
        rejects(raw("{\"__metadata__\":[]}", 0), "__metadata__");
    }

    @Test
    void jsonItself() throws IOException {
        rejects(raw("{" + t("w", "F32", "[1]", 0, 4) + "," + t("w", "F32", "[1]", 0, 4) + "}", 4), "not valid JSON", "Duplicate field 'w'");
        rejects(raw("[]", 0), "does not start with '{'");
        rejects(raw("{\"a\":", 0), "not valid JSON");
        rejects(raw("{} {}", 0), "not valid JSON");
        rejects(raw("{}x", 0), "not valid JSON");
        rejects(raw(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}, 7, 0), "not valid UTF-8");
        rejects(raw("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0), "not valid JSON");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,4]}}", 4), "not valid JSON");
    }

    @Test
    void emptyHeaderIsAValidFileWithoutTensors() throws IOException {
        Path f = Files.write(dir.resolve("empty.safetensors"), raw("{}      ", 0));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertTrue(st.tensors().isEmpty());
        }
    }

    private static byte[] smallValidFile() {
        return raw("{\"__metadata__\":{\"format\":\"pt\"}," + t("a", "F32", "[2,2]", 0, 16) + "," + t("b", "BF16", "[3]", 16, 22) + "}", 22);
    }

    @Test
    void everyTruncationIsRejected() {
        byte[] full = smallValidFile();
        assertDoesNotThrow(() -> SafetensorsFile.parse("small", MemorySegment.ofArray(full)));
        for (int n = 0; n < full.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(full, n);
            assertThrows(ModelFormatException.class, () -> SafetensorsFile.parse("cut" + cut.length, MemorySegment.ofArray(cut)),
                    "prefix of " + n + " bytes");
        }
    }

    /** Random byte mutations of a valid file: each either opens or fails with ModelFormatException, nothing else. */
    @Test
    void mutationFuzz() {
        byte[] full = smallValidFile();
        Random rnd = new Random(20261123);
        int opened = 0;
        for (int iter = 0; iter < 20_000; iter++) {
            byte[] m = full.clone();
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits; e++) {
                int at = rnd.nextInt(m.length);
                m[at] = switch (rnd.nextInt(4)) {
                    case 0 -> (byte) rnd.nextInt(256);
                    case 1 -> (byte) "{}[],:\"0123456789-.eE \\".charAt(rnd.nextInt(23));
                    case 2 -> (byte) (m[at] + 1);
                    default -> (byte) (m[at] - 1);
                };
            }
            try {
                SafetensorsFile st = SafetensorsFile.parse("fuzz" + iter, MemorySegment.ofArray(m));
                for (SafetensorsFile.Tensor t : st.tensors().values()) st.tensorData(t);
                opened++;
            } catch (ModelFormatException expected) {
                assertNotNull(expected.getMessage());
            }
        }
        assertTrue(opened > 0 && opened < 20_000, "the fuzz should reach both outcomes, opened " + opened);
    }
}
