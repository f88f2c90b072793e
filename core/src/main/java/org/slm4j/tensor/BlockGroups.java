package org.slm4j.tensor;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.B2S;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.OR;
import static jdk.incubator.vector.VectorOperators.S2I;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static org.slm4j.tensor.VectorKernels.F;
import static org.slm4j.tensor.VectorKernels.I;
import static org.slm4j.tensor.VectorKernels.L;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A matrix copied to the Java heap for generation (F16: its rows as they are, in column panels, read faster from an
 * array than from the file's mapping). A Q4_0, Q8_0, Q4_K, Q5_K or Q6_K matrix is regrouped, as llama.cpp's CPU backend repacks Q4_0: each row's blocks in
 * groups, side by side, so that a vector lane follows one block: W = 2L (twice the float vector length) blocks for
 * the types whose block sums fit 16-bit lanes (Q5_K and Q6_K: lanes of 16, half a sub-block), L for Q8_0, and L
 * for Q4_0 and Q4_K, whose W 16-bit lanes take each block twice, in two sets of rows (see {@link #quadSums}).
 *
 * <p>In the file a block is a scale and its quants, and a dot product spends about as many vector operations on
 * scaling each block's lane sums as on its 32 products. Here byte i of the group's W blocks is one load: lane j sums
 * block j's products over the group's loads, and one multiply-add scales L blocks. All but Q8_0 sum
 * products in 16-bit lanes (exact, see {@link #quads} and {@link #q6K}), so one multiply and one add serve 2L
 * weights. One thread
 * then reads Q4_0 weights at 23 GB/s (12 from the file's layout, 18 with float lanes); two threads are bound by
 * memory for every type in the minutes when this machine's memory gives two threads about 45 GB/s (in others
 * it gives nearly twice that, and one core's streaming rate decides: see docs/PERFORMANCE.md). The input is
 * regrouped the same way once per matmul ({@link Activations}). Prompts
 * (batches) go through {@link Gemm} from the file's layout, whose pages are let go after each pass; F16 and Q8_0
 * ones from this copy ({@link #f16Floats}, {@link #q8Floats}), and small F16 batches through {@link #rows} four
 * inputs at a time.
 *
 * <pre>
 * group g of row r, n = unitGroup(r, g, ..): rows one after the other, or panel by panel (see panelGroups);
 * G = Q6_GROUP, Q5_GROUP or Q8_GROUP bytes per group, each group one stream: its quants, then its scales:
 *   quants[n * G + i * W + j]    byte i of block g * W + b, j = laneOf(b)    (blocks past the row's end: zero)
 *                                Q6_K: bytes 0-7 the low 4 bits of elements i and i + 8, bytes 8-11 the high 2
 *                                bits of elements i, i + 4, i + 8 and i + 12 (i = byte - 8), byte 12 the int8
 *                                scale; after the 13 W bytes, d per super-block (16 lanes) as floats
 *                                Q5_K: bytes 0-7 the low 4 bits of elements i and i + 8, byte 8 (9) the high bits
 *                                of elements 0-7 (8-15), element e at bit e % 8; at 10 W + 2j its 6-bit scale,
 *                                at 10 W + 2j + 1 its min; after the 12 W bytes d per super-block as floats, then -dmin
 *                                Q8_0: at n * Q8_GROUP + pairAt(0, i, j), bytes 2k and 2k + 1 side by side;
 *                                bytes 32 and 33 its d's f16 bits (little-endian) at n * Q8_GROUP + 32 * L + 2j
 *   quads[(u * 36 + i) * W + j]  Q4_0, Q4_K: element i of block (Q4_K: sub-block) g * L + j / 2 of the unit's
 *                                rows (sets) k + 4 * (j % 2), k = 0..3, set k's nibble at bit 4k, u =
 *                                unitGroup(r / 8, g, ..) (a last unit's missing rows: zeros); at i = 32 + k
 *                                the block's scale bits of sets k and k + 4: Q4_0 its d, the f16 bits (widened
 *                                once per group: memory is what generation waits on, and a float per block would
 *                                be 6-11 % more bytes), Q4_K its 6-bit scale | min &lt;&lt; 8. Then Q4_K's d and
 *                                -dmin per set k + 4h and super-block s (8 blocks) of the group, as floats, two
 *                                shorts each, d at float [n * K_DS + h * K_SUPERS + s] (n = 4u + k) past
 *                                K_FLOATS_AT, -dmin 2 * K_SUPERS further (see unitShorts). With the scale bits in
 *                                an array of their own, AVX2 TinyLlama Q4_0 generation on two threads took 40.0
 *                                instead of 45.4 tok/s (medians of 7): a second stream
 *   (Q4_0 and Q4_K rows of an odd number of half groups, to 4096 columns, go in pairs, see setRows: r is then the
 *   pair, block g * L + j / 2 of its two rows' blocks one after the other, and the pairs go in eights as rows do)
 * </pre>
 *
 * <p>The K-quants keep about the file's bytes (Q4_K 4.75, Q5_K 6, Q6_K 6.6 bits per weight against 4.5, 5.5 and
 * 6.56): generation reads every weight byte per token, and the floats per lane they had before (d * scale,
 * dmin * min; Q5_K's and Q6_K's quants as bytes) made them 6, 10 and 10 bits per weight. The scales are multiplied
 * out once per group, exact as before (an f16 times a 6- or 8-bit integer). JMH, 5632 x 2048, one input, two
 * threads: Q4_K 266 -> 232 us, Q5_K 538 -> 426 us, Q6_K 432 -> 324 us.
 *
 * <p>One loop for Q4_0's and Q4_K's quads ({@link #quadSums}) and a scaling for each, one for Q8_0's bytes and one each for Q5_K's and Q6_K's blocks of 16; each type's scaling is a branch once per
 * group, not a helper returning a vector (see {@link VectorKernels} on those). Java arrays, not off-heap memory: C2 proves the array loads in range once per loop and unrolls it, which it
 * did not for the same loads from a memory segment (14 vs 17 GB/s).
 */
final class BlockGroups {
    private static final int W = 2 * L;    // lanes per group but Q8_0's: 16-bit lanes, a full vector of them
    private static final int F16_ROW_BLOCK = 64;  // F16 rows a batch's inputs pass over in turn: 128 KB of a panel
    private static final VectorSpecies<Short> S = VectorKernels.SHORTS;
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * W));
    // A block's f16 scale to float, which the Vector API lacks, written out in each loop (a helper boxes, see
    // VectorKernels), as f16 widens F16 weights: the half in an int lane's high 16 bits, shifted right 3 bits
    // arithmetically and masked, puts sign, exponent and mantissa in a float's places, which is the value times
    // 2^-112 (the bias difference), subnormals included; times 2^112 it is exact. Only a matrix with an inf or NaN
    // scale (nonFinite) needs the float's all-ones exponent put in where the half's is all ones: 4 operations
    // per 2L scales instead of 11 that checked every lane (a Q4_0 matmul on one thread, JMH: 3-4 % faster).
    private static final int PAIR_COLS = 4096;
    private static final int SUPERS = Math.max(1, W / 16);     // Q5_K, Q6_K: super-blocks (16 lanes) per group, at least one
    private static final int K_SUPERS = Math.max(1, L / 8);   // Q4_K: super-blocks (8 blocks) a group reaches into
    private static final int K_DS = 4 * K_SUPERS;  // Q4_K: per pair of sets and group: d, then -dmin, per set and super-block
    private static final int K_FLOATS_AT = 36 * W;  // Q4_K: where a unit's group's d and -dmin lie in quads (see unitShorts)
    private static final int Q8_GROUP = 34 * L;     // Q8_0: bytes per group in quants, its d bits after its 32 * L quants
    private static final int Q6_GROUP = 13 * W + 4 * SUPERS;    // Q6_K: its quants and scales, then d per super-block
    private static final int Q5_GROUP = 12 * W + 8 * SUPERS;    // Q5_K: its quants, scales and mins, then d, -dmin
    private static final VectorSpecies<Byte> BF = VectorSpecies.of(byte.class, F.vectorShape());    // 2W bytes
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    // Q4_K: a block's d (D) or -dmin (M), for a pass's set k (0) or k + 4 (1), from one load at the pass's K_DS
    // values (see quadsK)
    private static final VectorShuffle<Float> D0 = shuffle(0, 0), D1 = shuffle(1, 0), M0 = shuffle(0, 1), M1 = shuffle(1, 1);
    // a pair's middle group: the lanes of its second rows' first blocks (see secondRow)
    private static final VectorMask<Float> SECOND_HALF = VectorMask.fromLong(F, (1L << L) - (1L << L / 2)), FIRST_HALF = SECOND_HALF.not();
    // lastRows' tree: lane i ^ 1, i + 2, i + 4 for lane i, and the lanes taken from the second vector (or, ODD, set k + 4's)
    private static final VectorShuffle<Float> ON1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorShuffle<Float> ON2 = VectorShuffle.fromOp(F, i -> (i + 2) % L), ON4 = VectorShuffle.fromOp(F, i -> (i + 4) % L);
    private static final VectorMask<Float> ODD = VectorMask.fromLong(F, 0xAAAAAAAAAAAAAAAAL);
    // lastRows: lane 2 * (j % 4) + j / 4 of its sums holds the unit's row j (on AVX-512 so does that lane + 8)
    private static final VectorShuffle<Float> ROW_ORDER = VectorShuffle.fromOp(F, j -> (2 * (j % 4) + j % 8 / 4) % L);
    private static final VectorShuffle<Float> ROW_ORDER_8 = VectorShuffle.fromOp(F, j -> (2 * (j % 4) + j % 8 / 4 + 8) % L);
    private static final VectorSpecies<Float> EIGHT = FloatVector.SPECIES_256;
    private static final VectorMask<Float> SECOND2 = VectorMask.fromLong(F, 0xCCCCCCCCCCCCCCCCL), SECOND4 = VectorMask.fromLong(F, 0xF0F0F0F0F0F0F0F0L);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<Scratch> SECOND = ThreadLocal.withInitial(Scratch::new);    // quads2's second input
    private static final int PANEL_INPUT = 6 * 1024;
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final GgmlType type;
    private final byte[] quants;
    private final short[] quads;           // Q4_0, Q4_K: four sets' nibbles of one element to a short, and the sets' scales
    private final int[] words;             // F16: a row's elements 2j and 2j + 1 in int j's low and high half (see f16)
    private final boolean nonFinite;       // F16: some weight is inf or NaN; Q4_0, Q8_0: some block's d
    private final int cols;
    private final int rows;                // the matrix's (F16: each panel's)
    private final int panel;               // F16: columns per panel (see f16Rows); the last one may be narrower
    private final int groups;              // per row pair or row: ceil(setRows * blocks / W); F16: none
    private final int setRows;             // rows laid out as one sequence of blocks (see setRows)
    private final int units;               // what one pass of a loop takes: eight sets (Q4_0, Q4_K), else a row
    private final int unitShorts;          // Q4_0, Q4_K: a unit's group in quads (see unitShorts)
    private final int panelGroups;         // groups per panel (see panelGroups)

    private BlockGroups(GgmlType type, byte[] quants, short[] quads, int[] words, boolean nonFinite,
                        int rows, int cols) {
        this.type = type;
        this.quants = quants;
        this.quads = quads;
        this.words = words;
        this.nonFinite = nonFinite;
        this.cols = cols;
        this.rows = rows;
        this.panel = panelWidth(cols);
        this.groups = type == GgmlType.F16 ? 0 : groupsFor(type, cols);
        this.setRows = type == GgmlType.F16 ? 1 : setRows(type, cols);
        this.units = type == GgmlType.F16 ? 0 : units(type, rows, cols);
        this.unitShorts = unitShorts(type);
        this.panelGroups = type == GgmlType.F16 ? 0 : panelGroups(type, cols);
    }

    /** Q4_0 and Q4_K: rows in 2L-wide groups of blocks of 32, which may go in pairs (see setRows). */
    private static boolean nibbleTypes(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q4_K;
    }

    /**
     * Q4_0, Q4_K: shorts per unit's group in quads: its 32 elements' quads and 4 passes' halves, and for Q4_K its
     * passes' d and -dmin (K_DS floats each); one stream, as generation reads them.
     */
    private static int unitShorts(GgmlType type) {
        return K_FLOATS_AT + (type == GgmlType.Q4_K ? 8 * K_DS : 0);
    }

    /** Q4_0, Q4_K: where pass k's halves lie in a unit's group in quads (see unitShorts). */
    private static int halvesAt(int k) {
        return (32 + k) * W;
    }

    /** Sets of rows a loop takes at a time: Q4_0 and Q4_K eight (see quads), the others one row. */
    private static int unitSets(GgmlType type) {
        return nibbleTypes(type) ? 8 : 1;
    }

    private static int units(GgmlType type, int rows, int cols) {
        int sets = (rows + setRows(type, cols) - 1) / setRows(type, cols);
        return (sets + unitSets(type) - 1) / unitSets(type);
    }

    /**
     * Groups per panel: a loop takes its rows through the first panel's groups, then the next panel's, so that the
     * input it reads for each row stays within PANEL_INPUT bytes and in L1 beside the streamed weights. Two
     * threads, 2560 rows from memory: Q4_0 6144 columns (12 KB of grouped input) 35 GB/s, 6912 (14 KB) 22 GB/s,
     * Q8_0 36 and 23 (Danube's FFN down has 6912). Rows past the limit are cut into panels of even size: 6912 in
     * two, Q4_0 493 -> 428 us and Q8_0 722 -> 598 us per matmul (alternating JMH runs, medians of 4; a panel of 8
     * KB also cut TinyLlama's 5632 and made it 10 % slower). That limit was 12 KB; on a later machine 6 KB is
     * faster (2026-11-25; JMH, two threads, 16 matrices from memory, medians of 3 rounds taking turns: Q4_0 2048 x
     * 5632 248 -> 203 us, Q8_0 360 -> 351, Q4_0 2560 x 6912 337 -> 321; TinyLlama Q4_0 generation on two threads
     * 43.4 -> 48.4 tok/s). Rows in pairs (setRows) are cut too, the first panel holding the middle group, where the
     * pair's first row ends (see quads): Q4_0 2560 x 3584, one thread 387 -> 266 us, two 213 -> 177; 2560 x 2560,
     * one thread 218 -> 198 us, two 134 -> 120 (JMH, 16 matrices, medians of 3 rounds taking turns, 2026-11-25;
     * Danube Q4_0 generation on two threads 28.1 -> 29.7 tok/s, llama.cpp 29.7). Padded rows instead were as fast
     * at 2560 columns and slower at 3584 (285 and 190 us). Those Q4_0 figures are from before its input took two
     * lanes per block (see quadSums), which halved the columns a panel holds; panels of 8 and 12 KB were then no
     * faster (AVX2 TinyLlama Q4_0 generation, two threads, medians of 5: 38.9, 43.4 and 41.4 tok/s for 6, 8 and 12
     * KB, within the runs' spread of 25-44).
     */
    static int panelGroups(GgmlType type, int cols) {
        int groups = groupsFor(type, cols);
        int most = Math.max(1, PANEL_INPUT / (2 * laneElements(type) * shortLanes(type))), panels = (groups + most - 1) / most;
        int even = (groups + panels - 1) / panels;
        return setRows(type, cols) == 2 ? Math.max(even, groups / 2 + 1) : even;
    }

    /**
     * Index of unit u's group g (n for a row, n / 8 for a unit of eight sets): panel by panel, in each panel its units one after
     * the other, each its groups of the panel.
     */
    private static int unitGroup(int u, int g, int units, int groups, int panel) {
        int p0 = g / panel * panel;
        return p0 * units + u * Math.min(panel, groups - p0) + g - p0;
    }

    /** Elements per lane: a block of 32, a Q4_K sub-block of 32, a Q6_K sub-block of 16, half a Q5_K sub-block. */
    static int laneElements(GgmlType type) {
        return type == GgmlType.Q6_K || type == GgmlType.Q5_K ? 16 : 32;
    }

    /**
     * Q4_K: lane i (block i) of a pass's set k (set 0) or k + 4 (1) takes, of a load at the pass's K_DS values (see
     * regroupQ4K), the set's d or, min 1, -dmin for its block's super-block.
     */
    private static VectorShuffle<Float> shuffle(int set, int min) {
        return VectorShuffle.fromOp(F, i -> (2 * min + set) * K_SUPERS + i / 8);
    }

    /** One thread's scratch: Q4_0's and Q4_K's eight sets' lane sums of a group and their float accumulators (see quads). */
    private static final class Scratch {
        final short[] dots = new short[4 * W];
        final float[] acc = new float[8 * L], first = new float[8], sums = new float[Math.max(8, L)];
        final float[] pairD = new float[2 * L];   // Q8_0 prompts: each block's d twice (see q8Floats)
    }

    /** Blocks per group: W for Q5_K and Q6_K, L for Q8_0 (sums in 32-bit lanes) and for Q4_0 and Q4_K (a block in two lanes). */
    static int blocksPerGroup(GgmlType type) {
        return type == GgmlType.Q5_K || type == GgmlType.Q6_K ? W : L;
    }

    /** 16-bit lanes of a group's input, per element: all but Q8_0's (L pairs) a vector's W. */
    static int shortLanes(GgmlType type) {
        return type == GgmlType.Q8_0 ? L : W;
    }

    /**
     * Rows whose blocks follow one another in one sequence of groups: 2 for Q4_0 and Q4_K rows of an odd number of
     * half groups (groups of L blocks: 384 or 640 columns on AVX2, 768 on AVX-512), so no group is half padding;
     * the pair's middle group holds the first row's last L / 2 blocks in its low lanes and the second row's first
     * L / 2 in its high lanes, which the loop sums into separate float vectors anyway. Else 1, the last group padded. Only up
     * to PAIR_COLS columns: a pair's grouped input is twice a row's, and past 16 KB it no longer sits in L1 beside
     * the streamed weights (one thread, 2048 rows: 2560 and 3584 columns 14 and 6 % faster in pairs, 4608 and 5632
     * columns 22 and 43 % slower). Pairs in panels (panelGroups) did not move that limit: the first panel holds half
     * the pair's groups, and Q4_0 2048 x 5632 in pairs still took 259 instead of 212 us on two threads, 439 instead
     * of 323 on one (JMH, 16 matrices, medians of 3 rounds taking turns, 2026-11-25).
     */
    static int setRows(GgmlType type, int cols) {
        return nibbleTypes(type) && cols / laneElements(type) % L == L / 2 && cols <= PAIR_COLS ? 2 : 1;
    }

    /** Groups per row (per pair of rows, see {@link #setRows}) of a matrix of type with cols columns. */
    static int groupsFor(GgmlType type, int cols) {
        return (setRows(type, cols) * (cols / laneElements(type)) + blocksPerGroup(type) - 1) / blocksPerGroup(type);
    }

    /**
     * F16 columns per panel: at most 1024. Whole rows of 5632 columns (an input of 22 KB, most of L1) read slowest,
     * so a wider matrix is cut into panels, each laid out as a matrix of its own, and a thread takes its rows through
     * one panel after the other. JMH, {@code bench/kernels.sh -p type=F16 -p batch=1}, 16 matrices from memory, µs
     * per matrix, medians of 3 rounds taking turns (2026-11-25): two threads, 5632 x 2048 792 (panels of 512) vs 598
     * (1024) vs 637 (whole rows); 2048 x 5632 846 vs 735 vs 1088, with 768 to 2048 columns all within 705-760; one
     * thread, 5632 x 2048 1158 vs 1007. Panels of 512 had been chosen on an earlier machine from one-thread runs
     * (rows up to 896 columns read 30-31 GB/s there, wider ones 22-25).
     */
    static int panelWidth(int cols) {
        return Math.min(cols, 1024);
    }

    static boolean regroups(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q8_0 || type == GgmlType.Q4_K || type == GgmlType.Q5_K
                || type == GgmlType.Q6_K || type == GgmlType.F16;
    }

    /**
     * The regrouped copy of w (a type {@link #regroups} takes), built on the pool's threads. A Q4_K lane is a sub-block of 32,
     * its nibbles rearranged as a Q4_0 block's (element i low, i + 16 high in byte i), its scale and min in 16 bits.
     */
    static BlockGroups of(Matrix w) {
        if (w.type() == GgmlType.F16) return f16Rows(w);
        int bytes = switch (w.type()) {
            // a group's bytes: its lanes' quants and scale bits, in one stream (Q4_0, Q4_K: per group of a unit of 8 sets)
            case Q4_0, Q4_K -> 2 * unitShorts(w.type()) / 8;
            case Q6_K -> Q6_GROUP;
            case Q5_K -> Q5_GROUP;
            case Q8_0 -> Q8_GROUP;
            default -> throw new IllegalArgumentException(w.name() + ": " + w.type() + " is not regrouped");
        };
        boolean k = w.type() == GgmlType.Q4_K, five = w.type() == GgmlType.Q5_K, six = w.type() == GgmlType.Q6_K;
        int groups = groupsFor(w.type(), w.cols()), blocks = w.cols() / laneElements(w.type());
        int width = blocksPerGroup(w.type()), pair = setRows(w.type(), w.cols()), sets = (w.rows() + pair - 1) / pair;
        int unitSets = unitSets(w.type()), unitRows = unitSets * pair;
        sets = (sets + unitSets - 1) / unitSets * unitSets;      // the last unit's missing sets: zeros
        int units = units(w.type(), w.rows(), w.cols()), panel = panelGroups(w.type(), w.cols());
        boolean q40 = w.type() == GgmlType.Q4_0, quad = nibbleTypes(w.type());
        if ((long) sets * groups * bytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(w.name() + ": " + w.rows() + " rows of " + w.cols() + " are too many to regroup");
        }
        byte[] quants;
        short[] quads;
        int unitCount = sets * groups;
        try {
            quants = new byte[quad ? 0 : unitCount * bytes];
            quads = new short[quad ? unitCount / 8 * unitShorts(w.type()) + W : 0];     // W: Q4_K's last scales load
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException(w.name() + ": no room in the Java heap (-Xmx) for its regrouped copy of "
                    + (long) unitCount * bytes / (1 << 20) + " MB; Q4_0, Q8_0 and"
                    + " K-quant weights are held on the heap for generation (bin/slm4j allows 75% of the machine's memory)", e);
        }
        MemorySegment in = w.data();
        long rowBytes = w.rowBytes();
        boolean[] nonFinite = new boolean[1];
        Layout at = new Layout(blocks, width, pair, groups, units, panel);
        // by unit: a Q4_0 short holds four sets' nibbles, so one thread writes all of a unit's
        Parallel.forRange(units, (u0, u1) -> {
            if (quad || w.type() == GgmlType.Q8_0) {
                Copy copy = new Copy(in, rowBytes, unitRows, w.type().blockBytes());
                int[] src = new int[4 * W], shift = new int[4 * W];
                for (int u = u0; u < u1; u++) {
                    copy.rows(u * unitRows, Math.min(w.rows(), (u + 1) * unitRows));
                    boolean bad = false;
                    if (k) regroupQ4K(u, at, copy, quads, src, shift);
                    else if (q40) bad = regroupQ40(u, at, copy, quads, src);
                    else bad = regroupQ80(u, at, copy, quants, src);
                    if (bad) nonFinite[0] = true;
                }
                return;
            }
            // Q5_K, Q6_K (a mixed file's few matrices): a lane at a time from the mapping, block b of a group in
            // lane laneOf(b) (see q6K)
            int[] q = new int[16];      // a lane's quants
            for (int r = u0 * unitRows; r < Math.min(w.rows(), u1 * unitRows); r++) {
                for (int b = 0; b < blocks; b++) {
                    int j = laneOf(b % width), n = unitGroup(r, b / width, units, groups, panel), super16 = b % width / 16;
                    if (six) {          // a sub-block of 16: 6-bit quants in 12 bytes, its scale; d per 16 lanes
                        int base = n * Q6_GROUP;
                        long block = r * rowBytes + 210L * (b / 16);
                        for (int i = 0; i < 16; i++) q[i] = Blocks.q6k(in, block, 16 * (b % 16) + i) + 32;
                        for (int i = 0; i < 8; i++) quants[base + i * width + j] = (byte) (q[i] & 0xF | (q[i + 8] & 0xF) << 4);
                        for (int i = 0; i < 4; i++) {
                            quants[base + (8 + i) * width + j] = (byte) (q[i] >> 4 | q[i + 4] >> 4 << 2 | q[i + 8] >> 4 << 4 | q[i + 12] >> 4 << 6);
                        }
                        quants[base + 12 * width + j] = in.get(JAVA_BYTE, block + Blocks.Q6K_SCALES + b % 16);
                        FLOAT.set(quants, base + 13 * width + 4 * super16, Blocks.f16(in, block + Blocks.Q6K_D));
                    } else if (five) {  // half a sub-block: 16 5-bit quants in 10 bytes, its scale and min; d, -dmin per 16 lanes
                        int base = n * Q5_GROUP;
                        long block = r * rowBytes + 176L * (b / 16);
                        for (int i = 0; i < 16; i++) q[i] = Blocks.q5k(in, block, 16 * (b % 16) + i);
                        for (int i = 0; i < 8; i++) quants[base + i * width + j] = (byte) (q[i] & 0xF | (q[i + 8] & 0xF) << 4);
                        for (int m = 0; m < 2; m++) {
                            int bits = 0;
                            for (int e = 0; e < 8; e++) bits |= q[8 * m + e] >> 4 << e;
                            quants[base + (8 + m) * width + j] = (byte) bits;
                        }
                        int scaleMin = Blocks.q4kScaleMin(in, block + Blocks.Q4K_SCALES, b % 16 / 2);
                        quants[base + 10 * width + 2 * j] = (byte) scaleMin;
                        quants[base + 10 * width + 2 * j + 1] = (byte) (scaleMin >> 8);
                        FLOAT.set(quants, base + 12 * width + 4 * super16, Blocks.f16(in, block));
                        FLOAT.set(quants, base + 12 * width + 4 * (SUPERS + super16), -Blocks.f16(in, block + 2));
                    }
                }
            }
        });
        return new BlockGroups(w.type(), quants, quads, new int[0], nonFinite[0], w.rows(), w.cols());
    }

    /** The groups' layout (see the class comment): a set's lanes, in groups of width, by unit and panel. */
    private record Layout(int blocks, int width, int pair, int groups, int units, int panel) {
        /** The row, of its unit's, that holds lane a of the unit's set m (of sets per unit); -1 past the set's end. */
        int row(int m, int a) {
            return a < pair * blocks ? m * pair + a / blocks : -1;
        }
    }

    /**
     * A unit's rows, copied from the file's mapping to an array, and a block of zeros after them that the lanes past a
     * set's or the matrix's end read. Regrouping read the mapping a byte at a time, writing each short four times
     * (once per set, or-ing its nibble in): TinyLlama Q4_0's layers took 1.0-1.7 s on two threads before the first
     * generated token, now 0.63-0.67 s (about half of it the kernel handing over fresh memory).
     */
    private static final class Copy {
        final byte[] bytes;
        final int zero;
        private final MemorySegment in;
        private final int rowBytes;
        private int held;

        Copy(MemorySegment in, long rowBytes, int unitRows, int zeroBytes) {
            this.in = in;
            this.rowBytes = (int) rowBytes;
            this.zero = unitRows * this.rowBytes;
            this.bytes = new byte[zero + zeroBytes];
        }

        /** Copies rows [r0, r1) of the matrix; the unit's rows past them read as zeros. */
        void rows(int r0, int r1) {
            held = r1 - r0;
            MemorySegment.copy(in, JAVA_BYTE, (long) r0 * rowBytes, bytes, 0, held * rowBytes);
            Arrays.fill(bytes, held * rowBytes, zero, (byte) 0);
        }

        /** Where byte {@code offset} of row r of the unit lies, or the zero block when r is -1 or not held. */
        int at(int r, int offset) {
            return r >= 0 && r < held ? r * rowBytes + offset : zero;
        }
    }

    /**
     * Q4_0: unit u's groups (see the class comment's quads), each short written once from its four sets'
     * nibbles, in the order they lie. True when some block's d is inf or NaN. src: 4W ints of scratch, set k's (of
     * lane j's four, k + 4 * (j % 2)) block of lane j at k * W + j.
     */
    private static boolean regroupQ40(int u, Layout at, Copy copy, short[] quads, int[] src) {
        byte[] b = copy.bytes;
        boolean nonFinite = false;
        for (int g = 0; g < at.groups(); g++) {
            int n = unitGroup(u, g, at.units(), at.groups(), at.panel()), base = n * unitShorts(GgmlType.Q4_0);
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < W; j++) {
                    int a = g * L + j / 2, o = copy.at(at.row(k + 4 * (j % 2), a), 18 * (a % at.blocks()));
                    short h = (short) (b[o] & 0xFF | b[o + 1] << 8);
                    quads[base + halvesAt(k) + j] = h;
                    if ((h & 0x7C00) == 0x7C00) nonFinite = true;
                    src[k * W + j] = o + 2;
                }
            }
            for (int i = 0; i < 16; i++) {      // byte i: element i in its low nibble, i + 16 in its high
                int lo = base + i * W, hi = lo + 16 * W;
                for (int j = 0; j < W; j++) {
                    int v0 = b[src[j] + i], v1 = b[src[W + j] + i], v2 = b[src[2 * W + j] + i], v3 = b[src[3 * W + j] + i];
                    quads[lo + j] = (short) (v0 & 0xF | (v1 & 0xF) << 4 | (v2 & 0xF) << 8 | (v3 & 0xF) << 12);
                    quads[hi + j] = (short) (v0 >> 4 & 0xF | v1 & 0xF0 | (v2 & 0xF0) << 4 | (v3 & 0xF0) << 8);
                }
            }
        }
        return nonFinite;
    }

    /**
     * Q4_K: unit u's groups as {@link #regroupQ40}'s, a lane a sub-block of 32 (its nibbles the low or high halves of
     * 32 bytes), its scale and min, and its super-block's d and -dmin, in the quads' stream. src, shift: 4 * width ints.
     * One loop for both types, Q4_0 reading each byte twice with a shift per lane and element, regrouped TinyLlama
     * Q4_0's layers in 1.0-1.5 s where regroupQ40 takes 0.55-0.75 (later regroups in one JVM, two threads, 3 rounds
     * taking turns).
     */
    private static void regroupQ4K(int u, Layout at, Copy copy, short[] quads, int[] src, int[] shift) {
        byte[] b = copy.bytes;
        for (int g = 0; g < at.groups(); g++) {
            int n = unitGroup(u, g, at.units(), at.groups(), at.panel()), base = n * unitShorts(GgmlType.Q4_K);
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < W; j++) {
                    int a = g * L + j / 2, sub = a % at.blocks() % 8, o = copy.at(at.row(k + 4 * (j % 2), a), 144 * (a % at.blocks() / 8));
                    int ds = base + K_FLOATS_AT + 2 * (k * K_DS + j % 2 * K_SUPERS + j / 2 / 8);
                    quads[base + halvesAt(k) + j] = (short) Blocks.q4kScaleMin(b, o + Blocks.Q4K_SCALES, sub);
                    putFloat(quads, ds, Blocks.f16(b, o));
                    putFloat(quads, ds + 4 * K_SUPERS, -Blocks.f16(b, o + 2));
                    src[k * W + j] = o + Blocks.Q4K_QS + 32 * (sub / 2);
                    shift[k * W + j] = 4 * (sub % 2);
                }
            }
            for (int e = 0; e < 32; e++) {
                int to = base + e * W;
                for (int j = 0; j < W; j++) {
                    int v0 = b[src[j] + e] >> shift[j] & 0xF, v1 = b[src[W + j] + e] >> shift[W + j] & 0xF;
                    int v2 = b[src[2 * W + j] + e] >> shift[2 * W + j] & 0xF, v3 = b[src[3 * W + j] + e] >> shift[3 * W + j] & 0xF;
                    quads[to + j] = (short) (v0 | v1 << 4 | v2 << 8 | v3 << 12);
                }
            }
        }
    }

    /** A float's bits in two shorts, as a short vector's load reinterpreted as floats reads them. */
    private static void putFloat(short[] a, int at, float f) {
        int bits = Float.floatToRawIntBits(f);
        a[at] = (short) bits;
        a[at + 1] = (short) (bits >>> 16);
    }

    /** Q8_0: row u's groups (see the class comment's quants), in the order they lie. src: width ints. */
    private static boolean regroupQ80(int u, Layout at, Copy copy, byte[] quants, int[] src) {
        int w = at.width();
        byte[] b = copy.bytes;
        boolean nonFinite = false;
        for (int g = 0; g < at.groups(); g++) {
            int n = unitGroup(u, g, at.units(), at.groups(), at.panel()), base = n * Q8_GROUP;
            for (int j = 0; j < w; j++) {
                int a = g * w + j, o = copy.at(at.row(0, a), 34 * (a % at.blocks()));
                quants[base + 32 * L + 2 * j] = b[o];
                quants[base + 32 * L + 2 * j + 1] = b[o + 1];
                if ((b[o + 1] & 0x7C) == 0x7C) nonFinite = true;
                src[j] = o + 2;
            }
            for (int i = 0; i < 32; i += 2) {
                int to = base + pairAt(0, i, 0);
                for (int j = 0; j < w; j++) {
                    quants[to + 2 * j] = b[src[j] + i];
                    quants[to + 2 * j + 1] = b[src[j] + i + 1];
                }
            }
        }
        return nonFinite;
    }

    /**
     * out[p * rows + r] = row r times grouped input p (see {@link Activations#prepare}), for rows [r0, r1) and p below
     * batch: 1, or for F16 up to {@link VectorKernels#F16_BATCH}.
     */
    void rows(int r0, int r1, Activations in, int batch, float[] out) {
        switch (type) {
            case Q4_0, Q4_K -> {
                Scratch s = SCRATCH.get();
                for (int g0 = 0; g0 < groups; g0 += panelGroups) {
                    int g1 = Math.min(groups, g0 + panelGroups);
                    for (int unit = r0 / setRows / 8; 8 * unit * setRows < r1; unit++) {
                        if (type == GgmlType.Q4_0) quads(unit, g0, g1, in, out, r0, r1, s);
                        else quadsK(unit, g0, g1, in, out, r0, r1, s);
                    }
                }
            }
            case F16 -> {
                // four inputs' panel (16 KB at 1024 columns) stays in L1 over a block of rows, which stays in L2
                // for the next four
                for (int c0 = 0; c0 < cols; c0 += panel) {
                    int width = Math.min(panel, cols - c0), stride = (width + 1) / 2, base = rows * (c0 / 2);
                    for (int rb = r0; rb < r1; rb += F16_ROW_BLOCK) {
                        int re = Math.min(r1, rb + F16_ROW_BLOCK), p = 0;
                        for (; p + 4 <= batch; p += 4) {
                            for (int r = rb; r < re; r++) f16x4(base + r * stride, c0, width, in, p, out, r);
                        }
                        for (; p < batch; p++) {
                            for (int r = rb; r < re; r++) {
                                float dot = f16(base + r * stride, c0, width, in, p * cols);
                                out[p * rows + r] = (c0 == 0 ? 0 : out[p * rows + r]) + dot;
                            }
                        }
                    }
                }
            }
            default -> {        // a row at a time
                for (int g0 = 0; g0 < groups; g0 += panelGroups) {
                    int g1 = Math.min(groups, g0 + panelGroups);
                    for (int r = r0; r < r1; r++) {
                        float dot = switch (type) {
                            case Q5_K -> q5K(r, g0, g1, in);
                            case Q6_K -> q6K(r, g0, g1, in);
                            default -> bytes(r, g0, g1, in);
                        };
                        out[r] = (g0 == 0 ? 0 : out[r]) + dot;
                    }
                }
            }
        }
    }

    /**
     * Q4_0 and Q4_K rows (not pairs, see setRows) and Q8_0, Q5_K and Q6_K rows take two inputs at once
     * ({@link #quads2}, {@link #quadsK2}, {@link #bytes2}, {@link #q5K2}, {@link #q6K2}). Q4_0 and Q4_K: each pass's
     * scales serve both, and where there are 32 vector registers (AVX-512) each weight load and its shifts too (see
     * quadSums2); the others: each load of the row's bytes and its widening or putting together. TinyLlama pp16, each
     * run's median of 10, medians of 3 runs taking turns (2026-11-26): AVX-512 Q4_0 81.7 -> 94.3 tok/s; AVX2 Q4_K_M
     * 63.2 -> 68.1 and Q4_0 80.4 -> 82.0, every round in their favour. Q6_K (llama-quantize --pure), each run's median
     * of 6: AVX-512 pp16 37.8 -> 54.0; AVX2 pp8 35.2 -> 47.6, pp16 42.3 -> 48.1. Q5_K_M and Q8_0, each run's median of
     * 6: AVX-512 pp16 Q5_K_M 40.1 -> 54.9, Q8_0 49.0 -> 60.2; AVX2 pp8 Q5_K_M 28.1 -> 35.4, Q8_0 43.7 -> 48.7.
     */
    boolean twoInputs() {
        return nibbleTypes(type) ? setRows == 1 && !reference() : type == GgmlType.Q8_0 || type == GgmlType.Q5_K || type == GgmlType.Q6_K;
    }

    /** {@link #rows} of one input each for inputs a and b, into outA and outB; {@link #twoInputs} must hold. */
    void rows2(int r0, int r1, Activations a, Activations b, float[] outA, float[] outB) {
        Scratch sa = SCRATCH.get(), sb = SECOND.get();
        for (int g0 = 0; g0 < groups; g0 += panelGroups) {
            int g1 = Math.min(groups, g0 + panelGroups);
            if (nibbleTypes(type)) {
                for (int unit = r0 / 8; 8 * unit < r1; unit++) {
                    if (type == GgmlType.Q4_0) quads2(unit, g0, g1, a, b, outA, outB, r0, r1, sa, sb);
                    else quadsK2(unit, g0, g1, a, b, outA, outB, r0, r1, sa, sb);
                }
                continue;
            }
            for (int r = r0; r < r1; r++) {     // a row at a time
                switch (type) {
                    case Q5_K -> q5K2(r, g0, g1, a, b, outA, outB);
                    case Q6_K -> q6K2(r, g0, g1, a, b, outA, outB);
                    default -> bytes2(r, g0, g1, a, b, outA, outB);
                }
            }
        }
    }

    /**
     * F16 rows copied to a Java array (read faster than the file's mapping) as they are, two halves to an int: the
     * file's little-endian bytes read as ints, panel by panel ({@link #panelWidth}): panel p's rows one after the
     * other, each (width + 1) / 2 ints, a panel of odd width padded by one half per row.
     */
    private static BlockGroups f16Rows(Matrix w) {
        int rows = w.rows(), cols = w.cols(), panel = panelWidth(cols);
        long n = (long) rows * ((cols + 1) / 2);
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(w.name() + ": " + 2 * n + " weights are too many to copy");
        int[] words;
        try {
            words = new int[(int) n];
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException(w.name() + ": no room in the Java heap (-Xmx) for its copy of " + 4 * n / (1 << 20)
                    + " MB; F16 weights are held on the heap for generation (bin/slm4j allows 75% of the machine's memory)", e);
        }
        MemorySegment s = w.data();
        Parallel.forRange(rows, (r0, r1) -> {
            for (int c0 = 0; c0 < cols; c0 += panel) {
                int width = Math.min(panel, cols - c0), stride = (width + 1) / 2, base = rows * (c0 / 2);
                for (int r = r0; r < r1; r++) {
                    long from = 2L * ((long) r * cols + c0);
                    if (width % 2 == 0) {
                        MemorySegment.copy(s, WORD, from, words, base + r * stride, stride);
                    } else {
                        for (int i = 0; i < width; i++) words[base + r * stride + i / 2] |= (s.get(Blocks.SHORT, from + 2L * i) & 0xFFFF) << 16 * (i % 2);
                    }
                }
            }
        });
        // an all-ones exponent in either half sets bit 15 or 31 of (bits & 0x7C007C00) + 0x04000400
        int[] any = new int[1];
        Parallel.forRange(rows, (r0, r1) -> {
            int flags = 0;
            for (int i = (int) (n * r0 / rows); i < (int) (n * r1 / rows); i++) flags |= (words[i] & 0x7C007C00) + 0x04000400;
            if ((flags & 0x80008000) != 0) any[0] = 1;
        });
        return new BlockGroups(GgmlType.F16, new byte[0], new short[0], words, any[0] != 0, rows, cols);
    }

    /**
     * F16, for a prompt's matmul (Gemm): row r as floats at dst[o ..) in the order of generation's input
     * (Activations.evenOdd: each whole 2L columns' even ones, then their odd ones; panels start at multiples of 2L),
     * widened as {@link #f16} widens them, times 2^-112, which that input carries; the last cols % 2L as they are, as
     * the input's. Read from this copy, a prompt does not fault the file's pages back in (they are let go after every
     * pass): TinyLlama F16 prompts of 16 positions spent a third of their time in those faults and copies.
     */
    void f16Floats(int r, float[] dst, int o) {
        for (int c0 = 0; c0 < cols; c0 += panel) {
            int width = Math.min(panel, cols - c0), src = rows * (c0 / 2) + r * ((width + 1) / 2), i = 0;
            for (int j = src; i <= width - 2 * L; i += 2 * L, j += L) {
                IntVector v = IntVector.fromArray(I, words, j), u = v.lanewise(LSHL, 16);
                IntVector even = u.lanewise(ASHR, 3).and(0x8FFFE000), odd = v.lanewise(ASHR, 3).and(0x8FFFE000);
                if (nonFinite) {
                    even = even.lanewise(OR, 0x70000000, u.and(0x7C000000).compare(EQ, 0x7C000000));
                    odd = odd.lanewise(OR, 0x70000000, v.and(0x7C000000).compare(EQ, 0x7C000000));
                }
                even.reinterpretAsFloats().intoArray(dst, o + c0 + i);
                odd.reinterpretAsFloats().intoArray(dst, o + c0 + i + L);
            }
            for (; i < width; i++) dst[o + c0 + i] = Float.float16ToFloat((short) (words[src + i / 2] >> 16 * (i % 2)));
        }
    }

    /**
     * Q8_0, for a prompt's matmul (Gemm): row r's quants times their block's d (exact floats) at dst[o ..), each whole
     * group of L blocks in this copy's order (see {@link #q8Column}), the blocks of a last, partial one in row order.
     * Read from this copy, a prompt does not fault the file's pages back in, as F16's do not (see f16Floats): they
     * were a third of a 16-position TinyLlama Q8_0 prompt through Gemm. Returns whether some d of the matrix is inf
     * or NaN (then its rows are for the reference kernel, see Gemm.run).
     */
    boolean q8Floats(int r, float[] dst, int o) {
        float[] pairD = SCRATCH.get().pairD;
        int blocks = cols / 32;
        for (int g = 0; g < groups; g++) {
            int base = unitGroup(r, g, units, groups, panelGroups) * Q8_GROUP, count = Math.min(L, blocks - g * L), at = o + g * 32 * L;
            for (int j = 0; j < count; j++) {
                pairD[2 * j] = pairD[2 * j + 1] = Blocks.f16(quants, base + 32 * L + 2 * j);
            }
            if (count < L) {
                for (int j = 0; j < count; j++) {
                    for (int i = 0; i < 32; i++) dst[at + 32 * j + i] = quants[base + pairAt(0, i, j)] * pairD[2 * j];
                }
                continue;
            }
            // a load of 2L bytes holds two quants of each block, side by side: the d pattern repeats every 2L
            FloatVector d0 = FloatVector.fromArray(F, pairD, 0), d1 = FloatVector.fromArray(F, pairD, L);
            for (int k = 0; k < 32 * L; k += VectorKernels.BYTES) {
                ByteVector q = ByteVector.fromArray(VectorKernels.B, quants, base + k);
                for (int part = 0; part < VectorKernels.PARTS; part++) {
                    int e = k + part * L;
                    ((FloatVector) q.convertShape(B2F, F, part)).mul(e % (2 * L) == 0 ? d0 : d1).intoArray(dst, at + e);
                }
            }
        }
        return nonFinite;
    }

    /**
     * Q8_0: the column of a row that {@link #q8Floats} puts at i: in a whole group, byte pair i / 2L's quants of its
     * L blocks, block by block; past the last whole group, i.
     */
    static int q8Column(int i, int cols) {
        int whole = cols / (32 * L) * 32 * L;
        if (i >= whole) return i;
        int e = i % (32 * L), lane = e % (2 * L);
        return i - e + lane / 2 * 32 + e / (2 * L) * 2 + lane % 2;
    }

    /**
     * F16: row r times the input rounded to F16. F16 to float, which the Vector API lacks, is done in place: an int
     * lane holds elements 2j (low half) and 2j + 1 (high), and each half shifted so that its sign lands on the
     * float's and its exponent and mantissa on the float's low exponent bits and high mantissa bits is its value
     * times 2^-112 (the exponent biases differ by 112), subnormals included, in 2 or 3 operations. The input
     * (Activations.evenOdd) holds each 2L elements' even ones and then odd ones, times 2^112: each product is exact
     * and unscaled, the sums round as plain ones. Against the widening with a multiply and a blend that this
     * replaced: one thread 27 vs 19 GB/s over one large array, Danube F16 generation 6.5 vs 5.6 tok/s on one thread
     * (fewer instructions per cache line, so more lines in flight). An all-ones exponent (inf, NaN) would read as a
     * finite value, so a matrix that holds one (no trained model does) gets the float's all-ones exponent put in per
     * lane. The words are indexed by a counter of their own (j), here and in f16x4 and f16Floats: indexed as o + i / 2,
     * C2 spent a shift, a sign extension and an add per step on it, f16x4's loop 24 instructions per 8 FMAs where it
     * is now 19 (AVX2 TinyLlama F16 pp12, four inputs per widened weight: 46.1 -> 49.7 tok/s, each run's median of 10,
     * medians of 4 runs taking turns, each pair in the new one's favour).
     */
    private float f16(int o, int c0, int n, Activations in, int xo) {
        float[] x = in.groupedX, f = in.f;
        int i = 0;
        c0 += xo;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int j = o; i <= n - 2 * L; i += 2 * L, j += L) {
            IntVector v = IntVector.fromArray(I, words, j), u = v.lanewise(LSHL, 16);
            IntVector even = u.lanewise(ASHR, 3).and(0x8FFFE000), odd = v.lanewise(ASHR, 3).and(0x8FFFE000);
            if (nonFinite) {
                even = even.lanewise(OR, 0x70000000, u.and(0x7C000000).compare(EQ, 0x7C000000));
                odd = odd.lanewise(OR, 0x70000000, v.and(0x7C000000).compare(EQ, 0x7C000000));
            }
            a0 = even.reinterpretAsFloats().fma(FloatVector.fromArray(F, x, c0 + i), a0);
            a1 = odd.reinterpretAsFloats().fma(FloatVector.fromArray(F, x, c0 + i + L), a1);
        }
        float sum = a0.add(a1).reduceLanes(ADD);
        for (; i < n; i++) sum += Float.float16ToFloat((short) (words[o + i / 2] >> 16 * (i % 2))) * f[c0 + i];
        return sum;
    }

    /**
     * {@link #f16} for inputs p to p + 3 at once, into out[(p + q) * rows + r] (added to it past the first panel): a
     * short prompt's positions, or several sequences' steps. Each weight vector, read and widened once, serves four
     * inputs' multiply-adds, where Gemm would widen the whole matrix into an array first.
     */
    private void f16x4(int o, int c0, int n, Activations in, int p, float[] out, int r) {
        float[] x = in.groupedX, f = in.f;
        int cols = this.cols, xo = p * cols + c0, i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0s = a0, c1s = a0, d0 = a0, d1 = a0;
        for (int j = o; i <= n - 2 * L; i += 2 * L, j += L) {
            IntVector v = IntVector.fromArray(I, words, j), u = v.lanewise(LSHL, 16);
            IntVector even = u.lanewise(ASHR, 3).and(0x8FFFE000), odd = v.lanewise(ASHR, 3).and(0x8FFFE000);
            if (nonFinite) {
                even = even.lanewise(OR, 0x70000000, u.and(0x7C000000).compare(EQ, 0x7C000000));
                odd = odd.lanewise(OR, 0x70000000, v.and(0x7C000000).compare(EQ, 0x7C000000));
            }
            FloatVector we = even.reinterpretAsFloats(), wo = odd.reinterpretAsFloats();
            int e = xo + i;
            a0 = we.fma(FloatVector.fromArray(F, x, e), a0);
            a1 = wo.fma(FloatVector.fromArray(F, x, e + L), a1);
            b0 = we.fma(FloatVector.fromArray(F, x, e + cols), b0);
            b1 = wo.fma(FloatVector.fromArray(F, x, e + cols + L), b1);
            c0s = we.fma(FloatVector.fromArray(F, x, e + 2 * cols), c0s);
            c1s = wo.fma(FloatVector.fromArray(F, x, e + 2 * cols + L), c1s);
            d0 = we.fma(FloatVector.fromArray(F, x, e + 3 * cols), d0);
            d1 = wo.fma(FloatVector.fromArray(F, x, e + 3 * cols + L), d1);
        }
        float s0 = a0.add(a1).reduceLanes(ADD), s1 = b0.add(b1).reduceLanes(ADD);
        float s2 = c0s.add(c1s).reduceLanes(ADD), s3 = d0.add(d1).reduceLanes(ADD);
        for (; i < n; i++) {
            float w = Float.float16ToFloat((short) (words[o + i / 2] >> 16 * (i % 2)));
            s0 += w * f[xo + i];
            s1 += w * f[xo + cols + i];
            s2 += w * f[xo + 2 * cols + i];
            s3 += w * f[xo + 3 * cols + i];
        }
        int at = p * rows + r;
        boolean add = c0 > 0;
        out[at] = (add ? out[at] : 0) + s0;
        out[at + rows] = (add ? out[at + rows] : 0) + s1;
        out[at + 2 * rows] = (add ? out[at + 2 * rows] : 0) + s2;
        out[at + 3 * rows] = (add ? out[at + 3 * rows] : 0) + s3;
    }

    /**
     * Q4_0 in 16-bit lanes, L blocks per group, eight sets of rows at a time (sets 8 * unit to 8 * unit + 7): each
     * group's lane sums come from {@link #quadSums}, and each set's are scaled by d_w * d_x, as ggml does. In pass k
     * the int lane j holds block j's sums of set k in its low half and of set k + 4 in its high one; two shifts split
     * them, so that one float accumulator holds set k's blocks and another set k + 4's, lane j block j, and one
     * vector of d_x serves both. Taking the two halves of the short lanes apart instead (convertShape's parts 0
     * and 1) compiled part 1 on AVX2 to a cross-lane shuffle of 8 instructions with two vectors spilled.
     * The sets are scaled in a loop over the scratch, not written out four times: written out, the method passed
     * C2's inlining budget in some test runs, and the last set's scale operations were boxed (a JFR allocation
     * sample in KernelAllocationTest's measured rounds: 2.5 KB per matmul). Each d_w is read as finite: a matrix
     * with an inf or NaN one goes to the reference kernel (see {@link #reference}).
     */
    private void quads(int unit, int g0, int g1, Activations in, float[] out, int r0, int r1, Scratch scratch) {
        short[] dots = scratch.dots;
        float[] dx = in.groupedD, acc = scratch.acc;
        int mid = setRows == 2 ? groups / 2 : -1;     // a pair's group shared by its two rows
        Arrays.fill(acc, 0);
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + unit * (g1 - g0) + g - g0;
            quadSums(n, g, in, dots);
            // d_x times 2^112, exact: an f16-rounded d_x is at most 65504, or inf (see the class's note on scales)
            FloatVector d = FloatVector.fromArray(F, dx, g * W).mul(0x1p112f);
            for (int k = 0; k < 4; k++) {
                int a = 2 * k * L;
                if (g == mid) secondRow(scratch, k);
                // the pass's d_w from their f16 bits, set k's in the low halves, set k + 4's in the high ones
                IntVector dot = ShortVector.fromArray(S, dots, k * W).reinterpretAsInts();
                IntVector h = ShortVector.fromArray(S, quads, n * unitShorts + halvesAt(k)).reinterpretAsInts(), u = h.lanewise(LSHL, 16);
                IntVector lo = u.lanewise(ASHR, 3).and(0x8FFFE000), hi = h.lanewise(ASHR, 3).and(0x8FFFE000);
                ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0))
                        .fma(lo.reinterpretAsFloats().mul(d), FloatVector.fromArray(F, acc, a)).intoArray(acc, a);
                ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0))
                        .fma(hi.reinterpretAsFloats().mul(d), FloatVector.fromArray(F, acc, a + L)).intoArray(acc, a + L);
                if (g == mid) firstRow(scratch, k, out, unit, r0, r1);
            }
        }
        lastRows(scratch, unit, out, r0, r1, g0 > 0);
    }

    /**
     * {@link #quads} for two inputs, a and b, rows of their own (not pairs): each weight load, its shifts, and each
     * pass's d_w serve both inputs' sums (see quadSums2).
     */
    private void quads2(int unit, int g0, int g1, Activations a, Activations b, float[] outA, float[] outB, int r0, int r1,
                        Scratch sa, Scratch sb) {
        short[] dotsA = sa.dots, dotsB = sb.dots;
        float[] dxA = a.groupedD, dxB = b.groupedD, accA = sa.acc, accB = sb.acc;
        Arrays.fill(accA, 0);
        Arrays.fill(accB, 0);
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + unit * (g1 - g0) + g - g0;
            quadSums2(n, g, a, b, dotsA, dotsB);
            FloatVector da = FloatVector.fromArray(F, dxA, g * W).mul(0x1p112f), db = FloatVector.fromArray(F, dxB, g * W).mul(0x1p112f);
            for (int k = 0; k < 4; k++) {
                int at = 2 * k * L;
                IntVector h = ShortVector.fromArray(S, quads, n * unitShorts + halvesAt(k)).reinterpretAsInts(), u = h.lanewise(LSHL, 16);
                FloatVector lo = u.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), hi = h.lanewise(ASHR, 3).and(0x8FFFE000).reinterpretAsFloats();
                IntVector dot = ShortVector.fromArray(S, dotsA, k * W).reinterpretAsInts();
                ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0))
                        .fma(lo.mul(da), FloatVector.fromArray(F, accA, at)).intoArray(accA, at);
                ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0))
                        .fma(hi.mul(da), FloatVector.fromArray(F, accA, at + L)).intoArray(accA, at + L);
                dot = ShortVector.fromArray(S, dotsB, k * W).reinterpretAsInts();
                ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0))
                        .fma(lo.mul(db), FloatVector.fromArray(F, accB, at)).intoArray(accB, at);
                ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0))
                        .fma(hi.mul(db), FloatVector.fromArray(F, accB, at + L)).intoArray(accB, at + L);
            }
        }
        lastRows(sa, unit, outA, r0, r1, g0 > 0);
        lastRows(sb, unit, outB, r0, r1, g0 > 0);
    }

    /**
     * Group g's eight sets' lane sums (unit group n's quads, see quads) into dots, pass k's at k * W: each lane's sum
     * of (q - 8) * q_x over its block. A short holds one element's nibble of four sets, the pass k's at bit 4k, so
     * one load serves the eight sets and one input load all of them. The shorts are multiplied as they are,
     * unmasked, and summed with 16-bit wrap-around: m_k, the sum of (s >>> 4k) * q_x, is pass k's sum of nibble
     * times q_x plus 16 times m_(k+1), so m_k - 16 m_(k+1) is that sum modulo 2^16. Taking off 8 times the block's
     * input sum leaves the sum of (q - 8) * q_x, at most 32 * 8 * 127 in magnitude, so the wrapped arithmetic gave
     * its exact value.
     *
     * <p>The shifts are of int lanes, which C2 encodes with the count in the instruction; a short lane's shift by a
     * constant took a move of the count to a register per shift on AVX2 (and one accumulator spilled to the stack). An
     * int's shift by 4k fills the low short's top 4k bits from the high short's low ones: in m_k - 16 m_(k+1) that
     * spill cancels (16 * 2^(16-4k) * (the high short's bits 4k to 4k + 3) is a multiple of 2^16), but m_3 keeps 16
     * times the high short's low 12 bits times q_x. The two shorts of an int follow one block (one q_x) in two sets,
     * so that spill is 16 m_0 of the high short, modulo 2^16, and is taken off. A step then takes 2 loads, 3 shifts,
     * 4 multiplies and 4 adds, each shift one instruction: with -XX:UseAVX=2, one thread, 16 Q4_0 matrices of 5632 x
     * 2048 from memory, 396 -> 347 us per matrix, 2048 x 5632 458 -> 371 (one JVM, taking turns, medians of 31;
     * TinyLlama Q4_0 generation on one thread 26.5 -> 29.0 tok/s, the AVX2 llama.cpp 28.1; 2026-11-25). Where each
     * short lane followed a block of its own (four sets of W blocks a group), the int shifts' spill in m_3 came from
     * another block's input and could not be taken off. No vector crosses the call, so it needs no inlining.
     */
    private void quadSums(int n, int g, Activations in, short[] dots) {
        short[] x = in.groupedXs;
        int q = n * unitShorts, xo = g * 32 * W;
        ShortVector m0 = ShortVector.zero(S), m1 = m0, m2 = m0, m3 = m0;
        for (int i = 0; i < 32; i++) {
            ShortVector v = ShortVector.fromArray(S, x, xo + i * W), s = ShortVector.fromArray(S, quads, q + i * W);
            IntVector t = s.reinterpretAsInts();
            m0 = s.mul(v).add(m0);
            m1 = t.lanewise(LSHR, 4).reinterpretAsShorts().mul(v).add(m1);
            m2 = t.lanewise(LSHR, 8).reinterpretAsShorts().mul(v).add(m2);
            m3 = t.lanewise(LSHR, 12).reinterpretAsShorts().mul(v).add(m3);
        }
        ShortVector s8 = ShortVector.fromArray(S, in.groupedSums8, g * W);
        ShortVector spill = m0.lanewise(LSHL, 4).reinterpretAsInts().lanewise(LSHR, 16).reinterpretAsShorts();
        m0.sub(m1.lanewise(LSHL, 4)).sub(s8).intoArray(dots, 0);
        m1.sub(m2.lanewise(LSHL, 4)).sub(s8).intoArray(dots, W);
        m2.sub(m3.lanewise(LSHL, 4)).sub(s8).intoArray(dots, 2 * W);
        m3.sub(spill).sub(s8).intoArray(dots, 3 * W);
    }

    /**
     * {@link #quadSums} for two inputs, a's sums into dotsA and b's into dotsB: one weight load and its shifts serve
     * both. The sums' last step is written out for each, as in quadSums: a helper taking the vectors is boxed where
     * C2 does not inline it (see VectorKernels). With 16 vector registers (AVX2) the loop's 8 sums, 4 shifted weights
     * and the inputs spilled (TinyLlama Q4_0 pp16 76.1 -> 69.3 tok/s against one input at a time), so there each
     * input takes a loop of its own.
     */
    private void quadSums2(int n, int g, Activations a, Activations b, short[] dotsA, short[] dotsB) {
        if (L < 16) {
            quadSums(n, g, a, dotsA);
            quadSums(n, g, b, dotsB);
            return;
        }
        short[] xa = a.groupedXs, xb = b.groupedXs;
        int q = n * unitShorts, xo = g * 32 * W;
        ShortVector m0 = ShortVector.zero(S), m1 = m0, m2 = m0, m3 = m0, p0 = m0, p1 = m0, p2 = m0, p3 = m0;
        for (int i = 0; i < 32; i++) {
            ShortVector s = ShortVector.fromArray(S, quads, q + i * W);
            IntVector t = s.reinterpretAsInts();
            ShortVector s1 = t.lanewise(LSHR, 4).reinterpretAsShorts(), s2 = t.lanewise(LSHR, 8).reinterpretAsShorts();
            ShortVector s3 = t.lanewise(LSHR, 12).reinterpretAsShorts();
            ShortVector v = ShortVector.fromArray(S, xa, xo + i * W);
            m0 = s.mul(v).add(m0);
            m1 = s1.mul(v).add(m1);
            m2 = s2.mul(v).add(m2);
            m3 = s3.mul(v).add(m3);
            v = ShortVector.fromArray(S, xb, xo + i * W);
            p0 = s.mul(v).add(p0);
            p1 = s1.mul(v).add(p1);
            p2 = s2.mul(v).add(p2);
            p3 = s3.mul(v).add(p3);
        }
        ShortVector s8 = ShortVector.fromArray(S, a.groupedSums8, g * W);
        ShortVector spill = m0.lanewise(LSHL, 4).reinterpretAsInts().lanewise(LSHR, 16).reinterpretAsShorts();
        m0.sub(m1.lanewise(LSHL, 4)).sub(s8).intoArray(dotsA, 0);
        m1.sub(m2.lanewise(LSHL, 4)).sub(s8).intoArray(dotsA, W);
        m2.sub(m3.lanewise(LSHL, 4)).sub(s8).intoArray(dotsA, 2 * W);
        m3.sub(spill).sub(s8).intoArray(dotsA, 3 * W);
        s8 = ShortVector.fromArray(S, b.groupedSums8, g * W);
        spill = p0.lanewise(LSHL, 4).reinterpretAsInts().lanewise(LSHR, 16).reinterpretAsShorts();
        p0.sub(p1.lanewise(LSHL, 4)).sub(s8).intoArray(dotsB, 0);
        p1.sub(p2.lanewise(LSHL, 4)).sub(s8).intoArray(dotsB, W);
        p2.sub(p3.lanewise(LSHL, 4)).sub(s8).intoArray(dotsB, 2 * W);
        p3.sub(spill).sub(s8).intoArray(dotsB, 3 * W);
    }

    /**
     * At a pair's middle group, before its sums: pass k's second halves so far end its two sets' first rows, and start
     * again (the middle group's second half is the second rows' first blocks).
     */
    private static void secondRow(Scratch scratch, int k) {
        for (int set = 0; set < 2; set++) {
            int a = (2 * k + set) * L;
            FloatVector v = FloatVector.fromArray(F, scratch.acc, a);
            scratch.first[k + 4 * set] = v.reduceLanes(ADD, SECOND_HALF);
            v.blend(0f, SECOND_HALF).intoArray(scratch.acc, a);
        }
    }

    /**
     * At a pair's middle group, after its sums: pass k's first halves end its two sets' first rows, and start again.
     * The middle group lies in the first panel (panelGroups), so the rows are whole here.
     */
    private void firstRow(Scratch scratch, int k, float[] out, int unit, int r0, int r1) {
        for (int set = 0; set < 2; set++) {
            int a = (2 * k + set) * L;
            FloatVector v = FloatVector.fromArray(F, scratch.acc, a);
            put(out, 2 * (8 * unit + k + 4 * set), r0, r1, false, scratch.first[k + 4 * set] + v.reduceLanes(ADD, FIRST_HALF));
            v.blend(0f, FIRST_HALF).intoArray(scratch.acc, a);
        }
    }

    /**
     * After a panel's last group: each set's last row; a later panel (add) adds to the earlier ones'. The eight
     * accumulators (pass k's sets k and k + 4) are summed as a tree: the first level puts the sum of each even lane
     * and the next of set k in the even lanes, set k + 4's in the odd ones; each further level adds every lane to
     * the one 2 (then 4) lanes on, which holds the same set, and keeps half the lanes of each of two vectors, so that 8 lanes
     * end up with the 8 sets' sums (lane i: pass (i / 2) % 2 + 2 * ((i / 4) % 2), set of it 4 * (i % 2) more; lanes
     * 8 on repeat them). Eight masked reductions (of an earlier layout's even and odd lanes) instead took one
     * thread's Q4_0 matmul on AVX-512 from 274 to 350 us (2048 x 5632, four panels), from 361 to 487 (5632 x 2048,
     * two; 16 matrices from memory, one JVM, medians of 31, 2026-11-25). Where the unit's rows are all the call's,
     * one shuffle puts them in row order and one 8-lane store writes them: the 8 stores one at a time, each checked
     * against the call's range, were a tenth of a TinyLlama Q4_0 prompt of 40 positions going by position (AVX-512
     * pp40 101.2 -> 104.4 tok/s, Q4_K_M 79.6 -> 82.6, medians of 3 rounds taking turns, each round in its favour).
     */
    private void lastRows(Scratch scratch, int unit, float[] out, int r0, int r1, boolean add) {
        float[] acc = scratch.acc, sums = scratch.sums;
        for (int a = 0; a < 8 * L; a += 2 * L) {
            FloatVector v = FloatVector.fromArray(F, acc, a), w = FloatVector.fromArray(F, acc, a + L);
            v.blend(w, ODD).add(w.blend(v, ODD).rearrange(ON1)).intoArray(acc, a);
        }
        FloatVector v0 = FloatVector.fromArray(F, acc, 0), v1 = FloatVector.fromArray(F, acc, 2 * L);
        FloatVector v2 = FloatVector.fromArray(F, acc, 4 * L), v3 = FloatVector.fromArray(F, acc, 6 * L);
        FloatVector h01 = v0.add(v0.rearrange(ON2)).blend(v1.add(v1.rearrange(ON2)), SECOND2);
        FloatVector h23 = v2.add(v2.rearrange(ON2)).blend(v3.add(v3.rearrange(ON2)), SECOND2);
        if (L == 4) {
            h01.intoArray(sums, 0);
            h23.intoArray(sums, 4);
        } else {
            FloatVector v = h01.add(h01.rearrange(ON4)).blend(h23.add(h23.rearrange(ON4)), SECOND4);
            int at = 8 * unit;
            if (setRows == 1 && at >= r0 && at + 8 <= r1) {
                // the unit's 8 rows all in range: put in row order, stored as one vector of 8
                FloatVector rows = v.rearrange(ROW_ORDER);
                if (L > 8) rows = rows.add(v.rearrange(ROW_ORDER_8));
                FloatVector eight = (FloatVector) rows.reinterpretShape(EIGHT, 0);
                if (add) eight = eight.add(FloatVector.fromArray(EIGHT, out, at));
                eight.intoArray(out, at);
                return;
            }
            v.intoArray(sums, 0);
        }
        for (int i = 0; i < 8; i++) {
            float sum = sums[i];
            for (int j = i + 8; j < L; j += 8) sum += sums[j];
            put(out, (8 * unit + 4 * (i % 2) + i / 2 % 2 + 2 * (i / 4 % 2) + 1) * setRows - 1, r0, r1, add, sum);
        }
    }

    /** Q4_0 with an inf or NaN d_w (no trained model has one): its rows are for the reference kernel, see quads. */
    boolean reference() {
        return type == GgmlType.Q4_0 && nonFinite;
    }

    /** out[r] = v, or out[r] + v when add, for a row r in this call's range [r0, r1). */
    private static void put(float[] out, int r, int r0, int r1, boolean add, float v) {
        if (r >= r0 && r < r1) out[r] = (add ? out[r] : 0) + v;
    }

    /**
     * Q4_K in quads, its sub-blocks of 32 as Q4_0's blocks ({@link #quadSums}), its sets split as Q4_0's; then per
     * set each block's sum gets the 8 back (in floats, exact), is scaled by d * scale, has dmin * min times the input
     * sum taken off, and is multiplied by d_x. The d * scale and dmin * min are multiplied out here (exact): one load
     * holds the pass's two sets' d and -dmin per super-block of 8 blocks, and a constant shuffle puts them in their
     * lanes. An int lane of a pass's halves holds its block's scale and min of set k and then of set k + 4, a byte
     * each. The sets are scaled in a loop, as in quads.
     */
    private void quadsK(int unit, int g0, int g1, Activations in, float[] out, int r0, int r1, Scratch scratch) {
        short[] dots = scratch.dots;
        float[] dx = in.groupedD, sums = in.groupedSums, acc = scratch.acc;
        int mid = setRows == 2 ? groups / 2 : -1;     // a pair's group shared by its two rows
        Arrays.fill(acc, 0);
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + unit * (g1 - g0) + g - g0;
            quadSums(n, g, in, dots);
            FloatVector d = FloatVector.fromArray(F, dx, g * W), x = FloatVector.fromArray(F, sums, g * W), e = x.mul(8f);
            for (int k = 0; k < 4; k++) {
                int a = 2 * k * L;
                if (g == mid) secondRow(scratch, k);
                IntVector dot = ShortVector.fromArray(S, dots, k * W).reinterpretAsInts();
                IntVector h = ShortVector.fromArray(S, quads, n * unitShorts + halvesAt(k)).reinterpretAsInts();
                FloatVector ds = ShortVector.fromArray(S, quads, n * unitShorts + K_FLOATS_AT + 2 * k * K_DS).reinterpretAsFloats();
                FloatVector lo = ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(e)
                        .mul(ds.rearrange(D0).mul((FloatVector) h.and(0xFF).convertShape(I2F, F, 0)));
                FloatVector hi = ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(e)
                        .mul(ds.rearrange(D1).mul((FloatVector) h.lanewise(LSHR, 16).and(0xFF).convertShape(I2F, F, 0)));
                ds.rearrange(M0).mul((FloatVector) h.lanewise(LSHR, 8).and(0xFF).convertShape(I2F, F, 0))
                        .fma(x, lo).fma(d, FloatVector.fromArray(F, acc, a)).intoArray(acc, a);
                ds.rearrange(M1).mul((FloatVector) h.lanewise(LSHR, 24).convertShape(I2F, F, 0))
                        .fma(x, hi).fma(d, FloatVector.fromArray(F, acc, a + L)).intoArray(acc, a + L);
                if (g == mid) firstRow(scratch, k, out, unit, r0, r1);
            }
        }
        lastRows(scratch, unit, out, r0, r1, g0 > 0);
    }

    /** {@link #quadsK} for two inputs, as {@link #quads2}: the sums' loads and shifts and the sets' scales serve both. */
    private void quadsK2(int unit, int g0, int g1, Activations a, Activations b, float[] outA, float[] outB, int r0, int r1,
                         Scratch sa, Scratch sb) {
        short[] dotsA = sa.dots, dotsB = sb.dots;
        float[] accA = sa.acc, accB = sb.acc;
        Arrays.fill(accA, 0);
        Arrays.fill(accB, 0);
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + unit * (g1 - g0) + g - g0;
            quadSums2(n, g, a, b, dotsA, dotsB);
            FloatVector da = FloatVector.fromArray(F, a.groupedD, g * W), xa = FloatVector.fromArray(F, a.groupedSums, g * W), ea = xa.mul(8f);
            FloatVector db = FloatVector.fromArray(F, b.groupedD, g * W), xb = FloatVector.fromArray(F, b.groupedSums, g * W), eb = xb.mul(8f);
            for (int k = 0; k < 4; k++) {
                int at = 2 * k * L;
                IntVector h = ShortVector.fromArray(S, quads, n * unitShorts + halvesAt(k)).reinterpretAsInts();
                FloatVector ds = ShortVector.fromArray(S, quads, n * unitShorts + K_FLOATS_AT + 2 * k * K_DS).reinterpretAsFloats();
                FloatVector scLo = ds.rearrange(D0).mul((FloatVector) h.and(0xFF).convertShape(I2F, F, 0));
                FloatVector scHi = ds.rearrange(D1).mul((FloatVector) h.lanewise(LSHR, 16).and(0xFF).convertShape(I2F, F, 0));
                FloatVector minLo = ds.rearrange(M0).mul((FloatVector) h.lanewise(LSHR, 8).and(0xFF).convertShape(I2F, F, 0));
                FloatVector minHi = ds.rearrange(M1).mul((FloatVector) h.lanewise(LSHR, 24).convertShape(I2F, F, 0));
                IntVector dot = ShortVector.fromArray(S, dotsA, k * W).reinterpretAsInts();
                FloatVector lo = ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(ea).mul(scLo);
                FloatVector hi = ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(ea).mul(scHi);
                minLo.fma(xa, lo).fma(da, FloatVector.fromArray(F, accA, at)).intoArray(accA, at);
                minHi.fma(xa, hi).fma(da, FloatVector.fromArray(F, accA, at + L)).intoArray(accA, at + L);
                dot = ShortVector.fromArray(S, dotsB, k * W).reinterpretAsInts();
                lo = ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(eb).mul(scLo);
                hi = ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(eb).mul(scHi);
                minLo.fma(xb, lo).fma(db, FloatVector.fromArray(F, accB, at)).intoArray(accB, at);
                minHi.fma(xb, hi).fma(db, FloatVector.fromArray(F, accB, at + L)).intoArray(accB, at + L);
            }
        }
        lastRows(sa, unit, outA, r0, r1, g0 > 0);
        lastRows(sb, unit, outB, r0, r1, g0 > 0);
    }

    /**
     * Q8_0: where byte i of lane j of the input's group n lies (of a weight group's, at n = 0, after its first
     * byte). Bytes i and i + 1 (i even) of lane j sit side by side,
     * so that the two 16-bit products of one load that belong to lane j share its 32-bit lane (see {@link #bytes}).
     */
    static int pairAt(int n, int i, int j) {
        return n * 32 * L + (i & ~1) * L + 2 * j + (i & 1);
    }

    /**
     * Q5_K, Q6_K: the 16-bit lane of a group's block b: blocks b and b + L side by side, so that a vector of the
     * group's lanes read as L ints holds the first L blocks in their low halves and the last L in their high halves.
     */
    static int laneOf(int b) {
        return b < L ? 2 * b : 2 * (b - L) + 1;
    }

    /**
     * Q8_0: per lane the exact integer sum of its block's 32 byte products, in 16-bit multiplies. A load
     * is bytes i and i + 1 of L blocks ({@link #pairAt}); each 16-bit product is at most 128 * 127 = 16256 in
     * magnitude (the input's quants lie in [-127, 127]), so two loads' products add exactly in 16 bits, and
     * their 32-bit lane j, read as an int, holds lane j's two sums in its halves: two shifts split them into exact
     * ints. Two loads (64 weight bytes on AVX-512) take 14 vector operations, 2 of them input loads, where the
     * float loop it replaced (each byte widened to an int, converted and multiplied-added in floats) took 20, 4 of
     * them input loads; the input is held as 16-bit integers (half the bytes in L1). The sums are scaled by
     * d_w * d_x.
     */
    private float bytes(int r, int g0, int g1, Activations in) {
        short[] x = in.groupedXs;
        float[] dx = in.groupedD;
        FloatVector acc = FloatVector.zero(F);
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + r * (g1 - g0) + g - g0, q = n * Q8_GROUP, xo = g * 32 * L;
            IntVector lo = IntVector.zero(I), hi = lo;
            for (int i = 0; i < 32; i += 4) {
                ShortVector a = (ShortVector) ByteVector.fromArray(B, quants, q + i * L).convertShape(B2S, S, 0);
                ShortVector b = (ShortVector) ByteVector.fromArray(B, quants, q + (i + 2) * L).convertShape(B2S, S, 0);
                ShortVector p = a.mul(ShortVector.fromArray(S, x, xo + i * L)).add(b.mul(ShortVector.fromArray(S, x, xo + (i + 2) * L)));
                IntVector v = p.reinterpretAsInts();
                lo = v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(lo);
                hi = v.lanewise(ASHR, 16).add(hi);
            }
            FloatVector dot = (FloatVector) lo.add(hi).convertShape(I2F, F, 0), d = FloatVector.fromArray(F, dx, g * L);
            // d_w from its f16 bits, as quads widens them (see the comment above PAIR_COLS)
            IntVector u = ((IntVector) ByteVector.fromArray(B, quants, q + 32 * L).reinterpretAsShorts().convertShape(S2I, I, 0)).lanewise(LSHL, 16);
            IntVector b = u.lanewise(ASHR, 3).and(0x8FFFE000);
            if (nonFinite) b = b.lanewise(OR, 0x70000000, u.and(0x7C000000).compare(EQ, 0x7C000000));
            acc = dot.fma(b.reinterpretAsFloats().mul(0x1p112f).mul(d), acc);
        }
        return acc.reduceLanes(ADD);
    }

    /**
     * {@link #bytes} for two inputs, a's dot into outA[r] and b's into outB[r] (added to them past the first panel):
     * each load of the row's bytes, its widening and d_w serve both.
     */
    private void bytes2(int r, int g0, int g1, Activations a, Activations b, float[] outA, float[] outB) {
        short[] xa = a.groupedXs, xb = b.groupedXs;
        FloatVector accA = FloatVector.zero(F), accB = accA;
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + r * (g1 - g0) + g - g0, q = n * Q8_GROUP, xo = g * 32 * L;
            IntVector loA = IntVector.zero(I), hiA = loA, loB = loA, hiB = loA;
            for (int i = 0; i < 32; i += 4) {
                ShortVector w0 = (ShortVector) ByteVector.fromArray(B, quants, q + i * L).convertShape(B2S, S, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromArray(B, quants, q + (i + 2) * L).convertShape(B2S, S, 0);
                IntVector v = w0.mul(ShortVector.fromArray(S, xa, xo + i * L)).add(w1.mul(ShortVector.fromArray(S, xa, xo + (i + 2) * L))).reinterpretAsInts();
                loA = v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(loA);
                hiA = v.lanewise(ASHR, 16).add(hiA);
                v = w0.mul(ShortVector.fromArray(S, xb, xo + i * L)).add(w1.mul(ShortVector.fromArray(S, xb, xo + (i + 2) * L))).reinterpretAsInts();
                loB = v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(loB);
                hiB = v.lanewise(ASHR, 16).add(hiB);
            }
            IntVector u = ((IntVector) ByteVector.fromArray(B, quants, q + 32 * L).reinterpretAsShorts().convertShape(S2I, I, 0)).lanewise(LSHL, 16);
            IntVector bits = u.lanewise(ASHR, 3).and(0x8FFFE000);
            if (nonFinite) bits = bits.lanewise(OR, 0x70000000, u.and(0x7C000000).compare(EQ, 0x7C000000));
            FloatVector dw = bits.reinterpretAsFloats().mul(0x1p112f);
            accA = ((FloatVector) loA.add(hiA).convertShape(I2F, F, 0)).fma(dw.mul(FloatVector.fromArray(F, a.groupedD, g * L)), accA);
            accB = ((FloatVector) loB.add(hiB).convertShape(I2F, F, 0)).fma(dw.mul(FloatVector.fromArray(F, b.groupedD, g * L)), accB);
        }
        outA[r] = (g0 == 0 ? 0 : outA[r]) + accA.reduceLanes(ADD);
        outB[r] = (g0 == 0 ? 0 : outB[r]) + accB.reduceLanes(ADD);
    }

    /**
     * Q5_K in 16-bit lanes, W half sub-blocks of 16 per group, as Q6_K: each element's 5 bits put together from its
     * nibble and its high bit. The products of q (0 to 31) by q_x are summed with 16-bit wrap-around, then 16 times
     * the lane's input sum is taken off: the sum of (q - 16) * q_x is at most 16 * 16 * 127 = 32512 in magnitude, so
     * the wrapped arithmetic gave its exact value. Then, in floats, the 16 is put back, the lane scaled by d * scale
     * (exact) less dmin * min times the input sum, and by d_x. Held so, Q5_K is 6 bits per weight (the file: 5.5);
     * its quants as bytes with two floats per lane had made it 10.
     */
    private float q5K(int r, int g0, int g1, Activations in) {
        short[] x = in.groupedXs, sums8 = in.groupedSums8;
        float[] dx = in.groupedD, sums = in.groupedSums;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + r * (g1 - g0) + g - g0, q = n * Q5_GROUP, xo = g * 16 * W, o = g * W, d = q + 12 * W;
            // bit e of byte 8 (9) is the high bit of element e (e + 8): shifted left 4, then right e, it is bit 4
            ShortVector hl = ((ShortVector) ByteVector.fromArray(B, quants, q + 8 * W).convertShape(ZERO_EXTEND_B2S, S, 0)).lanewise(LSHL, 4);
            ShortVector hh = ((ShortVector) ByteVector.fromArray(B, quants, q + 9 * W).convertShape(ZERO_EXTEND_B2S, S, 0)).lanewise(LSHL, 4);
            ShortVector s = ShortVector.zero(S), t = s;
            for (int i = 0; i < 8; i++) {       // byte i: element i low, i + 8 high
                ShortVector p = (ShortVector) ByteVector.fromArray(B, quants, q + i * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                s = p.and((short) 0xF).or(hl.lanewise(LSHR, i).and((short) 0x10)).mul(ShortVector.fromArray(S, x, xo + i * W)).add(s);
                t = p.lanewise(LSHR, 4).or(hh.lanewise(LSHR, i).and((short) 0x10)).mul(ShortVector.fromArray(S, x, xo + (i + 8) * W)).add(t);
            }
            ShortVector s8 = ShortVector.fromArray(S, sums8, o);
            IntVector dot = s.add(t).sub(s8.add(s8)).reinterpretAsInts();     // less 16 times the sum
            // an int lane: the scale and min of block j, then of block j + L, a byte each
            IntVector sm = ByteVector.fromArray(BF, quants, q + 10 * W).reinterpretAsInts();
            FloatVector x0 = FloatVector.fromArray(F, sums, o), x1 = FloatVector.fromArray(F, sums, o + L);
            FloatVector lo = ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(x0.mul(16f));
            FloatVector hi = ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(x1.mul(16f));
            lo = lo.mul(((FloatVector) sm.and(0xFF).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d)));
            hi = hi.mul(((FloatVector) sm.lanewise(LSHR, 16).and(0xFF).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d + 4 * (L / 16))));
            acc0 = ((FloatVector) sm.lanewise(LSHR, 8).and(0xFF).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d + 4 * SUPERS))
                    .fma(x0, lo).fma(FloatVector.fromArray(F, dx, o), acc0);
            acc1 = ((FloatVector) sm.lanewise(LSHR, 24).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d + 4 * (SUPERS + L / 16)))
                    .fma(x1, hi).fma(FloatVector.fromArray(F, dx, o + L), acc1);
        }
        return acc0.add(acc1).reduceLanes(ADD);
    }

    /**
     * {@link #q5K} for two inputs, a's dot into outA[r] and b's into outB[r] (added to them past the first panel):
     * each load of the row's bytes, the putting together of its 5-bit quants and the scales serve both.
     */
    private void q5K2(int r, int g0, int g1, Activations a, Activations b, float[] outA, float[] outB) {
        short[] xa = a.groupedXs, xb = b.groupedXs;
        FloatVector accA0 = FloatVector.zero(F), accA1 = accA0, accB0 = accA0, accB1 = accA0;
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + r * (g1 - g0) + g - g0, q = n * Q5_GROUP, xo = g * 16 * W, o = g * W, d = q + 12 * W;
            ShortVector hl = ((ShortVector) ByteVector.fromArray(B, quants, q + 8 * W).convertShape(ZERO_EXTEND_B2S, S, 0)).lanewise(LSHL, 4);
            ShortVector hh = ((ShortVector) ByteVector.fromArray(B, quants, q + 9 * W).convertShape(ZERO_EXTEND_B2S, S, 0)).lanewise(LSHL, 4);
            ShortVector s = ShortVector.zero(S), t = s, u = s, v = s;
            for (int i = 0; i < 8; i++) {
                ShortVector p = (ShortVector) ByteVector.fromArray(B, quants, q + i * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector lo = p.and((short) 0xF).or(hl.lanewise(LSHR, i).and((short) 0x10));
                ShortVector hi = p.lanewise(LSHR, 4).or(hh.lanewise(LSHR, i).and((short) 0x10));
                s = lo.mul(ShortVector.fromArray(S, xa, xo + i * W)).add(s);
                t = hi.mul(ShortVector.fromArray(S, xa, xo + (i + 8) * W)).add(t);
                u = lo.mul(ShortVector.fromArray(S, xb, xo + i * W)).add(u);
                v = hi.mul(ShortVector.fromArray(S, xb, xo + (i + 8) * W)).add(v);
            }
            IntVector sm = ByteVector.fromArray(BF, quants, q + 10 * W).reinterpretAsInts();
            FloatVector c0 = ((FloatVector) sm.and(0xFF).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d));
            FloatVector c1 = ((FloatVector) sm.lanewise(LSHR, 16).and(0xFF).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d + 4 * (L / 16)));
            FloatVector m0 = ((FloatVector) sm.lanewise(LSHR, 8).and(0xFF).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d + 4 * SUPERS));
            FloatVector m1 = ((FloatVector) sm.lanewise(LSHR, 24).convertShape(I2F, F, 0)).mul((float) FLOAT.get(quants, d + 4 * (SUPERS + L / 16)));
            // each input's sums as in q5K, written out for each: a helper taking the vectors is boxed where C2 does
            // not inline it (see VectorKernels)
            ShortVector s8 = ShortVector.fromArray(S, a.groupedSums8, o);
            IntVector dot = s.add(t).sub(s8.add(s8)).reinterpretAsInts();
            FloatVector x0 = FloatVector.fromArray(F, a.groupedSums, o), x1 = FloatVector.fromArray(F, a.groupedSums, o + L);
            FloatVector lo = ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(x0.mul(16f));
            FloatVector hi = ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(x1.mul(16f));
            accA0 = m0.fma(x0, lo.mul(c0)).fma(FloatVector.fromArray(F, a.groupedD, o), accA0);
            accA1 = m1.fma(x1, hi.mul(c1)).fma(FloatVector.fromArray(F, a.groupedD, o + L), accA1);
            s8 = ShortVector.fromArray(S, b.groupedSums8, o);
            dot = u.add(v).sub(s8.add(s8)).reinterpretAsInts();
            x0 = FloatVector.fromArray(F, b.groupedSums, o);
            x1 = FloatVector.fromArray(F, b.groupedSums, o + L);
            lo = ((FloatVector) dot.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(x0.mul(16f));
            hi = ((FloatVector) dot.lanewise(ASHR, 16).convertShape(I2F, F, 0)).add(x1.mul(16f));
            accB0 = m0.fma(x0, lo.mul(c0)).fma(FloatVector.fromArray(F, b.groupedD, o), accB0);
            accB1 = m1.fma(x1, hi.mul(c1)).fma(FloatVector.fromArray(F, b.groupedD, o + L), accB1);
        }
        outA[r] = (g0 == 0 ? 0 : outA[r]) + accA0.add(accA1).reduceLanes(ADD);
        outB[r] = (g0 == 0 ? 0 : outB[r]) + accB0.add(accB1).reduceLanes(ADD);
    }

    /**
     * Q6_K in 16-bit lanes, W sub-blocks of 16 per group: each element's 6 bits put together from its nibble and its
     * 2 high bits; products of q (0 to 63) by |q_x| &lt;= 127 are summed with 16-bit wrap-around in two halves of 8,
     * less 32 times each half's input sum (Activations.groupedSums32): the sums of (q - 32) * q_x, at most 8 * 32 *
     * 127 = 32512 in magnitude (all 16 could reach 65024), so the wrapped arithmetic gave their exact values. They are
     * added as ints and scaled by d * scale (exact as a float) and d_x. Taking the 32 off each element had cost 4 of
     * the loop's 34 operations per 4 elements: JMH, `bench/kernels.sh -p type=Q6_K -p batch=1`, 512 x 2048 in cache
     * on one thread 63-69 -> 60 us, 16 of 5632 x 2048 from memory on two threads 367 -> 345 us (medians of 5, taking
     * turns, 2026-11-25). Four rows at a time as Q4_0's quads (a short of four rows' low nibbles, a byte of
     * their high 2 bits, each multiplied unmasked: 26 vector operations per element and four rows where this takes
     * 37) was no faster: JMH, one thread, 512 x 2048 in cache 60 vs 60 us, 5632 x 2048 from memory 620 vs 629 us.
     * It needs two multiplies per weight where this needs one, and on AVX-512 here multiplies and shifts, not adds
     * and masks, bound these loops (2026-11-25).
     */
    private float q6K(int r, int g0, int g1, Activations in) {
        short[] x = in.groupedXs, sums32 = in.groupedSums32;
        float[] dx = in.groupedD;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + r * (g1 - g0) + g - g0, q = n * Q6_GROUP, xo = g * 16 * W, o = g * W, d = q + 13 * W;
            ShortVector s0 = ShortVector.zero(S), s1 = s0, t0 = s0, t1 = s0;
            for (int i = 0; i < 4; i++) {
                ShortVector p = (ShortVector) ByteVector.fromArray(B, quants, q + i * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector u = (ShortVector) ByteVector.fromArray(B, quants, q + (i + 4) * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector h = (ShortVector) ByteVector.fromArray(B, quants, q + (i + 8) * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                // int shifts (a short's shift by a constant compiles on AVX2 to a move of the count and a shift by
                // register): a left shift of bytes by 4 or less stays in its short; the bits a right shift moves from
                // the high short into the low one are masked off
                IntVector hi = h.reinterpretAsInts();
                ShortVector a = p.and((short) 0xF).or(hi.lanewise(LSHL, 4).reinterpretAsShorts().and((short) 0x30));
                ShortVector b = u.and((short) 0xF).or(hi.lanewise(LSHL, 2).reinterpretAsShorts().and((short) 0x30));
                ShortVector c = p.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsShorts().and((short) 0xF).or(h.and((short) 0x30));
                ShortVector e = u.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsShorts().and((short) 0xF)
                        .or(hi.lanewise(LSHR, 2).reinterpretAsShorts().and((short) 0x30));
                s0 = a.mul(ShortVector.fromArray(S, x, xo + i * W)).add(s0);
                s1 = b.mul(ShortVector.fromArray(S, x, xo + (i + 4) * W)).add(s1);
                t0 = c.mul(ShortVector.fromArray(S, x, xo + (i + 8) * W)).add(t0);
                t1 = e.mul(ShortVector.fromArray(S, x, xo + (i + 12) * W)).add(t1);
            }
            // the sums of q * q_x, less 32 times the input's (wrapped: the sums of (q - 32) * q_x fit 16 bits); an int
            // lane holds block j's in its low half, block j + L's in its high one (laneOf), split by two shifts
            IntVector s = s0.add(s1).sub(ShortVector.fromArray(S, sums32, 2 * o)).reinterpretAsInts();
            IntVector t = t0.add(t1).sub(ShortVector.fromArray(S, sums32, 2 * o + W)).reinterpretAsInts();
            FloatVector lo = (FloatVector) s.lanewise(LSHL, 16).lanewise(ASHR, 16).add(t.lanewise(LSHL, 16).lanewise(ASHR, 16)).convertShape(I2F, F, 0);
            FloatVector hi = (FloatVector) s.lanewise(ASHR, 16).add(t.lanewise(ASHR, 16)).convertShape(I2F, F, 0);
            IntVector sc = ((ShortVector) ByteVector.fromArray(B, quants, q + 12 * W).convertShape(B2S, S, 0)).reinterpretAsInts();
            FloatVector c0 = FloatVector.broadcast(F, (float) FLOAT.get(quants, d)).mul((FloatVector) sc.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0));
            FloatVector c1 = FloatVector.broadcast(F, (float) FLOAT.get(quants, d + 4 * (L / 16))).mul((FloatVector) sc.lanewise(ASHR, 16).convertShape(I2F, F, 0));
            acc0 = lo.fma(c0.mul(FloatVector.fromArray(F, dx, o)), acc0);
            acc1 = hi.fma(c1.mul(FloatVector.fromArray(F, dx, o + L)), acc1);
        }
        return acc0.add(acc1).reduceLanes(ADD);
    }

    /**
     * {@link #q6K} for two inputs, a's dot into outA[r] and b's into outB[r] (added to them past the first panel):
     * each load of the row's bytes and the putting together of its 6-bit quants, 23 of the loop's 34 operations per
     * 4 elements, serve both.
     */
    private void q6K2(int r, int g0, int g1, Activations a, Activations b, float[] outA, float[] outB) {
        short[] xa = a.groupedXs, xb = b.groupedXs;
        FloatVector accA0 = FloatVector.zero(F), accA1 = accA0, accB0 = accA0, accB1 = accA0;
        for (int g = g0; g < g1; g++) {
            int n = g0 * units + r * (g1 - g0) + g - g0, q = n * Q6_GROUP, xo = g * 16 * W, o = g * W, d = q + 13 * W;
            ShortVector s0 = ShortVector.zero(S), s1 = s0, t0 = s0, t1 = s0, v0 = s0, v1 = s0, w0 = s0, w1 = s0;
            for (int i = 0; i < 4; i++) {
                ShortVector p = (ShortVector) ByteVector.fromArray(B, quants, q + i * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector u = (ShortVector) ByteVector.fromArray(B, quants, q + (i + 4) * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector h = (ShortVector) ByteVector.fromArray(B, quants, q + (i + 8) * W).convertShape(ZERO_EXTEND_B2S, S, 0);
                IntVector hi = h.reinterpretAsInts();
                ShortVector qa = p.and((short) 0xF).or(hi.lanewise(LSHL, 4).reinterpretAsShorts().and((short) 0x30));
                ShortVector qb = u.and((short) 0xF).or(hi.lanewise(LSHL, 2).reinterpretAsShorts().and((short) 0x30));
                ShortVector qc = p.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsShorts().and((short) 0xF).or(h.and((short) 0x30));
                ShortVector qe = u.reinterpretAsInts().lanewise(LSHR, 4).reinterpretAsShorts().and((short) 0xF)
                        .or(hi.lanewise(LSHR, 2).reinterpretAsShorts().and((short) 0x30));
                s0 = qa.mul(ShortVector.fromArray(S, xa, xo + i * W)).add(s0);
                s1 = qb.mul(ShortVector.fromArray(S, xa, xo + (i + 4) * W)).add(s1);
                t0 = qc.mul(ShortVector.fromArray(S, xa, xo + (i + 8) * W)).add(t0);
                t1 = qe.mul(ShortVector.fromArray(S, xa, xo + (i + 12) * W)).add(t1);
                v0 = qa.mul(ShortVector.fromArray(S, xb, xo + i * W)).add(v0);
                v1 = qb.mul(ShortVector.fromArray(S, xb, xo + (i + 4) * W)).add(v1);
                w0 = qc.mul(ShortVector.fromArray(S, xb, xo + (i + 8) * W)).add(w0);
                w1 = qe.mul(ShortVector.fromArray(S, xb, xo + (i + 12) * W)).add(w1);
            }
            IntVector sc = ((ShortVector) ByteVector.fromArray(B, quants, q + 12 * W).convertShape(B2S, S, 0)).reinterpretAsInts();
            FloatVector c0 = FloatVector.broadcast(F, (float) FLOAT.get(quants, d)).mul((FloatVector) sc.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0));
            FloatVector c1 = FloatVector.broadcast(F, (float) FLOAT.get(quants, d + 4 * (L / 16))).mul((FloatVector) sc.lanewise(ASHR, 16).convertShape(I2F, F, 0));
            // each input's sums as in q6K, written out for each: a helper taking the vectors is boxed where C2 does
            // not inline it (see VectorKernels)
            IntVector s = s0.add(s1).sub(ShortVector.fromArray(S, a.groupedSums32, 2 * o)).reinterpretAsInts();
            IntVector t = t0.add(t1).sub(ShortVector.fromArray(S, a.groupedSums32, 2 * o + W)).reinterpretAsInts();
            FloatVector lo = (FloatVector) s.lanewise(LSHL, 16).lanewise(ASHR, 16).add(t.lanewise(LSHL, 16).lanewise(ASHR, 16)).convertShape(I2F, F, 0);
            FloatVector hi = (FloatVector) s.lanewise(ASHR, 16).add(t.lanewise(ASHR, 16)).convertShape(I2F, F, 0);
            accA0 = lo.fma(c0.mul(FloatVector.fromArray(F, a.groupedD, o)), accA0);
            accA1 = hi.fma(c1.mul(FloatVector.fromArray(F, a.groupedD, o + L)), accA1);
            s = v0.add(v1).sub(ShortVector.fromArray(S, b.groupedSums32, 2 * o)).reinterpretAsInts();
            t = w0.add(w1).sub(ShortVector.fromArray(S, b.groupedSums32, 2 * o + W)).reinterpretAsInts();
            lo = (FloatVector) s.lanewise(LSHL, 16).lanewise(ASHR, 16).add(t.lanewise(LSHL, 16).lanewise(ASHR, 16)).convertShape(I2F, F, 0);
            hi = (FloatVector) s.lanewise(ASHR, 16).add(t.lanewise(ASHR, 16)).convertShape(I2F, F, 0);
            accB0 = lo.fma(c0.mul(FloatVector.fromArray(F, b.groupedD, o)), accB0);
            accB1 = hi.fma(c1.mul(FloatVector.fromArray(F, b.groupedD, o + L)), accB1);
        }
        outA[r] = (g0 == 0 ? 0 : outA[r]) + accA0.add(accA1).reduceLanes(ADD);
        outB[r] = (g0 == 0 ? 0 : outB[r]) + accB0.add(accB1).reduceLanes(ADD);
    }
}
