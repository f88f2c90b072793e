package org.slm4j.format;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.tensor.GgmlType;

/** Malformed and hostile GGUF files: each ends in one ModelFormatException that names the problem. */
class GgufHostileFilesTest {
    @TempDir Path dir;

    /** Writes {@code bytes}, opens them, and checks the error names the file and every one of {@code parts}. */
    private ModelFormatException rejects(byte[] bytes, String... parts) throws IOException {
        Path f = Files.write(dir.resolve("hostile.gguf"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), "message lacks the file: " + e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        return e;
    }

    private ModelFormatException rejects(RawGguf raw, String... parts) throws IOException {
        return rejects(raw.toBytes(), parts);
    }

    private static RawGguf oneTensorFile(int ggmlType, long offset, long... ne) {
        return RawGguf.header(3, 1, 0).tensor("w", ggmlType, offset, ne).pad(32).zeros(32);
    }

    @Test
    void emptyAndTinyFiles() throws IOException {
        rejects(new byte[0], "byte 0", "magic", "truncated");
        rejects(new byte[] {'G', 'G'}, "magic", "truncated");
    }

    @Test
    void headerOnlyFileIsValid() throws IOException {
        Path f = Files.write(dir.resolve("min.gguf"), RawGguf.header(3, 0, 0).toBytes());
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(24, g.dataOffset());
            assertTrue(g.metadata().isEmpty());
        }
    }

    @Test
    void magicAndVersion() throws IOException {
        byte[] bad = RawGguf.header(3, 0, 0).toBytes();
        bad[3] = 'X';
        rejects(bad, "byte 0", "magic", "'GGUX'", "'GGUF'");
        rejects(RawGguf.header(1, 0, 0), "byte 4", "version is 1", "v1");
        rejects(RawGguf.header(0, 0, 0), "version is 0", "2 or 3");
        rejects(RawGguf.header(4, 0, 0), "version is 4", "2 or 3");
        rejects(RawGguf.header(0x0300_0000L, 0, 0), "version", "byte-swapped");
        rejects(RawGguf.header(0x0200_0000L, 0, 0), "byte-swapped");
    }

    @Test
    void absurdCounts() throws IOException {
        rejects(RawGguf.header(3, 1L << 60, 0), "byte 8", "tensor count is 1152921504606846976", "at most");
        rejects(RawGguf.header(3, -1, 0), "tensor count is 18446744073709551615");
        rejects(RawGguf.header(3, 1000, 0), "tensor count is 1000", "remain");
        rejects(RawGguf.header(3, 0, 1L << 60), "byte 16", "metadata entry count");
        rejects(RawGguf.header(3, 0, 2).kvU32("a", 1), "metadata entry count is 2", "remain");
    }

