package org.slm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.testing.Shared;

/** {@code slm4j quantize} end to end: the file llama-quantize made from the same F32 model, and the refusals. */
class QuantizeCommandTest {
    private static final String DIR = "fixtures/llamacpp/";

    @TempDir Path tmp;

    @Test
    void writesWhatLlamaQuantizeWrote() throws IOException {
        Path out = tmp.resolve("q.gguf");
        CliTest.Run r = CliTest.run("quantize", Shared.file(DIR + "tiny-llama-f32.gguf").toString(), out.toString(), "--type", "q4_0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + out + ": Q4_0"), r.out());
        assertArrayEquals(Files.readAllBytes(Shared.file(DIR + "tiny-llama-q4_0.gguf")), Files.readAllBytes(out));
    }

    @Test
    void namesTheChoicesForAnUnknownType() {
        CliTest.Run r = CliTest.run("quantize", "in.gguf", tmp.resolve("o.gguf").toString(), "--type", "q3_k_m");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("unknown quantization type 'q3_k_m'") && r.err().contains("q4_k_m, q5_k_s, q5_k_m, q6_k"), r.err());
    }

    @Test
    void refusesQuantizedInputAndOverwritingTheInput() throws IOException {
        Path q8 = Shared.file(DIR + "tiny-llama-q8_0.gguf");
        Path out = tmp.resolve("o.gguf");
        CliTest.Run r = CliTest.run("quantize", q8.toString(), out.toString(), "--type", "q4_0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is already Q8_0") && r.err().contains("lose precision"), r.err());
        assertFalse(Files.exists(out));

        Path copy = Files.copy(Shared.file(DIR + "tiny-llama-f32.gguf"), tmp.resolve("f32.gguf"));
        r = CliTest.run("quantize", copy.toString(), tmp.resolve(".").resolve("f32.gguf").toString(), "--type", "q8_0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is the input file"), r.err());
    }
}
