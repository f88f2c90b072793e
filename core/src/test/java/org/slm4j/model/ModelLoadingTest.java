package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.GgufWriter;
import org.slm4j.format.ModelFormatException;

/** A model file whose metadata and tensors disagree gets a clear error naming the field or tensor. */
class ModelLoadingTest {
    @TempDir Path dir;

    @Test
    void validTinyModelsLoadAndRun() {
        for (String arch : new String[] {"llama", "stablelm"}) {
            try (Model m = Models.open(TinyGguf.write(dir.resolve(arch + ".gguf"), arch, w -> {}))) {
                assertEquals(arch, m.config().architecture());
                assertEquals(arch.equals("stablelm"), m.config().qkvBias());
                assertEquals(arch.equals("stablelm") ? NormKind.LAYER : NormKind.RMS, m.config().norm());
                float[][] logits = m.logits(new int[] {1, 70, 80});
                assertEquals(TinyGguf.VOCAB, logits[2].length);
                for (float f : logits[2]) assertTrue(Float.isFinite(f));
            }
        }
    }

    @Test
    void slidingWindowKeyIsRead() {
        Path f = TinyGguf.write(dir.resolve("swa.gguf"), "llama", w -> w.putUInt32("llama.attention.sliding_window", 16));
        try (Model m = Models.open(f)) {
            assertEquals(16, m.config().slidingWindow());
        }
    }

    @Test
    void inconsistentModelsAreRejectedByName() {
        expect("unknown architecture", "llama", w -> w.putString("general.architecture", "gptj"), "'gptj' is not supported");
        expect("heads that do not divide", "llama", w -> w.putUInt32("llama.attention.head_count_kv", 3), "head_count");
        expect("missing tensor", "llama", w -> {}, "blk.1.ffn_up.weight", "blk.1.ffn_up.weight");
        expect("wrong shape", "llama", w -> w.putUInt32("llama.feed_forward_length", 48), "blk.0.ffn_gate.weight");
        expect("absurd layer count", "llama", w -> w.putUInt32("llama.block_count", 1_000_000), "block_count");
        expect("missing key", "llama", w -> w.remove("llama.embedding_length"), "llama.embedding_length");
        expect("special id past the vocabulary", "llama", w -> w.putUInt32("tokenizer.ggml.bos_token_id", 5000), "bos_token_id");
    }

    private void expect(String what, String arch, Consumer<GgufWriter> edit, String inMessage) {
        expect(what, arch, edit, null, inMessage);
    }

    private void expect(String what, String arch, Consumer<GgufWriter> edit, String dropTensor, String inMessage) {
        Path f = TinyGguf.write(dir.resolve(what.replace(' ', '_') + ".gguf"), arch,
                dropTensor == null ? edit : w -> w.removeTensor(dropTensor));
        var e = assertThrows(ModelFormatException.class, () -> Models.open(f).close(), what);
        assertTrue(e.getMessage().contains(inMessage), what + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(f.getFileName().toString()), what + " names the file: " + e.getMessage());
    }
}
