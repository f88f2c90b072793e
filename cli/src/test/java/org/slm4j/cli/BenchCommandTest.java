package org.slm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench's JSON shape (what bench/compare.sh reads) and create-random's errors. */
class BenchCommandTest {
    @Test
    void benchJsonHasThePromisedFields() throws Exception {
        CliTest.Run r = CliTest.run("bench", "-m", CliTest.stories(), "-p", "8", "-n", "4", "-r", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = CliTest.JSON.readTree(r.out());
        assertEquals(CliTest.stories(), o.get("model").asText());
        assertTrue(o.get("threads").asInt() >= 1);
        assertEquals(8, o.get("pp").get("tokens").asInt());
        assertEquals(4, o.get("tg").get("tokens").asInt());
        assertTrue(o.get("pp").get("tok_s").asDouble() > 0);
        assertTrue(o.get("tg").get("tok_s").asDouble() > 0);
    }

    @Test
    void benchRunsAfterADepthAndRefusesOnePastTheContext() throws Exception {
        CliTest.Run r = CliTest.run("bench", "-m", CliTest.stories(), "-p", "4", "-n", "4", "-d", "16", "-r", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = CliTest.JSON.readTree(r.out());
        assertEquals(16, o.get("depth").asInt());
        assertTrue(o.get("tg").get("tok_s").asDouble() > 0);
        CliTest.Run deep = CliTest.run("bench", "-m", CliTest.stories(), "-p", "4", "-n", "4", "-d", "100000", "-r", "1");
        assertEquals(1, deep.code());
        assertTrue(deep.err().contains("exceeds the model's context"), deep.err());
    }

    @Test
    void createRandomNamesWhatIsWrong(@TempDir Path dir) {
        Path out = dir.resolve("m.gguf");
        CliTest.Run shape = CliTest.run("create-random", "--shape", "gpt-9", "--type", "q4_0", "-o", out.toString());
        assertEquals(1, shape.code());
        assertTrue(shape.err().contains("unknown shape 'gpt-9'"), shape.err());
        CliTest.Run type = CliTest.run("create-random", "--shape", "tinyllama-1_1b", "--type", "q9", "-o", out.toString());
        assertEquals(1, type.code());
        assertTrue(type.err().contains("--type q9"), type.err());
        CliTest.Run unwritable = CliTest.run("create-random", "--shape", "tinyllama-1_1b", "--type", "q5_k", "-o", out.toString());
        assertEquals(1, unwritable.code());
        assertTrue(unwritable.err().contains("cannot write random Q5_K"), unwritable.err());
        assertTrue(Files.notExists(out));
    }
}