    @Test
    void absurdStrings() throws IOException {
        // each file keeps enough bytes after the counts for one entry, so the string is what fails
        rejects(RawGguf.header(3, 0, 1).u64(1L << 62).zeros(16), "byte 24", "metadata key #0 length", "4611686018427387904");
        rejects(RawGguf.header(3, 0, 1).u64(-1).zeros(16), "metadata key #0 length is 18446744073709551615");
        rejects(RawGguf.header(3, 0, 1).u64(100).zeros(16), "byte 32", "metadata key #0", "needs 100 bytes", "truncated");
        rejects(RawGguf.header(3, 0, 1).str("k").u32(RawGguf.STRING).u64(1L << 40), "metadata 'k' length", "1099511627776", "at most");
        FormatLimits tight = new FormatLimits(10, 4, 63, 4, 100, 10, 64);
        Path f = Files.write(dir.resolve("long.gguf"), RawGguf.header(3, 0, 1).kvString("k", "hello").toBytes());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(f, tight));
        assertTrue(e.getMessage().contains("length is 5, expected at most 4 bytes"), e.getMessage());
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] key = {'a', (byte) 0xC3, 'b'}; // a lead byte without its continuation
        rejects(RawGguf.header(3, 0, 1).u64(3).bytes(key).u32(RawGguf.UINT32).u32(1), "metadata key #0", "61 c3 62", "valid UTF-8");
        byte[] overlong = {(byte) 0xC0, (byte) 0xAF}; // '/' encoded in two bytes
        rejects(RawGguf.header(3, 0, 1).str("k").u32(RawGguf.STRING).u64(2).bytes(overlong), "metadata 'k'", "valid UTF-8");
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80}; // U+D800, which UTF-8 may not encode
        rejects(RawGguf.header(3, 0, 1).str("k").u32(RawGguf.ARRAY).u32(RawGguf.STRING).u64(2).str("ok").u64(3).bytes(surrogate),
                "metadata 'k'[1]", "valid UTF-8");
        rejects(RawGguf.header(3, 1, 0).u64(2).bytes(overlong).u32(1).u64(1).u32(0).u64(0), "tensor #0 name", "valid UTF-8");
    }

    @Test
    void arrays() throws IOException {
        rejects(RawGguf.header(3, 0, 1).str("a").u32(RawGguf.ARRAY).u32(RawGguf.INT32).u64(1000).u32(1),
                "metadata 'a' array length is 1000", "bytes left");
        rejects(RawGguf.header(3, 0, 1).str("a").u32(RawGguf.ARRAY).u32(RawGguf.STRING).u64(3).zeros(16),
                "array length is 3", "at most 2"); // each string needs 8 bytes at least
        rejects(RawGguf.header(3, 0, 1).str("a").u32(RawGguf.ARRAY).u32(RawGguf.UINT8).u64(1L << 62),
                "array length is 4611686018427387904", "maxArrayLength");
        rejects(RawGguf.header(3, 0, 1).str("a").u32(RawGguf.ARRAY).u32(RawGguf.ARRAY).u32(RawGguf.INT32).u64(0),
                "metadata 'a' element type is ARRAY", "no nested arrays");
        rejects(RawGguf.header(3, 0, 1).str("a").u32(RawGguf.ARRAY).u32(13).u64(0), "element type is 13", "0..12");
        FormatLimits tight = new FormatLimits(10, 4, 63, 100, 2, 10, 64);
        Path f = Files.write(dir.resolve("arr.gguf"), RawGguf.header(3, 0, 1).str("a").u32(RawGguf.ARRAY).u32(RawGguf.UINT8).u64(3).zeros(3).toBytes());
        assertThrows(ModelFormatException.class, () -> GgufFile.open(f, tight));
        GgufFile.open(f).close();
    }

    @Test
    void keysAndValues() throws IOException {
        rejects(RawGguf.header(3, 0, 2).kvU32("a", 1).kvU32("a", 2), "byte 41", "metadata key #1 is 'a'", "duplicate");
        rejects(RawGguf.header(3, 0, 1).kvU32("", 1), "metadata key #0 is \"\"", "non-empty");
        rejects(RawGguf.header(3, 0, 1).str("t").u32(13).u32(0), "metadata 't' type is 13", "0..12");
        rejects(RawGguf.header(3, 0, 1).str("t").u32(1L << 31).u32(0), "type is 2147483648");
        rejects(RawGguf.header(3, 0, 1).str("b").u32(RawGguf.BOOL).u8(2), "metadata 'b' is 2", "0 or 1");
        rejects(RawGguf.header(3, 0, 1).str("u").u32(RawGguf.UINT64).u64(-1), "metadata 'u' is 18446744073709551615", "below 2^63");
        rejects(RawGguf.header(3, 0, 1).str("u").u32(RawGguf.UINT32).u8(1), "metadata 'u'", "truncated");
    }

    @Test
    void alignment() throws IOException {
        rejects(RawGguf.header(3, 0, 1).kvU32("general.alignment", 0), "general.alignment is 0", "power of two");
        rejects(RawGguf.header(3, 0, 1).kvU32("general.alignment", 3), "general.alignment is 3", "power of two");
        rejects(RawGguf.header(3, 0, 1).kvU32("general.alignment", 1L << 31), "maxAlignment");
        rejects(RawGguf.header(3, 0, 1).kvString("general.alignment", "32"), "general.alignment is STRING \"32\"", "UINT32");
        rejects(RawGguf.header(3, 0, 1).str("general.alignment").u32(RawGguf.UINT64).u64(32), "UINT32");
        // alignment 1 is legal: data starts right after the header
        Path f = Files.write(dir.resolve("a1.gguf"), RawGguf.header(3, 1, 1).kvU32("general.alignment", 1).tensor("w", RawGguf.F32, 0, 1).f32(2f).toBytes());
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(1, g.alignment());
            assertEquals(Files.size(f) - 4, g.dataOffset());
            assertEquals(2f, g.tensorData("w").get(GgufReader.F32, 0));
        }
    }

    @Test
    void tensorInfos() throws IOException {
        rejects(RawGguf.header(3, 2, 0).tensor("w", 0, 0, 8).tensor("w", 0, 32, 8).pad(32).zeros(64), "tensor #1 name is 'w'", "duplicate");
        rejects(oneTensorFile(RawGguf.F32, 0, 1, 1, 1, 1, 1), "n_dims of tensor 'w' is 5", "at most 4");
        rejects(oneTensorFile(RawGguf.F32, 0, 8, -2), "ne[1] of tensor 'w' is 18446744073709551614", "below 2^63");
        rejects(oneTensorFile(RawGguf.F32, 0, 1L << 32, 1L << 32), "shape of tensor 'w'", "fits a long");
        rejects(oneTensorFile(RawGguf.F32, 0, 1L << 62, 1), "byte size of tensor 'w'", "fits a long");
        rejects(oneTensorFile(99, 0, 8), "type of tensor 'w' is ggml type id 99", "Q4_K");
        rejects(oneTensorFile(16, 0, 256), "ggml type id 16");
        rejects(oneTensorFile(RawGguf.Q8_0, 0, 16, 2), "ne[0] (row length) of Q8_0 tensor 'w' is 16", "multiple of the block size 32");
        rejects(oneTensorFile(RawGguf.F32, -1, 8), "offset of tensor 'w' is 18446744073709551615");
        rejects(RawGguf.header(3, 1, 0).tensor("x".repeat(64), 0, 0, 8).pad(32).zeros(32), "tensor #0 name length is 64", "at most 63");
        RawGguf longName = RawGguf.header(3, 1, 0).tensor("x".repeat(63), 0, 0, 8).pad(32).zeros(32);
        GgufFile.open(Files.write(dir.resolve("63.gguf"), longName.toBytes())).close();
    }

    @Test
    void tensorDataPlacement() throws IOException {
        rejects(RawGguf.header(3, 1, 0).tensor("w", 0, 0, 8).pad(32).zeros(31), "data of tensor 'w'", "within the file", "truncated");
        rejects(RawGguf.header(3, 1, 0).tensor("w", 0, 0, 8), "data section start", "truncated");
        rejects(RawGguf.header(3, 2, 0).tensor("a", 0, 0, 8).tensor("b", 0, 16, 8).pad(32).zeros(64),
                "offset of tensor 'b' is 16", "expected 32", "overlaps");
        rejects(RawGguf.header(3, 2, 0).tensor("a", 0, 0, 8).tensor("b", 0, 64, 8).pad(32).zeros(96),
                "offset of tensor 'b' is 64", "expected 32", "gap");
        rejects(RawGguf.header(3, 1, 0).tensor("a", 0, 32, 8).pad(32).zeros(64), "offset of tensor 'a' is 32", "expected 0");
        rejects(RawGguf.header(3, 2, 0).tensor("a", 0, 0, 1L << 60).tensor("b", 0, 1L << 62, 8).pad(32).zeros(32),
                "data of tensor 'a'", "within the file");
        // 2^62 - 8 elements of 2 bytes: the padded running sum overflows before any data check
        rejects(RawGguf.header(3, 2, 0).tensor("a", RawGguf.F16, 0, (1L << 62) - 8).tensor("b", 0, 0, 8).pad(32),
                "size of tensor 'a'", "fits a long");
    }

    @Test
    void knownButUnsupportedTypesStillRead() throws IOException {
        Path f = Files.write(dir.resolve("q2k.gguf"), RawGguf.header(3, 1, 0).tensor("w", RawGguf.Q2_K, 0, 256).pad(32).zeros(96).toBytes());
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(GgmlType.Q2_K, g.tensor("w").type());
            assertFalse(g.tensor("w").type().supported());
            assertEquals(84, g.tensor("w").byteSize());
        }
    }

    @Test
    void versionTwoReads() throws IOException {
        Path f = Files.write(dir.resolve("v2.gguf"), RawGguf.header(2, 0, 1).kvU32("a", 7).toBytes());
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(2, g.version());
            assertEquals(7, g.getInt("a"));
        }
    }

    /** A small valid file whose last tensor ends on the alignment, so every shorter prefix is invalid. */
    private byte[] smallValidFile() throws IOException {
        Path f = dir.resolve("small.gguf");
        GgufWriter w = new GgufWriter();
        GgufRoundTripTest.everyValueType().forEach(w::put);
        w.addTensor("a", new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 8, 2);
        w.addTensor("b", GgmlType.Q8_0, new long[] {32}, MemorySegment.ofArray(new byte[34]));
        w.addTensor("c", new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8); // 32 bytes: no trailing padding
        w.write(f);
        return Files.readAllBytes(f);
    }

    @Test
    void everyTruncationIsRejected() throws IOException {
        byte[] full = smallValidFile();
        GgufFile.parse("small", MemorySegment.ofArray(full), FormatLimits.DEFAULT).close();
        for (int n = 0; n < full.length; n++) {
            byte[] prefix = java.util.Arrays.copyOf(full, n);
            try {
                GgufFile.parse("prefix" + n, MemorySegment.ofArray(prefix), FormatLimits.DEFAULT);
                fail("a prefix of " + n + " of " + full.length + " bytes was accepted");
            } catch (ModelFormatException e) {
                assertTrue(e.getMessage().startsWith("prefix" + n + ": byte "), e.getMessage());
            }
        }
        rejects(java.util.Arrays.copyOf(full, full.length - 1), "data of tensor 'c'", "truncated"); // through the mapped path too
    }

    /** Random mutations of a valid file: each either opens (and then reads cleanly) or gives a ModelFormatException. */
    @Test
    void fuzzedFilesOnlyEverGiveModelFormatException() throws IOException {
        byte[] valid = smallValidFile();
        int headerEnd = (int) GgufFile.parse("valid", MemorySegment.ofArray(valid), FormatLimits.DEFAULT).dataOffset();
        long[] interesting = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256, 0xFFFF, 1L << 31, 0xFFFF_FFFFL, 1L << 32, 1L << 60, Long.MAX_VALUE, -1, -2};
        Random r = new Random(20240601);
        int accepted = 0;
        for (int iter = 0; iter < 4000; iter++) {
            byte[] b = valid.clone();
            int mutations = 1 + r.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                int limit = r.nextInt(8) == 0 || b.length < headerEnd ? b.length : headerEnd; // mostly the header, where the parsing is
                if (limit == 0) break;
                int at = r.nextInt(limit);
                switch (r.nextInt(4)) {
                    case 0 -> b[at] = (byte) r.nextInt(256);
                    case 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
                    case 2 -> { // an interesting u32 or u64, little-endian
                        long v = interesting[r.nextInt(interesting.length)];
                        int width = r.nextBoolean() ? 4 : 8;
                        for (int i = 0; i < width && at + i < b.length; i++) b[at + i] = (byte) (v >>> (8 * i));
                    }
                    default -> b = java.util.Arrays.copyOf(b, at + r.nextInt(b.length - at + 64)); // cut or extend
                }
            }
            try (GgufFile g = GgufFile.parse("fuzz" + iter, MemorySegment.ofArray(b), FormatLimits.DEFAULT)) {
                accepted++;
                for (var e : g.metadata().entrySet()) {
                    assertNotNull(e.getValue().toString());
                    if (e.getValue().type().isInteger()) g.getLong(e.getKey());
                }
                for (GgufTensorInfo t : g.tensors()) {
                    assertEquals(t.byteSize(), g.tensorData(t).byteSize());
                }
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().startsWith("fuzz" + iter + ": "), expected.getMessage());
            } catch (Throwable t) {
                throw new AssertionError("fuzz iteration " + iter + " threw " + t, t);
            }
        }
        assertTrue(accepted > 0 && accepted < 4000, "the fuzz should hit both outcomes, accepted " + accepted);
    }

    /** Offsets past 2^31: a sparse file of 2.4 GB whose last tensor lies beyond what an int addresses. */
    @Test
    void fileLargerThan2GiB() throws IOException {
        long big = 600_000_000; // F32 elements: 2.4e9 bytes
        byte[] header = RawGguf.header(3, 3, 0)
                .tensor("a", RawGguf.F32, 0, 8)
                .tensor("big", RawGguf.F32, 32, big)
                .tensor("c", RawGguf.F32, 32 + big * 4, 8) // 2.4e9 is a multiple of 32: no padding
                .pad(32).toBytes();
        Path f = dir.resolve("big.gguf");
        long cAt = header.length + 32 + big * 4;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(header));
            ByteBuffer c = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 8; i++) c.putFloat(i + 0.5f);
            ch.write(c.flip(), cAt); // everything between stays a hole
        }
        try (GgufFile g = GgufFile.open(f)) {
            assertTrue(Files.size(f) > (1L << 31));
            GgufTensorInfo c = g.tensor("c");
            assertEquals(cAt, g.dataOffset() + c.offset());
            assertEquals(7.5f, g.tensorData(c).get(GgufReader.F32, 28));
            assertEquals(big * 4, g.tensorData("big").byteSize());
            assertEquals(big, g.tensor("big").cols());
        }
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(cAt + 31);
        }
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(f));
        assertTrue(e.getMessage().contains("data of tensor 'c' is bytes " + cAt + ".." + (cAt + 32)), e.getMessage());
    }
}
