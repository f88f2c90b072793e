package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.Progress;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.model.RandomHfFolder;
import org.slm4j.model.RandomModel;
import org.slm4j.model.RopeLayout;

/**
 * Small random HF folders of each family, written by {@link RandomHfFolder}, converted and run: the GGUF must compute
 * what the folder computes (1e-5), through the features that each family alone has: StableLM's partial rotary,
 * LayerNorm biases and q/k/v biases, Danube's sliding window (prompts longer than the window), Llama's GQA
 * permutation. The folder side is slm4j's HF loader, which runs the HF weights unpermuted with rotate_half pairing.
 */
class RandomHfConversionTest {
    @TempDir
    Path tmp;

    static RandomModel.Dims dims(String family) {
        return switch (family) {
            // head_dim 16, rotary on 4 of them
            case "stablelm" -> new RandomModel.Dims("stablelm", 300, 64, 96, 2, 4, 4, 4, 128, 0);
            case "llama" -> new RandomModel.Dims("llama", 300, 64, 96, 2, 4, 2, 16, 128, 0);
            // Danube-like: head_dim 80, GQA, a window of 5 positions
            case "danube" -> new RandomModel.Dims("llama", 300, 160, 192, 2, 2, 1, 80, 128, 5);
            default -> throw new IllegalArgumentException(family);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"stablelm", "llama", "danube"})
    void convertedRandomFolderComputesWhatTheFolderComputes(String family) {
        Path hf = tmp.resolve(family);
        RandomHfFolder.write(dims(family), family, Dtype.F32, 11, hf);
        Path out = tmp.resolve(family + ".gguf");
        HfToGguf.convert(hf, out, FileType.F32, Progress.NONE);
        int[] tokens = {1, 17, 200, 45, 299, 3, 88, 120, 7, 64, 250, 33};
        try (Model folder = Models.open(hf); Model gguf = Models.open(out)) {
            assertEquals(folder.config().rotaryDims(), gguf.config().rotaryDims());
            assertEquals(folder.config().qkvBias(), gguf.config().qkvBias());
            assertEquals(folder.config().slidingWindow(), gguf.config().slidingWindow());
            assertEquals(family.equals("stablelm") ? RopeLayout.HALF : RopeLayout.ADJACENT, gguf.config().ropeLayout());
            double d = HfToGgufTest.maxDiff(gguf.logits(tokens), folder.logits(tokens));
            System.out.printf("random %-8s HF folder vs converted GGUF: max |diff| %.2e%n", family, d);
            assertTrue(d < 1e-5, family + ": " + d);
            if (family.equals("danube")) {
                // the window matters for these 12 positions: with full attention the logits move
                Model full = gguf.withSlidingWindow(0); // shares gguf's mapping, closed with it
                assertTrue(HfToGgufTest.maxDiff(full.logits(tokens), folder.logits(tokens)) > 1e-3);
            }
        }
    }

    @Test
    void f16FolderConvertsExactly() {
        Path hf = tmp.resolve("f16");
        RandomHfFolder.write(dims("llama"), "llama", Dtype.F16, 3, hf);
        Path out = tmp.resolve("f16.gguf");
        HfToGguf.convert(hf, out, FileType.F16, Progress.NONE);
        int[] tokens = {1, 5, 260, 9, 77};
        try (Model folder = Models.open(hf); Model gguf = Models.open(out)) {
            // F16 → float → F16 is exact; the two rotary layouts round differently in the last bit, and the F16
            // rounding of every matmul input (as llama.cpp does) can turn that into a whole F16 step: 1e-3, as with the
            // F16 fixtures (tolerance 1e-2 there too). A missing or wrong q/k permutation is off by about 2.
            double d = HfToGgufTest.maxDiff(gguf.logits(tokens), folder.logits(tokens));
            assertTrue(d < 1e-2, "f16: " + d);
        }
    }

    /** HF's own tokenizers library reads the random folders' tokenizer.json and agrees with ours on the ids. */
    @ParameterizedTest
    @ValueSource(strings = {"stablelm", "llama"})
    void randomTokenizerIsOneHuggingFaceReads(String family) throws IOException {
        Path hf = tmp.resolve("tok-" + family);
        RandomHfFolder.write(dims(family), family, Dtype.F32, 1, hf);
        String text = "Hello world, 123 ünïcode!";
        try (Model ours = Models.open(hf);
             HuggingFaceTokenizer djl = HuggingFaceTokenizer.newInstance(hf.resolve("tokenizer.json"),
                     Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"))) {
            int[] expected = Arrays.stream(djl.encode(text).getIds()).mapToInt(Math::toIntExact).toArray();
            assertTrue(expected.length > 0);
            assertArrayEquals(expected, ours.tokenizer().encode(text, false, false));
        }
    }
}
