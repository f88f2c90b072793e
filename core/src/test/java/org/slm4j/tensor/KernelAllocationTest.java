package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.slm4j.testing.Allocations;

/**
 * Once compiled, a matmul allocates nothing. Vector API code boxes each vector C2 fails to keep in a register: one
 * returned by a helper that is not inlined, or one from a load it does not intrinsify. The column counts leave tails
 * after the widest unrolled loop, because a tail's call sites are cold and the first left out of line.
 *
 * <p>The matmuls run in a JVM of their own, as a process running a model does: in the test suite's JVM every kernel
 * had first been driven through every path and shape by the other tests, and in about one full run in four C2 then
 * compiled Q5_K's rows so that they boxed 80 bytes per group, which no run of these checks alone reproduced (12 of
 * 12). A failure names the methods that allocated, from a flight recording of further matmuls.
 */
class KernelAllocationTest {
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};

    @Test
    void aCompiledMatmulAllocatesNothing() throws IOException, InterruptedException {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocated bytes per thread");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-Dslm4j.threads=2", "-cp", System.getProperty("java.class.path"), KernelAllocationTest.class.getName()))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) p.destroyForcibly();
        assertEquals("ok", output.lines().filter(l -> !l.startsWith("WARNING")).collect(Collectors.joining("\n")));
    }

    /** Each type's matmul of one input and of five: prints "ok", or the first that allocated and where. */
    public static void main(String[] args) throws IOException {
        Kernels k = Kernels.vector();
        for (GgmlType type : TYPES) {
            // F32, F16, BF16: an odd count, so that the widest loop leaves a vector tail and a scalar one at every
            // vector width (235 = 3 * 64 + 43 = 7 * 32 + 11)
            int rows = 64, cols = switch (type.blockSize()) {
                case 1 -> 235;
                case 256 -> 3 * 256;
                default -> 7 * 32;
            };
            Matrix w = RandomWeights.of(type, rows, cols, new Random(7)).matrix();
            for (int batch : new int[] {1, 5}) {
                float[] x = new float[batch * cols], out = new float[batch * rows];
                Random rnd = new Random(batch);
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                int b = batch;
                Runnable step = () -> k.matmul(w, x, b, out);
                long bytes = Allocations.fewestPerRound(step, 20_000, 100, 100 * 8);
                if (bytes >= 100 * 8) {
                    System.out.println(type + ", batch " + batch + ": 100 matmuls allocated " + bytes + " bytes, in " + allocatingMethods(step));
                    System.exit(1);
                }
            }
        }
        System.out.println("ok");
    }

    /** The innermost slm4j methods of the allocations JFR samples while step runs, most samples first. */
    private static String allocatingMethods(Runnable step) throws IOException {
        Path file = Files.createTempFile("slm4j-allocations", ".jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
            r.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
            r.start();
            for (int i = 0; i < 10_000; i++) step.run();
            r.stop();
            r.dump(file);
            Map<String, Integer> sites = new TreeMap<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getStackTrace() == null) continue;
                for (RecordedFrame f : e.getStackTrace().getFrames()) {
                    String cls = f.getMethod().getType().getName();
                    if (!cls.startsWith("org.slm4j.")) continue;
                    sites.merge(cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber(), 1, Integer::sum);
                    break;
                }
            }
            return sites.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .map(en -> en.getKey() + " (" + en.getValue() + ")").collect(Collectors.joining(", "));
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
