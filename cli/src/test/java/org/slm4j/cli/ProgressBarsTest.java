package org.slm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Without a terminal the bars must not fill a CI log with a carriage-returned line per update. */
class ProgressBarsTest {
    @Test
    void withoutATerminalEachTaskWritesOneLineWhenItEnds() {
        var bytes = new ByteArrayOutputStream();
        try (ProgressBars bars = new ProgressBars(new PrintStream(bytes, true, StandardCharsets.UTF_8), false)) {
            for (long d = 0; d <= 10_000; d += 10) bars.update("quantize", d, 10_000);   // well within 10 s
            bars.update("config.json", 512, 512);
        }
        String log = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains("\r"), log);
        assertEquals("quantize: 10,000 of 10,000 (100%)\nconfig.json: 512 of 512 (100%)\n", log.replace(System.lineSeparator(), "\n"));
    }
}
