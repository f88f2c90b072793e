package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Matrix;

/** Random models load with the sizes they were given, in the type asked for, and run. */
class RandomModelTest {
    @TempDir Path dir;

    @ParameterizedTest
    @CsvSource({"llama, Q4_0, 0", "llama, Q8_0, 64", "stablelm, F16, 0", "stablelm, F32, 0"})
    void writesAModelThatLoadsAndRuns(String arch, GgmlType type, int window) {
        boolean stablelm = arch.equals("stablelm");
        var dims = new RandomModel.Dims(arch, 300, 64, 96, 2, 4, stablelm ? 4 : 2, stablelm ? 4 : 16, 128, window);
        Path file = dir.resolve(arch + type + ".gguf");
        RandomModel.write(dims, "test", type, 7, file);
        try (Model m = Models.open(file)) {
            ModelConfig c = m.config();
            assertEquals(arch, c.architecture());
            assertEquals(300, c.vocabSize());
            assertEquals(64, c.dim());
            assertEquals(96, c.ffnDim());
            assertEquals(2, c.layers());
            assertEquals(stablelm ? 4 : 2, c.kvHeads());
            assertEquals(stablelm ? 4 : 16, c.rotaryDims());
            assertEquals(window, c.slidingWindow());
            assertEquals(stablelm, c.qkvBias());
            LayerWeights l = m.weights().layers()[1];
            for (Matrix w : new Matrix[] {m.weights().tokenEmbd(), m.weights().output(), l.attnQ(), l.ffnDown()}) {
                assertEquals(type, w.type(), w.name());
            }
            if (stablelm) assertNotNull(l.attnNormBias());
            else assertNull(l.attnNormBias());
            assertArrayEquals(new int[] {1, 3 + 0xE2, 3 + 0x96, 3 + 0x81, 3 + 'h', 3 + 'i'}, m.tokenizer().encode("hi", true, false),
                    "bos 1, then bytes of the dummy prefix ▁ and the text");
            float[][] logits = m.logits(new int[] {1, 200, 299});
            for (float[] row : logits) for (float v : row) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void sameSeedSameBytes() throws Exception {
        var dims = new RandomModel.Dims("llama", 300, 64, 96, 1, 4, 4, 16, 128, 0);
        RandomModel.write(dims, "a", GgmlType.Q8_0, 3, dir.resolve("a.gguf"));
        RandomModel.write(dims, "a", GgmlType.Q8_0, 3, dir.resolve("b.gguf"));
        RandomModel.write(dims, "a", GgmlType.Q8_0, 4, dir.resolve("c.gguf"));
        assertEquals(-1, Files.mismatch(dir.resolve("a.gguf"), dir.resolve("b.gguf")));
        assertTrue(Files.mismatch(dir.resolve("a.gguf"), dir.resolve("c.gguf")) >= 0);
    }

    @Test
    void rejectsUnknownShapesAndTypes() {
        assertEquals(RandomModel.Shape.DANUBE_1_8B, RandomModel.Shape.of("danube-1_8b"));
        var e = assertThrows(IllegalArgumentException.class, () -> RandomModel.Shape.of("llama-7b"));
        assertTrue(e.getMessage().contains("tinyllama-1_1b"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> RandomModel.write(RandomModel.Shape.TINYLLAMA_1_1B, GgmlType.Q6_K, 1, dir.resolve("x.gguf")));
        assertTrue(Files.notExists(dir.resolve("x.gguf")));
    }
}
