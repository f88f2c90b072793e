package org.slm4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Kernels;
import org.slm4j.tensor.Matrix;
import org.slm4j.tensor.Parallel;
import org.slm4j.tensor.Quantizer;

/**
 * Weight matrices of TinyLlama's shape (ffn_up: 5632 × 2048 by default) times a batch of activations: batch 1 is a
 * generated token, a larger batch a block of prompt positions. Random weights written by the engine's own quantizer.
 * Scores are milliseconds per matmul; weight bytes ÷ time is the bandwidth a decode step reaches.
 *
 * <p>Each call takes the next of {@code matrices} copies: one 5632 × 2048 Q8_0 matrix is 12 MB and stays in a 32 MB
 * L3 cache, which measured the decode kernels up to twice as fast as a model streaming from memory; 16 copies do not.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// the JVM options bin/slm4j runs the engine with: without them an F16 decode step took 0.68 ms, not 0.59 (two threads)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmn32m",
        "-XX:+UseTransparentHugePages"})
public class MatmulBenchmark {
    @Param({"F32", "F16", "Q8_0", "Q4_0"}) public String type;
    @Param({"1", "64"}) public int batch;
    @Param({"5632"}) public int rows;
    @Param({"2048"}) public int cols;
    @Param({"vector"}) public String kernels;
    @Param({"2"}) public int threads;
    @Param({"16"}) public int matrices;

    private Arena arena;
    private Matrix[] ws;
    private int next;
    private Kernels k;
    private float[] x, out;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        SplittableRandom rnd = new SplittableRandom(42);
        arena = Arena.ofShared();
        ws = new Matrix[matrices];
        float[] row = new float[cols];
        for (int m = 0; m < matrices; m++) {
            MemorySegment data = arena.allocate(t.bytesFor((long) rows * cols), 64);
            ByteBuffer dst = data.asByteBuffer();
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) row[c] = (float) (rnd.nextGaussian() * 0.02);
                Quantizer.quantizeRow(t, row, 0, cols, dst);
            }
            ws[m] = new Matrix("bench" + m, t, data, rows, cols);
        }
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        out = new float[batch * rows];
        k = kernels.equals("scalar") ? Kernels.scalar() : Kernels.vector();
        Parallel.setThreads(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        k.matmul(ws[next], x, batch, out);
        next = (next + 1) % ws.length;
        return out;
    }
}
