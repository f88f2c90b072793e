package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The twin sweep and the batch multiply's cases ({@link GemmTest}) again in JVMs whose vector width is forced to 128
 * and 256 bits ({@code -Dslm4j.vectorBits} is read once, into constants, so another width needs another JVM). 256
 * bits is AVX2, the width slm4j is tuned for; this machine may prefer another.
 */
class VectorWidthTest {
    @Test
    void twinsAgreeAtEveryWidth() throws IOException, InterruptedException {
        for (int bits : new int[] {128, 256}) {
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process p = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                    "-Dslm4j.vectorBits=" + bits, "-Dslm4j.threads=2", "-cp", System.getProperty("java.class.path"),
                    VectorWidthTest.class.getName()))
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly();
            assertEquals(bits + " bits: ok", output.lines().filter(l -> !l.startsWith("WARNING")).reduce("", (a, b) -> a + b),
                    "twin sweep at " + bits + " bits");
        }
    }

    /** Runs the whole twin sweep and GemmTest's cases in this JVM and prints "N bits: ok" or the first disagreement. */
    public static void main(String[] args) {
        Kernels vector = Kernels.vector();
        for (Arguments a : KernelTwinTest.cases().toList()) {
            Object[] c = a.get();
            String failure = KernelTwinTest.compare(vector, (GgmlType) c[0], (int) c[1], (int) c[2], (int) c[3]);
            if (failure != null) {
                System.out.println(failure);
                System.exit(1);
            }
        }
        for (Arguments a : GemmTest.cases().toList()) {
            Object[] c = a.get();
            String failure = GemmTest.compare((GgmlType) c[0], (int) c[1], (int) c[2], (int) c[3]);
            if (failure != null) {
                System.out.println(failure);
                System.exit(1);
            }
        }
        System.out.println(VectorKernels.F.vectorBitSize() + " bits: ok");
    }
}
