package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufTensorInfo;
import org.slm4j.tensor.GgmlType;

/** Random-weight GGUFs: the presets' sizes against the published counts, small shapes written, loaded and run. */
class RandomGgufTest {
    @TempDir Path dir;

    @Test
    void presetSizesMatchThePublishedCounts() {
        assertEquals(1_100_048_384L, ModelShape.TINYLLAMA_1_1B.parameters(), "TinyLlama's published parameter count");
        assertEquals(64, ModelShape.STABLELM_2_1_6B.headDim());
        assertEquals(80, ModelShape.DANUBE_1_8B.headDim());
        assertSame(ModelShape.DANUBE_1_8B, ModelShape.named("danube-1_8b"));
        assertThrows(IllegalArgumentException.class, () -> ModelShape.named("gpt-5"));
    }

    @Test
    void smallShapesLoadAndRun() {
        // 3 layers, GQA 4/2, a window, and a vocab that makes token_embd span several 64 KiB chunks
        ModelShape llama = new ModelShape("tiny-llama", "llama", 600, 64, 96, 3, 4, 2, 16, 256, 8, 1, 2);
        ModelShape stablelm = new ModelShape("tiny-stablelm", "stablelm", 700, 64, 96, 2, 4, 4, 4, 256, 0, 650, 650);
        for (ModelShape shape : new ModelShape[] {llama, stablelm}) {
            for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
                Path f = dir.resolve(shape.name() + "-" + type + ".gguf");
                RandomGguf.write(shape, type, 7, f);
                long elements = 0;
                try (GgufFile g = GgufFile.open(f)) {
                    for (GgufTensorInfo t : g.tensors()) elements += t.elementCount();
                    assertEquals(type, g.tensor("blk.0.attn_q.weight").type());
                    assertEquals(GgmlType.F32, g.tensor("blk.0.attn_norm.weight").type(), "norms stay F32");
                }
                assertEquals(shape.parameters(), elements, "parameters() counts what is written");
                try (Model m = Models.open(f)) {
                    ModelConfig c = m.config();
                    assertEquals(shape.vocab(), c.vocabSize());
                    assertEquals(shape.kvHeads(), c.kvHeads());
                    assertEquals(shape.rotaryDims(), c.rotaryDims());
                    assertEquals(shape.window(), c.slidingWindow());
                    assertEquals(shape.stablelm(), c.qkvBias());
                    int[] ids = m.tokenizer().encode("Hi, random model!", false, false);
                    assertEquals("Hi, random model!", m.tokenizer().decode(ids).strip());
                    float[][] logits = m.logits(new int[] {shape.bos(), 5, 6, 7, 8, 9, 10, 11, 12, 13});
                    double spread = 0;
                    for (float[] row : logits) {
                        for (float x : row) {
                            assertTrue(Float.isFinite(x));
                            spread = Math.max(spread, Math.abs(x));
                        }
                    }
                    assertTrue(spread > 0.1 && spread < 100, "logits of a sane scale, max |logit| " + spread);
                }
            }
        }
        // the same seed gives the same file, another seed another one
        RandomGguf.write(llama, GgmlType.F32, 7, dir.resolve("again.gguf"));
        RandomGguf.write(llama, GgmlType.F32, 8, dir.resolve("other.gguf"));
        try (Model a = Models.open(dir.resolve("tiny-llama-F32.gguf")); Model b = Models.open(dir.resolve("again.gguf"));
             Model c = Models.open(dir.resolve("other.gguf"))) {
            int[] t = {1, 300, 301};
            assertArrayEquals(a.logits(t)[2], b.logits(t)[2]);
            assertFalse(java.util.Arrays.equals(a.logits(t)[2], c.logits(t)[2]));
        }
    }
}
