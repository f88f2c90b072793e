package org.slm4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.testing.Shared;

/** convert end to end: the converted stories260K folder generates what llama.cpp's own stories260K GGUF does. */
class ConvertCommandTest {
    @Test
    void convertedFolderGeneratesLikeTheReferenceGguf(@TempDir Path dir) {
        Path out = dir.resolve("stories.gguf");
        CliTest.Run convert = CliTest.run("convert", Shared.file("models/stories260K/hf").toString(), out.toString(), "--type", "f32");
        assertEquals(0, convert.code(), convert.err());
        assertTrue(convert.out().contains("wrote " + out), convert.out());
        CliTest.Run ours = CliTest.run("generate", "-m", out.toString(), "-p", "Once upon a time", "-n", "24", "--greedy");
        CliTest.Run reference = CliTest.run("generate", "-m", CliTest.stories(), "-p", "Once upon a time", "-n", "24", "--greedy");
        assertEquals(0, ours.code(), ours.err());
        assertEquals(reference.out(), ours.out());
    }

    @Test
    void badInputIsNamed(@TempDir Path dir) {
        Path out = dir.resolve("x.gguf");
        CliTest.Run type = CliTest.run("convert", Shared.file("models/stories260K/hf").toString(), out.toString(), "--type", "q9");
        assertEquals(1, type.code());
        assertTrue(type.err().contains("unknown quantization type 'q9'"), type.err());
        CliTest.Run folder = CliTest.run("convert", dir.toString(), out.toString());
        assertEquals(1, folder.code());
        assertTrue(folder.err().contains("config.json"), folder.err());
        CliTest.Run hfType = CliTest.run("create-random", "--format", "hf", "--shape", "tinyllama-1_1b", "--type", "q8_0",
                "-o", dir.resolve("hf").toString());
        assertEquals(1, hfType.code());
        assertTrue(hfType.err().contains("expected f32, f16 or bf16"), hfType.err());
        assertTrue(Files.notExists(out));
    }
}
