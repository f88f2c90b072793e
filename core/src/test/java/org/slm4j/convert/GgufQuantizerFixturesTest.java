package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufTensorInfo;
import org.slm4j.format.Progress;
import org.slm4j.testing.Shared;

/**
 * Quantizes the shared F32 fixtures and compares with the files llama-quantize made from them (see the fixtures'
 * README): every tensor's type, shape and bytes and general.file_type; for the files llama-quantize wrote (not the F16
 * ones, which gguf-py wrote) also tensor order, metadata order and the whole file byte for byte.
 */
class GgufQuantizerFixturesTest {
    private static final String DIR = "fixtures/llamacpp/";

    @TempDir Path tmp;

    @ParameterizedTest
    @CsvSource({
        "tiny-llama-f32,     f16,    F16",
        "tiny-llama-f32,     q8_0,   Q8_0",
        "tiny-llama-f32,     q4_0,   Q4_0",
        "tiny-stablelm-f32,  f16,    F16",
        "tiny-stablelm-f32,  q8_0,   Q8_0",
        "tiny-stablelm-f32,  q4_0,   Q4_0",
        "tiny256q-llama-f32, bf16,   BF16",
        "tiny256q-llama-f32, q4_1,   Q4_1",
        "tiny256q-llama-f32, q4_k_m, Q4_K_M",
        "tiny256q-llama-f32, q6_k,   Q6_K",
    })
    void matchesLlamaQuantize(String source, String suffix, FileType type) throws IOException {
        Path in = Shared.file(DIR + source + ".gguf");
        Path expected = Shared.file(DIR + source.replace("-f32", "-" + suffix) + ".gguf");
        Path out = tmp.resolve("out.gguf");
        GgufQuantizer.quantize(in, out, type, Progress.NONE);
        try (GgufFile mine = GgufFile.open(out); GgufFile theirs = GgufFile.open(expected)) {
            assertEquals(theirs.getInt("general.file_type"), mine.getInt("general.file_type"));
            assertEquals(type.id(), mine.getInt("general.file_type"));
            assertEquals(theirs.tensors().size(), mine.tensors().size(), "tensor count");
            for (GgufTensorInfo t : theirs.tensors()) {
                GgufTensorInfo m = mine.tensor(t.name());
                assertEquals(t.type(), m.type(), t.name() + " type");
                assertArrayEquals(t.shape(), m.shape(), t.name() + " shape");
                assertArrayEquals(theirs.tensorData(t).toArray(ValueLayout.JAVA_BYTE), mine.tensorData(m).toArray(ValueLayout.JAVA_BYTE),
                        t.name() + " bytes");
            }
            if (!theirs.has("general.quantization_version")) return;   // the F16 fixtures came from gguf-py, not llama-quantize
            List<String> names = theirs.tensors().stream().map(GgufTensorInfo::name).toList();
            assertEquals(names, mine.tensors().stream().map(GgufTensorInfo::name).toList(), "tensor order");
            assertEquals(List.copyOf(theirs.metadata().keySet()), List.copyOf(mine.metadata().keySet()), "metadata keys in order");
        }
        assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(out), "whole file");
    }
}
