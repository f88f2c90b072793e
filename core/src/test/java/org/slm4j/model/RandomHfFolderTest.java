package org.slm4j.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.SafetensorsFile.Dtype;

/** Sizes a caller gets wrong are named before anything is written. */
class RandomHfFolderTest {
    @TempDir Path tmp;

    @Test
    void zeroHeadsAreNamedNotDividedBy() {
        var d = new RandomModel.Dims("llama", 300, 64, 96, 2, 0, 0, 16, 128, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> RandomHfFolder.write(d, "no-heads", Dtype.F32, 1, tmp.resolve("m")));
        assertTrue(e.getMessage().contains("no-heads") && e.getMessage().contains("heads=0"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("m")));
    }
}
