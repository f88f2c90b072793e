package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufWriter;
import org.slm4j.format.ModelFormatException;
import org.slm4j.format.Progress;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.HalfFloats;
import org.slm4j.testing.Shared;

/** The writer API with hand-made tensors, the refusals, and the type rules worked out from llama.cpp's. */
class GgufQuantizerTest {
    @TempDir Path tmp;

    /** A tensor whose element (row r, column c) is {@code f(r, c)}, stored as {@code type}. */
    record Fn(String name, GgmlType type, long[] shape, Values f) implements SourceTensor {
        interface Values { float at(long row, int col); }

        Fn(String name, GgmlType type, Values f, long... shape) { this(name, type, shape, f); }

        @Override
        public void readRow(long row, float[] dst, int off) {
            for (int c = 0; c < shape[0]; c++) dst[off + c] = f.at(row, c);
        }
    }

    private static Fn matrix(String name, long cols, long rows) {
        return new Fn(name, GgmlType.F32, (r, c) -> (float) Math.sin(r * 31 + c * 0.7), cols, rows);
    }

    private static Fn vector(String name, long n) {
        return new Fn(name, GgmlType.F32, (r, c) -> 1 + c * 1e-3f, n);
    }

    @Test
    void writesTheMixInTheGivenOrderWithFileTypeLast() {
        List<SourceTensor> ts = List.of(matrix("token_embd.weight", 256, 40), vector("blk.0.attn_norm.weight", 256),
                matrix("blk.0.attn_v.weight", 256, 64), matrix("blk.0.ffn_down.weight", 512, 256),
                new Fn("blk.0.ffn_up.weight", GgmlType.BF16, (r, c) -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(c - r)), 256, 512),
                matrix("output.weight", 256, 40));
        GgufWriter header = new GgufWriter().putString("general.architecture", "llama").putUInt32("general.file_type", 0)
                .putUInt32("llama.block_count", 1);
        Path out = tmp.resolve("m.gguf");
        List<Long> done = new ArrayList<>();
        GgufQuantizer.write(header, ts, FileType.Q4_K_M, out, (task, d, total) -> done.add(d));
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(List.of("general.architecture", "llama.block_count", "general.quantization_version", "general.file_type"),
                    List.copyOf(f.metadata().keySet()));
            assertEquals(15, f.getInt("general.file_type"));
            assertEquals(2, f.getInt("general.quantization_version"));
            assertEquals(List.of("token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight",
                    "blk.0.ffn_up.weight", "output.weight"), f.tensors().stream().map(t -> t.name()).toList());
            // one layer: use_more_bits(0, 1) is true (0 >= 7 * 1 / 8), so attn_v and ffn_down get Q6_K
            assertEquals(List.of(GgmlType.Q4_K, GgmlType.F32, GgmlType.Q6_K, GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q6_K),
                    f.tensors().stream().map(t -> t.type()).toList());
            assertArrayEquals(new long[] {256}, f.tensor("blk.0.attn_norm.weight").shape());
            assertEquals(1 + 0.255f, f.tensorData("blk.0.attn_norm.weight").getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 255));
            assertEquals(done.getLast(), f.tensors().stream().mapToLong(t -> t.byteSize()).sum());
        }
        for (int i = 1; i < done.size(); i++) assertTrue(done.get(i) >= done.get(i - 1), "progress never goes back");
    }

    @Test
    void keepsOneDimensionalAndNormTensorsInTheirSourceType() {
        List<SourceTensor> ts = List.of(new Fn("blk.0.attn_norm.weight", GgmlType.F16, (r, c) -> 0.5f, 64),
                new Fn("blk.0.attn_q.bias", GgmlType.F32, (r, c) -> c, 64, 1),          // [64, 1] counts as one dimension
                new Fn("blk.0.attn_q.weight", GgmlType.F16, (r, c) -> c, 64, 64));
        Path out = tmp.resolve("m.gguf");
        GgufQuantizer.write(new GgufWriter(), ts, FileType.BF16, out, Progress.NONE);
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(List.of(GgmlType.F16, GgmlType.F32, GgmlType.BF16), f.tensors().stream().map(t -> t.type()).toList());
            assertEquals(32, f.getInt("general.file_type"));
        }
    }

    @Test
    void outputAndTypeFallbacksFollowLlamaCpp() {
        // 8 layers: use_more_bits picks layers 0 (first eighth), 7 (last eighth), and 3, 6 ((i - 1) % 3 == 2)
        List<SourceTensor> ts = new ArrayList<>();
        for (int l = 7; l >= 0; l--) ts.add(matrix("blk." + l + ".attn_v.weight", 256, 4));
        for (int l = 0; l < 8; l++) ts.add(matrix("blk." + l + ".ffn_down.weight", 256, 4));
        ts.add(matrix("token_embd.weight", 256, 4));   // no output.weight: the tied embedding is treated as the output
        var types = QuantMix.choose(ts, FileType.Q4_K_M);
        for (SourceTensor t : ts) {
            int layer = t.name().startsWith("blk.") ? t.name().charAt(4) - '0' : -1;
            boolean more = layer == 0 || layer == 3 || layer == 6 || layer == 7;
            assertEquals(layer < 0 || more ? GgmlType.Q6_K : GgmlType.Q4_K, types.get(t), t.name());
        }
        var s = QuantMix.choose(ts, FileType.Q4_K_S);
        for (SourceTensor t : ts) {
            int layer = t.name().startsWith("blk.") ? t.name().charAt(4) - '0' : -1;
            boolean v = t.name().contains("attn_v");
            // Q4_K_S: the first 4 attn_v and the first n_layer / 8 ffn_down get Q5_K
            GgmlType want = layer < 0 ? GgmlType.Q6_K : (v ? layer < 4 : layer < 1) ? GgmlType.Q5_K : GgmlType.Q4_K;
            assertEquals(want, s.get(t), "Q4_K_S " + t.name());
        }
        // rows that are not whole blocks: Q6_K -> Q8_0, Q4_K -> Q5_0, and F16 when 32 does not divide them either
        assertEquals(GgmlType.Q8_0, QuantMix.fallback(GgmlType.Q6_K, 64));
        assertEquals(GgmlType.Q5_0, QuantMix.fallback(GgmlType.Q4_K, 96));
        assertEquals(GgmlType.Q5_1, QuantMix.fallback(GgmlType.Q5_K, 2080));
        assertEquals(GgmlType.F16, QuantMix.fallback(GgmlType.Q4_K, 48));
        assertEquals(GgmlType.F16, QuantMix.fallback(GgmlType.Q8_0, 48));
        Fn out = matrix("output.weight", 64, 4), embd = matrix("token_embd.weight", 48, 4);
        var q40 = QuantMix.choose(List.of(out, embd), FileType.Q4_0);
        assertEquals(GgmlType.Q8_0, q40.get(out));   // Q6_K would be chosen, but 64 is not a multiple of 256
        assertEquals(GgmlType.F16, q40.get(embd));
    }

    @Test
    void refusesQuantizedSourcesAndNonFiniteWeights() throws Exception {
        Path out = tmp.resolve("m.gguf");
        var q = new Fn("blk.0.attn_q.weight", GgmlType.Q8_0, (r, c) -> 0, 32, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> GgufQuantizer.write(new GgufWriter(), List.of(q), FileType.Q4_0, out, Progress.NONE));
        assertTrue(e.getMessage().contains("'blk.0.attn_q.weight' is already Q8_0") && e.getMessage().contains("lose precision"), e.getMessage());

        var nan = new Fn("blk.0.attn_k.weight", GgmlType.F32, (r, c) -> r == 3 && c == 5 ? Float.NaN : 1, 32, 8);
        e = assertThrows(IllegalArgumentException.class, () -> GgufQuantizer.write(new GgufWriter(), List.of(nan), FileType.Q8_0, out, Progress.NONE));
        assertTrue(e.getMessage().contains("'blk.0.attn_k.weight' row 3 element 5 is NaN"), e.getMessage());

        var big = new Fn("blk.0.attn_k.weight", GgmlType.F32, (r, c) -> c == 7 ? 1e6f : 1, 32, 2);
        e = assertThrows(IllegalArgumentException.class, () -> GgufQuantizer.write(new GgufWriter(), List.of(big), FileType.F16, out, Progress.NONE));
        assertTrue(e.getMessage().contains("row 0 element 7 is 1000000.0: beyond F16's range"), e.getMessage());
        var wide = new Fn("blk.0.attn_k.weight", GgmlType.F32, (r, c) -> c == 9 ? -7e4f : 1, 256, 2);
        e = assertThrows(IllegalArgumentException.class, () -> GgufQuantizer.write(new GgufWriter(), List.of(wide), FileType.Q4_K_M, out, Progress.NONE));
        assertTrue(e.getMessage().contains("element 9 is -70000.0: beyond F16's range, in which Q4_K stores its scales"), e.getMessage());
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "a refused write leaves nothing behind, not even a temporary file");
        }
        GgufQuantizer.write(new GgufWriter(), List.of(wide), FileType.BF16, out, Progress.NONE);   // BF16 holds it
        assertTrue(Files.exists(out));
    }

    @Test
    void theFirstBadRowIsTheOneNamedWhateverThreadFindsABadRowFirst() {
        // every row is bad; rows are checked on several threads, and the message must not depend on which came first
        var bad = new Fn("blk.0.attn_k.weight", GgmlType.F32, (r, c) -> c == 7 ? Float.NaN : 1, 32, 4096);
        for (int i = 0; i < 20; i++) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> GgufQuantizer.write(new GgufWriter(), List.of(bad), FileType.Q8_0, tmp.resolve("m.gguf"), Progress.NONE));
            assertTrue(e.getMessage().contains("row 0 element 7 is NaN"), e.getMessage());
        }
    }

    @Test
    void refusesQuantizedFilesAndWritingOverTheInput() throws Exception {
        Path q8 = Shared.file("fixtures/llamacpp/tiny-llama-q8_0.gguf");
        var e = assertThrows(ModelFormatException.class, () -> GgufQuantizer.quantize(q8, tmp.resolve("o.gguf"), FileType.Q4_0, Progress.NONE));
        assertTrue(e.getMessage().contains(q8.toString()) && e.getMessage().contains("'output.weight' is already Q8_0"), e.getMessage());

        Path copy = Files.copy(Shared.file("fixtures/llamacpp/tiny-llama-f32.gguf"), tmp.resolve("f32.gguf"));
        byte[] before = Files.readAllBytes(copy);
        var same = assertThrows(IllegalArgumentException.class,
                () -> GgufQuantizer.quantize(copy, tmp.resolve("x/../f32.gguf"), FileType.Q8_0, Progress.NONE));
        assertTrue(same.getMessage().contains("is the input file"), same.getMessage());
        assertArrayEquals(before, Files.readAllBytes(copy));
    }

    @Test
    void copiesEmptyTensorsOfAFile() {
        // ne[0] = 0 is legal GGUF (an empty tensor): it has no rows to quantize, so it is written empty, not refused
        Path in = tmp.resolve("in.gguf"), out = tmp.resolve("out.gguf");
        new GgufWriter().putString("general.architecture", "llama").addTensor("blk.0.empty.weight", new float[0], 0, 4)
                .addTensor("blk.0.attn_q.weight", new float[64 * 2], 64, 2).write(in);
        GgufQuantizer.quantize(in, out, FileType.Q8_0, Progress.NONE);
        try (GgufFile f = GgufFile.open(out)) {
            assertArrayEquals(new long[] {0, 4}, f.tensor("blk.0.empty.weight").shape());
            assertEquals(0, f.tensor("blk.0.empty.weight").byteSize());
            assertEquals(GgmlType.Q8_0, f.tensor("blk.0.attn_q.weight").type());
        }
    }

    @Test
    void aNonFiniteWeightInAFileIsAFormatErrorNamingTheFile() {
        Path in = tmp.resolve("in.gguf");
        float[] w = new float[64 * 2];
        w[64 + 3] = Float.POSITIVE_INFINITY;
        new GgufWriter().putString("general.architecture", "llama").addTensor("blk.0.attn_q.weight", w, 64, 2).write(in);
        var e = assertThrows(ModelFormatException.class, () -> GgufQuantizer.quantize(in, tmp.resolve("o.gguf"), FileType.Q8_0, Progress.NONE));
        assertTrue(e.getMessage().contains(in.toString()) && e.getMessage().contains("'blk.0.attn_q.weight' row 1 element 3 is Infinity"),
                e.getMessage());
    }

    @Test
    void refusesOneShardOfASplitFile() {
        // the other shards' tensors are not in this file: quantizing it alone would write an incomplete model
        Path in = tmp.resolve("m-00001-of-00002.gguf");
        new GgufWriter().putString("general.architecture", "llama").put("split.no", org.slm4j.format.GgufValue.ofUInt16(0))
                .put("split.count", org.slm4j.format.GgufValue.ofUInt16(2)).addTensor("token_embd.weight", new float[64 * 2], 64, 2).write(in);
        var e = assertThrows(ModelFormatException.class, () -> GgufQuantizer.quantize(in, tmp.resolve("o.gguf"), FileType.Q8_0, Progress.NONE));
        assertTrue(e.getMessage().contains(in.toString()) && e.getMessage().contains("split.count"), e.getMessage());
    }

    @Test
    void aMissingInputIsSaidSoEvenWhenTheOutputExists() throws Exception {
        Path out = Files.writeString(tmp.resolve("old.gguf"), "an earlier output");
        var e = assertThrows(RuntimeException.class,
                () -> GgufQuantizer.quantize(tmp.resolve("missing.gguf"), out, FileType.Q8_0, Progress.NONE));
        assertTrue(e.getMessage().startsWith("cannot read " + tmp.resolve("missing.gguf")), e.getMessage());
    }

    @Test
    void aRowOverTwoGibibytesIsNamedNotAnIntegerOverflow() {
        // 600M F32 elements: the float row fits a Java array, its 2.4 GB of output bytes do not fit one buffer
        var wide = new Fn("blk.0.attn_norm.weight", GgmlType.F32, (r, c) -> 1, 600_000_000);
        var e = assertThrows(IllegalArgumentException.class,
                () -> GgufQuantizer.write(new GgufWriter(), List.of(wide), FileType.F32, tmp.resolve("m.gguf"), Progress.NONE));
        assertTrue(e.getMessage().contains("'blk.0.attn_norm.weight'") && e.getMessage().contains("2400000000 bytes"), e.getMessage());
    }

    @Test
    void progressCountsOutputBytesToTheEnd() {
        Path out = tmp.resolve("m.gguf");
        AtomicLong last = new AtomicLong(-1), total = new AtomicLong();
        GgufQuantizer.write(new GgufWriter(), List.of(matrix("blk.0.attn_q.weight", 4096, 300)), FileType.Q8_0, out, (task, d, t) -> {
            assertEquals("quantize", task);
            last.set(d);
            total.set(t);
        });
        assertEquals(GgmlType.Q8_0.bytesFor(4096L * 300), total.get());
        assertEquals(total.get(), last.get());
    }

    @Test
    void parsesFileTypesInAnyCase() {
        assertEquals(FileType.Q4_K_M, FileType.parse("q4_k_m"));
        assertEquals(FileType.BF16, FileType.parse("BF16"));
        var e = assertThrows(IllegalArgumentException.class, () -> FileType.parse("q2_k"));
        assertTrue(e.getMessage().contains("f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k"), e.getMessage());
    }
}
