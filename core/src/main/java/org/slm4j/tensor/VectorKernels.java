package org.slm4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static org.slm4j.tensor.Blocks.QK;
import static org.slm4j.tensor.Blocks.QK_K;
import static org.slm4j.tensor.Blocks.f16;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels, at the preferred width or at {@code -Dslm4j.vectorBits}.
 *
 * <p>Quantized weights are widened to floats and multiplied with the input's quants, also held as floats: every
 * product and every per-lane partial sum of a block stays below 2^24, so these float sums are the same exact
 * integers the scalar kernel adds up (the bounds are noted per kernel). Each block's lane sums are then scaled and
 * accumulated with one fused multiply-add per lane, as ggml's AVX2 code does, and the lanes are added at the end.
 * Only that float accumulation order differs from {@link ScalarKernels}.
 *
 * <p>Integer products widened to ints (int8 x int8 as 16-bit lanes, pairs summed into ints) were measured against
 * this float widening on AVX-512 and were no faster: the Vector API has no widening multiply-add like
 * {@code vpmaddubsw} or {@code vpdpbusd}. Rows are therefore regrouped so that one scale operation serves many
 * blocks ({@link BlockGroups}). Where a block's whole sum fits 16 bits, nothing needs widening until the block
 * ends, and a 16-bit multiply and add serve twice the lanes of an FMA: 4-bit by 8-bit products, in
 * {@link Gemm}'s Q4_0 tile and in BlockGroups' Q4_0 and Q4_K loops (there with wrap-around, see its quads).
 *
 * <p>How C2 compiles these loops decides their speed more than their arithmetic does (each rule below was measured
 * on a model streaming from memory, and each broken one cost 1.5x to 4x): no loop inside a block's work, only loop
 * bounds and indexes C2 sees as constants or linear in the loop variable (no division, no size held in a
 * variable), and no helper taking or returning vectors beyond a few operations, because a helper that C2 happens to
 * compile on its own first is then too big to inline and every vector through it is boxed. Even a small helper is
 * left out of line at a cold call site (a tail loop), and a method holding many formats' loops runs out of C2's
 * inlining budget before its last ones: so one method per format, and tails written out. Conversions name their
 * species ({@code convertShape(I2F, F, 0)}, not {@code convert(I2F, 0)}): C2 inlines many Vector API calls late, and
 * in a late-inlined {@code convert} the species it derives was not a constant, so the intrinsic failed and the
 * vectors were boxed (Q4_K generation, 80 bytes per call, in {@code -XX:+LogCompilation}); and their part as a
 * literal, not a loop's variable, so that no intrinsic waits on C2 unrolling a loop first. Allocation in steady
 * state (JFR, or the GC log growing with the token count; KernelAllocationTest in a process that ran every type) is
 * the symptom to look for.
 *
 * <p>A vector carried around a loop (a running sum) is the operand of the operation that updates it, never its
 * receiver: {@code sum = p.add(sum)}, not {@code sum = sum.add(p)}. At the loop's head C2 knows such a vector only
 * by its abstract type, so a call on it is dispatched on the type profile behind a class check, and when that
 * check was not folded away the loop's vectors stayed objects, allocated on every trip. It depended on the order
 * of compilation: where C2's queue was long and a kernel went through C1's unprofiled tier first, Q5_K, Q6_K, Q8_0
 * or Q4_K's batch tile allocated 10 MB to 43 MB per 100 small matmuls, in about 1 of 6 runs of the kernel tests (4
 * of 16 runs of KernelAllocationTest with {@code -XX:Tier3DelayOn=0 -XX:Tier3DelayOff=0}, which make that tier
 * common; none of 24 with the operands turned round). An operand is only cast, and the cast folds once the loop's
 * types are known.
 *
 * <p>One shape per element type for the vectors operated on after a conversion. A conversion's result is not known
 * to C2 as its exact class, so a method the JDK implements once for all shapes ({@code ShortVector.intoArray},
 * {@code or}) finds that class from the type profile of its own bytecode, which every caller in the process feeds:
 * when another shape of the type has run there, C2 guesses wrong and the operation is not intrinsified. Whether it
 * had run depends on the order of earlier work, so the same kernel compiled clean in one process and boxed in the
 * next (the Q4_K prompt decode storing L shorts, while Gemm and BlockGroups store 2L: 288 KB per matmul in 1 of
 * about 10 full test runs; a small program that runs the two shapes in either order boxes whichever compiles second,
 * every time). So shorts computed on are {@link #SHORTS} (2L lanes) everywhere; {@link #S} is only loaded and widened,
 * which needs no guess; Gemm's 4-bit decode stores bytes and widens them 2L at a time (see widenQuants).
 */
final class VectorKernels extends RowKernels {
    static final VectorSpecies<Float> F = floatSpecies();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    // L shorts, only loaded and widened; shorts computed on are SHORTS, one shape (see the class's note on shapes)
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, F.vectorShape());
    static final VectorSpecies<Byte> BYTES_2L = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    // bytes are loaded at least 8 at a time (the narrowest shape is 64 bits) and widened in PARTS parts of L lanes
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * 8)));
    // lengths as int constants: C2 does not fold a species' length(), and a loop bounded by it is not unrolled
    static final int L = F.length(), BYTES = B.length(), PARTS = BYTES / L;
    static final VectorMask<Byte> FIRST_L = B.indexInRange(0, L);
    private static final VectorKernels INSTANCE = new VectorKernels(true), WHOLE_BATCHES = new VectorKernels(false);
    private final boolean smallBatchesByPosition;

    private VectorKernels(boolean smallBatchesByPosition) {
        this.smallBatchesByPosition = smallBatchesByPosition;
    }

    static VectorKernels instance() {
        return INSTANCE;
    }

    /** These kernels with every batch of two or more multiplied at once ({@link Gemm}), for its tests. */
    static VectorKernels wholeBatches() {
        return WHOLE_BATCHES;
    }

    private static VectorSpecies<Float> floatSpecies() {
        String bits = System.getProperty("slm4j.vectorBits", "").strip();
        VectorSpecies<Float> f = switch (bits) {
            case "" -> FloatVector.SPECIES_PREFERRED;
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("-Dslm4j.vectorBits=" + bits + ": expected 128, 256 or 512");
        };
        if (f.vectorBitSize() < 128) {
            throw new UnsupportedOperationException(f.vectorBitSize() + "-bit vectors are too narrow for slm4j's SIMD kernels");
        }
        return f;
    }

    @Override
    float dot(Matrix w, long row, Activations in, int b) {
        MemorySegment s = w.data();
        int n = w.cols(), x = b * n;
        return switch (w.type()) {
            case F32 -> f32(s, row, in.f, x, n);
            case BF16 -> bf16(s, row, in.f, x, n);
            // one input: BlockGroups (see rows); a batch: Gemm
            case F16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K -> throw new AssertionError(w.type() + " has no per-row dot here");
            case Q4_1 -> q4_1(s, row, in, x, n);
            case Q5_0 -> Q5Dots.q5_0(s, row, in, x, n);
            case Q5_1 -> Q5Dots.q5_1(s, row, in, x, n);
            default -> throw new UnsupportedOperationException("no kernel for weight type " + w.type());
        };
    }

    /**
     * A short prompt, or a few sequences' steps at once, through the regrouped weights, each position as generation
     * computes it (RowKernels takes a block of rows past every position in turn, two positions per pass:
     * BlockGroups.rows2; the figures below are from before, one position after the other). Gemm
     * decodes a whole matrix per call and fills tiles of 32 or 64 positions, which cost a TinyLlama Q4_0 forward pass
     * about 300 ms at any batch size up to 32, where reading the regrouped weights costs about 14 ms per position
     * (Q8_0 21, F16 44). Forward passes of B positions, medians of later passes in one JVM, Gemm vs by position:
     * Q4_0 B = 2 370 vs 50 ms, 8 400 vs 115, 16 370 vs 220; F16 B = 8 510 vs 350, 16 510 vs 620. Where the two meet,
     * TinyLlama's prompt tok/s from {@code slm4j bench -p B -n 0}, medians of 3 rounds taking turns, Gemm vs by
     * position: Q4_0 B = 24 61 vs 68, 28 71 vs 72, 48 81 vs 73; Q8_0 B = 20 43 vs 48, 24 52 vs 49; Q4_K (every
     * matrix, llama-quantize --pure) B = 28 60 vs 60, 36 54 vs 54. Q5_K and Q6_K run Gemm's float tiles; since their
     * rows are decoded L elements at a time (it had been element by element, and Gemm lost up to 48 and 64 positions),
     * they meet at about 3L / 2 positions: Q6_K (--pure) AVX-512 B = 16 44.0 vs 30.5, 20 43.2 vs 37.7, 24 44.7 vs
     * 46.2, 32 44.3 vs 60.0; AVX2 B = 12 34.1 vs 35.1, 16 36.9 vs 41.7; Q5_K_M AVX-512 B = 16 42.0 vs 32.9, 24 42.3
     * vs 46.2, 32 43.7 vs 62.9; AVX2 B = 12 27.9 vs 27.2 (medians of 3, by position vs Gemm, 2026-11-26).
     * It also computes what generation computes, position by position, and a process's first prompt need not wait
     * for Gemm's code to be compiled as well as generation's. Since Gemm reads Q8_0 rows from generation's copy
     * (BlockGroups.q8Floats; it had faulted the file's pages back in on every call), Q8_0 meets it sooner, where the
     * tiles' lanes are mostly filled: AVX2 (tiles of 16 positions) B = 8 32 vs 27 tok/s, 12 39 vs 43, 16 44 vs 48;
     * AVX-512 (32) B = 12 47 vs 26, 20 48 vs 45 (medians of 3, by position vs Gemm, 2026-11-26). Where Q4_0 and
     * Q4_K take two positions per pass, they go by position up to 56 positions, where Gemm's tiles are nearly full
     * (on AVX-512 a pair of 2L, on AVX2 two pairs): TinyLlama, `slm4j bench -p B -n 4 -r 8`, medians of 3 rounds
     * taking turns, by position vs Gemm: AVX-512 Q4_0 B = 32 96.1 vs 83.1, 48 97.9 vs 83.4, 56 99.1 vs 99.7, 64
     * 91.8 vs 110.3; Q4_K (--pure) B = 32 86.1 vs 72.9, 48 86.8 vs 77.1, 56 82.5 vs 77.7; AVX2 (-n 0) Q4_0 B = 32 89.2
     * vs 79.6, 40 87.8 vs 73.8, 48 89.6 vs 88.8, 56 89.8 vs 89.5, 64 89.7 vs 98.3; Q4_K_M B = 32 73.3 vs 64.6, 40
     * 73.2 vs 58.3, 48 74.1 vs 70.8, 56 75.9 vs 71.7, 64 76.8 vs 82.3 (2026-11-26). At 128 bits nothing was measured:
     * 28 there, as before the two-position pass. Q6_K, two positions per pass (BlockGroups.q6K2) against Gemm's float
     * tiles, meets it at 7L/2 positions (--pure, `-n 0`, each run's median of 5-6, medians of 3 rounds taking turns,
     * 2026-11-26): AVX2 B = 24 49.1 vs 41.9, 32 49.1 vs 53.6, 40 49.9 vs 50.0, 48 48.5 vs 57.2; AVX-512 B = 24 59.5 vs
     * 45.6, 32 60.3 vs 59.8, 48 61.1 vs 53.5, 64 61.6 vs 70.0, 96 61.5 vs 74.7. So do Q5_K (BlockGroups.q5K2) and
     * Q8_0 (bytes2), which meet Gemm sooner (medians of 3 rounds taking turns, 2026-11-26, by position vs Gemm):
     * TinyLlama Q5_K_M AVX2 B = 8 35.3 vs 20.8, 12 31.6 vs 29.5, 16 37.5 vs 41.9; AVX-512 B = 24 55.3 vs 42.3, 32
     * 54.8 vs 56.4; Q8_0 AVX2 B = 8 48.7 vs 23.4, 12 43.3 vs 32.8, 16 37.9 vs 46.0, 20 39.4 vs 32.8; AVX-512 B = 16
     * 60.2 vs 38.2, 24 58.2 vs 55.4, 32 61.8 vs 75.0. At 128 bits the limits stay as before.
     */
    @Override
    boolean byPosition(Matrix w, int batch) {
        GgmlType type = w.type();
        if (!smallBatchesByPosition || !BlockGroups.regroups(type) || type == GgmlType.F16) return false;
        return switch (type) {
            case Q8_0 -> batch <= (L >= 8 ? 3 * L / 2 : 5 * L / 4);     // two positions per pass: AVX2 12, AVX-512 24
            case Q5_K -> batch <= (L >= 8 ? 7 * L / 4 : 3 * L / 2 - 1);     // two positions per pass: AVX2 14, AVX-512 28
            case Q6_K -> batch <= (L >= 8 ? 7 * L / 2 : 3 * L / 2 - 1);     // two positions per pass: AVX2 28, AVX-512 56
            // two positions per pass until Gemm's tiles are nearly full (see above); the copy is asked for only
            // then, so a long prompt's matmul does not make it before generation needs it
            default -> batch <= 28 || L >= 8 && batch <= 56 && w.groups().twoInputs();
        };
    }

    /**
     * F16 batches up to this many are multiplied in one pass over the weights' heap copy, four positions per widened
     * weight vector (BlockGroups.f16x4); larger ones go to Gemm, which is faster once a tile of 2L positions is
     * filled. TinyLlama F16 prompt tok/s (`slm4j bench -p B -n 0 -r 10`, medians of 3-5 runs taking turns), f16x4 vs
     * Gemm: AVX2 B = 12 48.6 vs 40.9, 16 49.9 vs 57.5 (each of 5 pairs Gemm's); AVX-512 (tiles of 32) B = 16 39.6 vs
     * 37.8, 24 47.2 vs 57.8 (2026-11-26).
     */
    static final int F16_BATCH = Math.min(16, 2 * L - 1);

    /** A batch of two or more inputs of a type {@link Gemm} handles goes there: a blocked multiply. */
    @Override
    boolean batched(Matrix w, Activations in, int batch, float[] out) {
        if (!Gemm.supports(w.type())) return false;
        if (w.type() == GgmlType.F16 && smallBatchesByPosition && batch <= F16_BATCH) return false;     // to rows: BlockGroups.f16x4
        // Gemm reads F16 and Q8_0 rows from generation's copy (on every thread), the other types from the file
        boolean fromCopy = w.type() == GgmlType.F16 || w.type() == GgmlType.Q8_0;
        if (fromCopy) w.groups();
        Gemm.multiply(w, in, batch, out);
        // generation reads the other regrouped types from their copy: the prompt's pass need not keep the file's pages
        if (BlockGroups.regroups(w.type()) && !fromCopy) w.releasePages();
        return true;
    }

    /**
     * Regrouped types (one input; F16 a batch up to {@link #F16_BATCH}) go straight to their rows: no byte offset to
     * divide back into a row per dot.
     */
    @Override
    void rows(Matrix w, int r0, int r1, Activations in, int batch, float[] out) {
        if (!BlockGroups.regroups(w.type()) || batch != 1 && w.type() != GgmlType.F16) {
            super.rows(w, r0, r1, in, batch, out);
            return;
        }
        BlockGroups groups = w.groups();
        if (groups.reference()) {
            for (int r = r0; r < r1; r++) out[r] = ScalarKernels.INSTANCE.dot(w, r * w.rowBytes(), in, 0);
        } else {
            groups.rows(r0, r1, in, batch, out);
        }
    }

    /** Q4_0, Q8_0 and the K-quants (see BlockGroups.twoInputs) take both inputs in one pass: each weight load serves both. */
    @Override
    void rows2(Matrix w, int r0, int r1, Activations a, Activations b, float[] outA, float[] outB) {
        if (BlockGroups.regroups(w.type()) && w.groups().twoInputs()) w.groups().rows2(r0, r1, a, b, outA, outB);
        else super.rows2(w, r0, r1, a, b, outA, outB);
    }

    /** Q4_0, Q8_0 and the K-quants regroup on their first matmul, here on the calling thread before the rows split. */
    @Override
    void prepare(Matrix w) {
        if (BlockGroups.regroups(w.type())) w.groups();
    }

    /**
     * One thread's decoded weight rows: floats (F16 values, or integers: the quants times any integer sub-block
     * scale) and per block of 32 the float scale; for Q4_1 and Q4_K also the min terms' integer weights and scales.
     */
    static final class Decoded {
        float[] w = new float[0];        // [rows * cols]
        float[] d = new float[0];        // [rows * cols / 32] block scales (quantized types)
        float[] m = new float[0];        // [rows * cols / 32] Q4_1: the block's min; Q4_K: the sub-block's 6-bit min
        float[] dm = new float[0];       // [rows * cols / 32] scale of m: Q4_1 1 per block, Q4_K -dmin per super-block
        byte[] qb = new byte[0];         // Q4_0, Q4_K: the quants (q - 8), by tile, pass, row [rows * passes * KC]
        short[] q = new short[0];        // the same as shorts, which Gemm's 16-bit tile broadcasts (see widenQuants)
        float[] m8 = new float[0];       // [rows * cols / 32] Q4_K in 16 bits: 8 times the sub-block's 6-bit scale
        float[] dd = new float[0];       // [rows * cols / 32] Q4_K in 16 bits: d per super-block, the scale of m8
        byte[] raw = new byte[0];        // Q4_0, Q4_1, Q4_K, Q5_K, Q6_K: one row's bytes, which the vector loads read (see rowBytes)
        boolean nonFinite;               // Q8_0: the matrix has an inf or NaN block scale (BlockGroups.q8Floats)

        Decoded fit(int rows, int cols, boolean shorts) {
            nonFinite = false;
            int size = rows * cols;
            if (d.length < size / QK) {
                d = new float[size / QK];
                m = new float[size / QK];
                dm = new float[size / QK];
            }
            if (shorts) {
                if (q.length < size) {
                    q = new short[size];
                    qb = new byte[size];
                }
                if (m8.length < size / QK) {
                    m8 = new float[size / QK];
                    dd = new float[size / QK];
                }
            } else if (w.length < size) {
                w = new float[size];
            }
            return this;
        }
    }

    /**
     * Row r of w into dec at wo (F16 and Q8_0 from generation's copy, in its order, see BlockGroups.f16Floats and
     * q8Floats), and for quantized types the block scales at wo / 32, exact integers times a scale
     * per block of 32 (Q4_0 and Q4_K: see decodeNibbles; Q8_0: the quants times their scale, exact floats, no
     * scales): Q4_1 nibbles with their min at wo / 32; Q6_K (q - 32) times the int8 sub-block scale. A method per block
     * format: in one, C2 spent its inlining budget on the formats it compiled first and left the Vector API calls of
     * the others out of line, boxing every vector (a process that decoded all formats: 70-240 KB per matmul).
     */
    static void decode(Matrix w, int r, Decoded dec, int wo) {
        MemorySegment s = w.data();
        int n = w.cols();
        long row = r * w.rowBytes();
        switch (w.type()) {
            case F32 -> MemorySegment.copy(s, Blocks.FLOAT, row, dec.w, wo, n);
            case F16 -> w.groups().f16Floats(r, dec.w, wo);
            case BF16 -> {
                for (int i = 0; i < n; i++) dec.w[wo + i] = HalfFloats.bf16ToFloat(s.get(Blocks.SHORT, row + 2L * i));
            }
            case Q8_0 -> dec.nonFinite |= w.groups().q8Floats(r, dec.w, wo);
            case Q4_1 -> decodeQ4_1(s, row, n, dec, wo);      // Q4_0 and Q4_K have decodeNibbles
            case Q6_K -> decodeQ6K(s, row, n, dec, wo);
            case Q5_0, Q5_1, Q5_K -> Q5Dots.decode(w, r, dec, wo);
            default -> throw new AssertionError(w.type());
        }
    }

    /**
     * The row's bytes at {@code row} (of {@code bytes}) copied to dec.raw, which the decoders read: their vector loads
     * and their scales. A segment access is many nodes to C2 (bounds, liveness, one inlined path per segment class
     * seen), and a decoder that C2 inlined into Gemm's loop with them ran past its node budget (NodeCountInliningCutoff)
     * in some test runs: it stopped inlining inside a vector operation, whose generic fallback then allocated 160
     * bytes per load (KernelAllocationTest, Q4_0 and Q4_K batch 5; JFR allocation stacks in ByteVector.lanewiseTemplate).
     */
    static byte[] rowBytes(MemorySegment s, long row, int bytes, Decoded dec) {
        if (dec.raw.length < bytes) dec.raw = new byte[bytes];
        MemorySegment.copy(s, JAVA_BYTE, row, dec.raw, 0, bytes);
        return dec.raw;
    }

    private static void decodeQ4_1(MemorySegment s, long row, int n, Decoded dec, int wo) {
        byte[] raw = rowBytes(s, row, 20 * (n / QK), dec);
        for (int k = 0; k < n / QK; k++) {
            int b = wo / QK + k;
            dec.d[b] = f16(raw, 20 * k);
            dec.m[b] = f16(raw, 20 * k + 2);
            dec.dm[b] = 1;
            for (int i = 0; i < 16; i += BYTES) {
                ByteVector q = ByteVector.fromArray(B, raw, 20 * k + 4 + i);
                for (int p = 0; p < PARTS; p++) {
                    IntVector v = widen(q, p);
                    int e = wo + QK * k + i + p * L;
                    floats(v.and(0xF)).intoArray(dec.w, e);
                    floats(v.lanewise(LSHR, 4)).intoArray(dec.w, e + 16);
                }
            }
        }
    }

    /**
     * Q6_K for Gemm, L elements at a time from the row's bytes (Q5Dots.decode does Q5_K so): element by element from
     * the mapping, the decode was as slow as the tiles it fed for short prompts. TinyLlama, AVX-512, `slm4j bench -p 64
     * -n 0 -r 10`, medians of 3 runs taking turns: Q6_K 46.6 -> 71.1 tok/s, Q4_K_M 87.0 -> 95.3; with Q5_K's decode
     * too, Q5_K_M `-p 128` 51.0 -> 78.7 (2026-11-26).
     */
    private static void decodeQ6K(MemorySegment s, long row, int n, Decoded dec, int wo) {
        byte[] raw = rowBytes(s, row, 210 * (n / QK_K), dec);
        for (int k = 0; k < n / QK_K; k++) {
            int block = 210 * k;
            float d = f16(raw, block + Blocks.Q6K_D);
            for (int b = 0; b < 8; b++) dec.d[wo / QK + 8 * k + b] = d;
            for (int half = 0; half < 2; half++) {
                int ql = block + 64 * half, qh = block + Blocks.Q6K_QH + 32 * half, sc = block + Blocks.Q6K_SCALES + 8 * half;
                int e = wo + QK_K * k + 128 * half;
                // element l of each quarter of the half: the low nibbles of ql[l] and ql[32 + l], then their high ones,
                // each with 2 bits of qh[l]; sub-blocks of 16 share a scale
                for (int l = 0; l < 32; l += L) {
                    int sub = l / 16;
                    float s0 = raw[sc + sub], s1 = raw[sc + 2 + sub], s2 = raw[sc + 4 + sub], s3 = raw[sc + 6 + sub];
                    // written out, no helper taking or returning a vector: one left out of line boxed (see the class's note)
                    ByteVector ba = BYTES == L ? ByteVector.fromArray(B, raw, ql + l) : ByteVector.fromArray(B, raw, ql + l, FIRST_L);
                    ByteVector bc = BYTES == L ? ByteVector.fromArray(B, raw, ql + 32 + l) : ByteVector.fromArray(B, raw, ql + 32 + l, FIRST_L);
                    ByteVector bh = BYTES == L ? ByteVector.fromArray(B, raw, qh + l) : ByteVector.fromArray(B, raw, qh + l, FIRST_L);
                    IntVector a = (IntVector) ba.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector c = (IntVector) bc.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector h = (IntVector) bh.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector q0 = a.and(0xF).or(h.and(3).lanewise(LSHL, 4)), q1 = c.and(0xF).or(h.and(0xC).lanewise(LSHL, 2));
                    IntVector q2 = a.lanewise(LSHR, 4).or(h.and(0x30)), q3 = c.lanewise(LSHR, 4).or(h.lanewise(LSHR, 2).and(0x30));
                    ((FloatVector) q0.sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(s0).intoArray(dec.w, e + l);
                    ((FloatVector) q1.sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(s1).intoArray(dec.w, e + 32 + l);
                    ((FloatVector) q2.sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(s2).intoArray(dec.w, e + 64 + l);
                    ((FloatVector) q3.sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(s3).intoArray(dec.w, e + 96 + l);
                }
            }
        }
    }

    /**
     * Q4_0 or Q4_K row r of w as quants (q - 8), bytes, into dec.qb, element i at qo + (i / kc) * slab + i % kc (kc a
     * multiple of 32), and its block scales into dec.d at db: Q4_0 d, Q4_K d * scale (exact). Q4_K's other terms,
     * each block's 6-bit min and 8 * scale (the 8 taken off the quants), go to dec.m and dec.m8 at db, with their
     * super-block's -dmin and d in dec.dm and dec.dd at db / 8.
     */
    static void decodeNibbles(Matrix w, int r, Decoded dec, int db, int qo, int kc, int slab) {
        MemorySegment s = w.data();
        long row = r * w.rowBytes();
        if (w.type() == GgmlType.Q4_K) {
            decodeNibblesQ4K(s, row, w.cols(), dec, db, qo, kc, slab);
            return;
        }
        byte[] raw = rowBytes(s, row, 18 * (w.cols() / QK), dec);
        for (int k = 0; k < w.cols() / QK; k++) {
            dec.d[db + k] = f16(raw, 18 * k);
            int o = qo + QK * k / kc * slab + QK * k % kc;
            nibbles(raw, 18 * k + 2, 16, dec.qb, o);
        }
    }

    private static void decodeNibblesQ4K(MemorySegment s, long row, int n, Decoded dec, int db, int qo, int kc, int slab) {
        byte[] raw = rowBytes(s, row, 144 * (n / QK_K), dec);
        for (int k = 0; k < n / QK_K; k++) {
            int block = 144 * k;
            float d = f16(raw, block);
            dec.dm[db / 8 + k] = -f16(raw, block + 2);
            dec.dd[db / 8 + k] = d;
            for (int c = 0; c < 4; c++) {    // 32 bytes: sub-block 2c in low nibbles, 2c + 1 in high ones
                for (int j = 2 * c; j < 2 * c + 2; j++) {
                    int sm = Blocks.q4kScaleMin(raw, block + Blocks.Q4K_SCALES, j), b = db + 8 * k + j;
                    dec.d[b] = d * (sm & 0xFF);
                    dec.m[b] = sm >>> 8;
                    dec.m8[b] = 8 * (sm & 0xFF);
                }
                int e = QK_K * k + 64 * c, o = qo + e / kc * slab + e % kc;
                nibbles(raw, block + Blocks.Q4K_QS + 32 * c, 32, dec.qb, o);
            }
        }
    }

    /**
     * The n nibble bytes at raw[qs] as quants q - 8: the low nibbles to qb[o, o + n), the high ones to qb[o + n, o + 2n)
     * (Q4_0's block, n = 16; Q4_K's pair of sub-blocks, n = 32). Arrays in and out, no vector across the call.
     */
    private static void nibbles(byte[] raw, int qs, int n, byte[] qb, int o) {
        for (int i = 0; i < n; i += BYTES) {
            ByteVector q = ByteVector.fromArray(B, raw, qs + i);
            q.and((byte) 0xF).sub((byte) 8).intoArray(qb, o + i);
            q.lanewise(LSHR, 4).sub((byte) 8).intoArray(qb, o + n + i);
        }
    }

    /**
     * dec.qb[0 .. n) as shorts into dec.q (n a multiple of 2L), for Gemm's tile, which broadcasts one weight per row
     * and step: from a short in memory that is one instruction (broadcasting bytes made TinyLlama Q4_0 prompts 15 %
     * slower). The bytes are loaded 2L at a time, so that the conversion gives a vector of {@link #SHORTS} (see the
     * class's note on shapes).
     */
    static void widenQuants(Decoded dec, int n) {
        for (int i = 0; i < n; i += 2 * L) {
            ((ShortVector) ByteVector.fromArray(BYTES_2L, dec.qb, i).convertShape(VectorOperators.B2S, SHORTS, 0)).intoArray(dec.q, i);
        }
    }

    /** max |x[o .. o + n)|, n a multiple of the vector length; NaN when one is NaN, as with Math.max. */
    static float absMax(float[] x, int o, int n) {
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) m = FloatVector.fromArray(F, x, o + i).abs().max(m);
        return m.reduceLanes(VectorOperators.MAX);
    }

    /**
     * Activations' grouping of one group of e-quant blocks for Q5_K and Q6_K, 2L blocks, quant i of block b at
     * t[i * 2L + b] (padding blocks zero): quant i to xs at o + i * 2L + BlockGroups.laneOf(b), so that blocks b and
     * b + L share an int lane; the block's quant sum to sums at so + b and 8 times it to sums8 at so + laneOf(b).
     * Each quant of L blocks is one load, the two loads' ints put together in one vector by a mask and a shift.
     */
    static void groupBlocks(float[] t, int e, short[] xs, int o, float[] sums, short[] sums8, int so) {
        FloatVector sum0 = FloatVector.zero(F), sum1 = sum0;
        for (int i = 0; i < e; i++) {
            FloatVector v0 = FloatVector.fromArray(F, t, i * 2 * L), v1 = FloatVector.fromArray(F, t, i * 2 * L + L);
            sum0 = v0.add(sum0);      // at most 32 quants of at most 128: exact
            sum1 = v1.add(sum1);
            IntVector q0 = (IntVector) v0.convertShape(VectorOperators.F2I, I, 0), q1 = (IntVector) v1.convertShape(VectorOperators.F2I, I, 0);
            q0.and(0xFFFF).or(q1.lanewise(LSHL, 16)).reinterpretAsShorts().intoArray(xs, o + i * 2 * L);
        }
        sum0.intoArray(sums, so);
        sum1.intoArray(sums, so + L);
        IntVector s0 = (IntVector) sum0.mul(8f).convertShape(VectorOperators.F2I, I, 0), s1 = (IntVector) sum1.mul(8f).convertShape(VectorOperators.F2I, I, 0);
        s0.and(0xFFFF).or(s1.lanewise(LSHL, 16)).reinterpretAsShorts().intoArray(sums8, so);
    }

    /**
     * {@link #groupBlocks} for Q4_0 and Q4_K, L blocks (quant i of block j at t[i * L + j]), whose 2L lanes take each
     * block twice (lanes 2j and 2j + 1 block j, see BlockGroups.quadSums): one load per quant of the L blocks, its
     * value put in both halves of an int lane. The quant sums go to sums at so + j, one per block, and 8 times them to
     * sums8 at so + 2j and so + 2j + 1. A method of its own: groupBlocks taking a flag for twins gave TinyLlama
     * Q4_K_M 16-position prompts on two threads 57-68 tok/s from run to run where the two methods give 64-67 (four
     * rounds taking turns).
     */
    static void groupTwins(float[] t, int e, short[] xs, int o, float[] sums, short[] sums8, int so) {
        FloatVector sum = FloatVector.zero(F);
        for (int i = 0; i < e; i++) {
            FloatVector v = FloatVector.fromArray(F, t, i * L);
            sum = v.add(sum);         // at most 32 quants of at most 128: exact
            IntVector q = (IntVector) v.convertShape(VectorOperators.F2I, I, 0);
            q.and(0xFFFF).or(q.lanewise(LSHL, 16)).reinterpretAsShorts().intoArray(xs, o + i * 2 * L);
        }
        sum.intoArray(sums, so);
        IntVector s8 = (IntVector) sum.mul(8f).convertShape(VectorOperators.F2I, I, 0);
        s8.and(0xFFFF).or(s8.lanewise(LSHL, 16)).reinterpretAsShorts().intoArray(sums8, so);
    }

    private static final float ROUNDER = 0x1.8p23f;   // v + 1.5 * 2^23 - 1.5 * 2^23 is rint(v) for |v| < 2^22

    /**
     * qf[o + i] = min(127, max(-128, rint(x[o + i] * id))) for i &lt; n (a multiple of the vector length), NaN as 0,
     * as Activations' plain loop stores them, and the same as bytes in q; returns their sum. The quants are at most
     * 128 in magnitude, so the float sum is exact.
     */
    static int quantize(float[] x, int o, int n, float id, float[] qf, byte[] q) {
        FloatVector sum = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            FloatVector r = FloatVector.fromArray(F, x, o + i).mul(id).add(ROUNDER).sub(ROUNDER).max(-128f).min(127f);
            r = r.blend(0f, r.test(VectorOperators.IS_NAN));
            r.intoArray(qf, o + i);
            if (BYTES == L) ((ByteVector) r.convertShape(VectorOperators.F2B, B, 0)).intoArray(q, o + i);
            else for (int j = 0; j < L; j++) q[o + i + j] = (byte) qf[o + i + j];
            sum = r.add(sum);
        }
        return (int) sum.reduceLanes(ADD);
    }

    /**
     * The index of the first of x[o, o + n) (n a multiple of the vector length) of largest magnitude, NaN skipped, or
     * -1 if none is nonzero: Q8_K's scale element. A token's input is quantized on the calling thread while the
     * others wait: JMH, a 512 x 2048 Q4_K matmul of one input in cache, one thread, 35.0 -> 31.9 us (medians of 5
     * rounds taking turns) with this and {@link #quantize} in place of the plain loops.
     */
    static int firstLargest(float[] x, int o, int n) {
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, o + i).abs();
            m = a.blend(0f, a.test(VectorOperators.IS_NAN)).max(m);
        }
        float amax = m.reduceLanes(VectorOperators.MAX);
        for (int i = 0; amax != 0 && i < n; i += L) {
            int lane = FloatVector.fromArray(F, x, o + i).abs().compare(VectorOperators.EQ, amax).firstTrue();
            if (lane < L) return o + i + lane;
        }
        return -1;
    }

    /** {@link Floats#siluMul} over whole vectors from {@code from}; returns the first element it left. */
    static int arraySiluMul(float[] a, float[] b, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector g = FloatVector.fromArray(F, a, i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, b, i)).intoArray(a, i);
        }
        return i;
    }

    /** {@link Floats#addScaled}. */
    static void arrayAddScaled(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(va, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /**
     * Four accumulators: one FMA chain would wait on its own latency. The loads are written out, not in a helper:
     * C2 left a helper out of line at the tail loop's cold call site, and there every vector it returned was boxed.
     */
    private static float f32(MemorySegment s, long row, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            long at = row + 4L * i;
            a0 = FloatVector.fromMemorySegment(F, s, at, LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = FloatVector.fromMemorySegment(F, s, at + 4L * L, LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xo + i + L), a1);
            a2 = FloatVector.fromMemorySegment(F, s, at + 8L * L, LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xo + i + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, s, at + 12L * L, LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xo + i + 3 * L), a3);
        }
        for (; i <= n - L; i += L) {
            a0 = FloatVector.fromMemorySegment(F, s, row + 4L * i, LITTLE_ENDIAN).fma(FloatVector.fromArray(F, x, xo + i), a0);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(ADD);
        for (; i < n; i++) sum += s.get(Blocks.FLOAT, row + 4L * i) * x[xo + i];
        return sum;
    }

    /** BF16 weights, widened to floats in registers (a BF16 is the top half of a float); x is already rounded to BF16. */
    private static float bf16(MemorySegment s, long row, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            a0 = bf16s(s, row + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = bf16s(s, row + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
        }
        for (; i <= n - L; i += L) a0 = bf16s(s, row + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
        float sum = a0.add(a1).reduceLanes(ADD);
        for (; i < n; i++) sum += HalfFloats.bf16ToFloat(s.get(Blocks.SHORT, row + 2L * i)) * x[xo + i];
        return sum;
    }

    /** L BF16 values at {@code offset} as floats. */
    private static FloatVector bf16s(MemorySegment s, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, offset, LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(LSHL, 16).reinterpretAsFloats();
    }

    /**
     * Q4_1: nibble times the input's quants, plus m_w * s_x per block; lane sums as for Q8_0 (at most 32 products of
     * 15 by 127: exact). Split as ints, since x86 has no byte shifts. (Q4_0 has a layout of its own,
     * {@link BlockGroups}.) Written out here: as a helper returning a block's lane sums, it was once compiled on its
     * own first, and each sum crossing the call was boxed.
     */
    private static float q4_1(MemorySegment s, long row, Activations in, int x, int n) {
        float[] qf = in.qf, d = in.d, sums = in.s;
        int xb = x / QK;
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int k = 0; k < n / QK; k++) {
            long block = row + 20L * k;
            int xk = x + QK * k;
            FloatVector dot = FloatVector.zero(F);
            for (int i = 0; i < 16; i += BYTES) {     // low nibbles are elements i.., high ones 16 + i..
                ByteVector q = ByteVector.fromMemorySegment(B, s, block + 4 + i, LITTLE_ENDIAN);
                IntVector v = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                dot = ((FloatVector) v.and(0xF).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, qf, xk + i), dot);
                dot = ((FloatVector) v.lanewise(LSHR, 4).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, qf, xk + 16 + i), dot);
                if (PARTS == 2) {
                    IntVector u = (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 1);
                    dot = ((FloatVector) u.and(0xF).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, qf, xk + i + L), dot);
                    dot = ((FloatVector) u.lanewise(LSHR, 4).convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.fromArray(F, qf, xk + 16 + i + L), dot);
                }
            }
            acc = dot.fma(FloatVector.broadcast(F, f16(s, block) * d[xb + k]), acc);
            mins += f16(s, block + 2) * sums[xb + k];
        }
        return acc.reduceLanes(ADD) + mins;
    }

    static FloatVector floats(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, F, 0);
    }

    /** L unsigned bytes of a at offset as ints, loaded as {@link #uint8s(MemorySegment, long)} does. */
    static IntVector uint8s(byte[] a, int offset) {
        ByteVector q = BYTES == L ? ByteVector.fromArray(B, a, offset) : ByteVector.fromArray(B, a, offset, FIRST_L);
        return widen(q, 0);
    }

    /** L unsigned bytes at offset as ints (128-bit vectors: a masked 8-byte load, which never reads past the weights). */
    static IntVector uint8s(MemorySegment s, long offset) {
        ByteVector q = BYTES == L ? ByteVector.fromMemorySegment(B, s, offset, LITTLE_ENDIAN)
                : ByteVector.fromMemorySegment(B, s, offset, LITTLE_ENDIAN, FIRST_L);
        return widen(q, 0);
    }

    /** L signed bytes of a at offset as floats, loaded as {@link #uint8s(byte[], int)} does. */
    static FloatVector int8s(byte[] a, int offset) {
        ByteVector q = BYTES == L ? ByteVector.fromArray(B, a, offset) : ByteVector.fromArray(B, a, offset, FIRST_L);
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
    }

    /** Part p (L lanes) of the unsigned bytes q, as ints (any byte species). */
    private static IntVector widen(ByteVector q, int p) {
        return (IntVector) q.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
    }
}
