package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slm4j.testing.Shared;

/**
 * Ids equal to independent tokenizers' over a corpus of real and generated lines: Hugging Face tokenizers (through
 * DJL) on Llama 2's and Mistral's tokenizer.json, jtokkit on cl100k_base. The oracles get the text with unpaired
 * surrogates already replaced by U+FFFD (they would garble them otherwise); ours gets the raw text, so that the
 * replacement is checked too.
 */
class ParityTest {
    static List<String> corpus;

    @BeforeAll
    static void corpus() throws IOException {
        corpus = corpus(Integer.MAX_VALUE);
    }

    /** WikiText-2 (test, valid), tinyshakespeare, up to 20,000 KJV lines, and generated edge cases. */
    static List<String> corpus(int kjvLines) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.addAll(Files.readAllLines(Shared.file("datasets/wikitext-2/test.txt"), UTF_8));
        lines.addAll(Files.readAllLines(Shared.file("datasets/wikitext-2/valid.txt"), UTF_8));
        lines.addAll(Files.readAllLines(Shared.file("corpora/tinyshakespeare/input.txt"), UTF_8));
        List<String> kjv = Files.readAllLines(Shared.file("corpora/kjv-bible/kjv.txt"), UTF_8);
        lines.addAll(kjv.subList(0, Math.min(Math.min(kjvLines, 20_000), kjv.size())));
        lines.addAll(ByteLevelVectorsTest.TRICKY);
        Random r = new Random(2026);
        String[] specials = {"<s>", "</s>", "<unk>", "<|endoftext|>", "<|fim_prefix|>", "<|im_start|>", "<0x41>"};
        for (int i = 0; i < 3000; i++) {
            StringBuilder b = new StringBuilder(RandomText.of(r, 60));
            switch (i % 10) {
                case 0 -> b.insert(r.nextInt(b.length() + 1), specials[r.nextInt(specials.length)]);
                case 1 -> b.append(" ".repeat(r.nextInt(20))).append("\t".repeat(r.nextInt(5))).append("\n".repeat(r.nextInt(5)));
                case 2 -> b.append(String.valueOf(r.nextLong() & Long.MAX_VALUE).repeat(1 + r.nextInt(4)));
                case 3 -> b.insert(r.nextInt(b.length() + 1), (char) (0xD800 + r.nextInt(0x800))); // an unpaired surrogate
                case 4 -> b.append("supercalifragilistic".repeat(1 + r.nextInt(200)));
                case 5 -> b.append("東京タワーの夜景 🗼✨ 北京烤鸭 서울 ".repeat(1 + r.nextInt(3)));
                case 6 -> b.append(" à é î õ ü ç ñ ø å æ œ ß ".repeat(1 + r.nextInt(3)));
                case 7 -> b.insert(0, " ".repeat(1 + r.nextInt(6)));
                case 8 -> b.append("x".repeat(2000 + r.nextInt(3000))); // a very long word
                default -> { }
            }
            lines.add(b.toString());
        }
        return lines;
    }

    private static int compare(String name, Function<String, int[]> ours, Function<String, int[]> oracle) {
        int n = 0, mismatches = 0;
        String first = null;
        for (String line : corpus) {
            String clean = wellFormedText(line);
            int[] want = oracle.apply(clean), got = ours.apply(line);
            if (!Arrays.equals(want, got)) {
                if (mismatches++ == 0) first = "\"" + line + "\": want " + Arrays.toString(want) + ", got " + Arrays.toString(got);
            }
            n++;
        }
        System.out.println(name + ": compared " + n + " lines, " + mismatches + " mismatches");
        assertEquals(0, mismatches, name + ": first mismatch " + first);
        return n;
    }

    /** Unpaired surrogates to U+FFFD (String.getBytes would give '?'). */
    static String wellFormedText(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else {
                b.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return b.toString();
    }

    /** Ours from {@code file} against HF tokenizers on the tokenizer.json of the same folder. */
    private static void huggingFace(String dir, String file) throws IOException {
        Path json = Shared.file("tokenizers/" + dir + "/tokenizer.json");
        Tokenizer ours = Tokenizer.open(json.resolveSibling(file));
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false"))) {
            int n = compare("HF tokenizers (DJL) " + dir + ", ours from " + file, s -> ours.encode(s, true, true),
                    s -> Arrays.stream(hf.encode(s).getIds()).mapToInt(Math::toIntExact).toArray());
            assertTrue(n >= 20_000, n + " lines");
        }
    }

    @Test
    void llama2AgainstHuggingFace() throws IOException {
        huggingFace("llama2", "tokenizer.json");
    }

    /** SentencePiece's score rule and HF's merge ranks agree on Llama 2's vocabulary, which has every character. */
    @Test
    void llama2SentencePieceModelAgainstHuggingFace() throws IOException {
        huggingFace("llama2", "tokenizer.model");
    }

    @Test
    void mistralAgainstHuggingFace() throws IOException {
        huggingFace("mistral-v0.1", "tokenizer.json");
    }

    @Test
    void cl100kAgainstJtokkit() {
        Tokenizer ours = Tokenizer.open(Shared.file("tokenizers/tiktoken/cl100k_base.tiktoken"));
        Encoding jt = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        int n = compare("jtokkit cl100k_base", s -> ours.encode(s, false, false), s -> jt.encodeOrdinary(s).toArray());
        assertTrue(n >= 20_000, n + " lines");
        assertArrayEquals(new int[] {100257}, ours.encode("<|endoftext|>", false, true));
    }
}
