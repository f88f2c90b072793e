package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Ids fed one at a time ("throttled" UTF-8: characters split over byte tokens). */
class StreamingDecoderTest {
    /** A SentencePiece vocabulary: unk, BOS, EOS, the 256 byte tokens (ids 3..258), then "▁a", "a" and "▁". */
    static Tokenizer bytesOnly() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) tokens.add("<0x%02X>".formatted(b));
        tokens.addAll(List.of("▁a", "a", "▁"));
        TokenType[] types = new TokenType[tokens.size()];
        Arrays.fill(types, TokenType.NORMAL);
        types[0] = TokenType.UNKNOWN;
        types[1] = types[2] = TokenType.CONTROL;
        Arrays.fill(types, 3, 259, TokenType.BYTE);
        return Tokenizer.of(new Vocabulary(Vocabulary.Model.SENTENCEPIECE, null, tokens.toArray(String[]::new),
                new float[tokens.size()], types, new String[0], 1, 2, 0, -1, new int[] {2}, true, false, true));
    }

    private static int byteId(int b) {
        return 3 + b;
    }

    /** Streams {@code ids}, checking that each piece is whole characters; returns the pieces. */
    private static List<String> stream(Tokenizer t, int[] ids) {
        StreamingDecoder d = t.newStreamingDecoder();
        List<String> out = new ArrayList<>();
        for (int id : ids) out.add(d.accept(id));
        out.add(d.flush());
        return out;
    }

    @Test
    void multiByteCharactersComeOutWhole() {
        Tokenizer t = bytesOnly();
        String text = "a é 中 😀 a👨\u200d👩\u200d👧";
        int[] ids = t.encode(text, true, false);
        assertEquals(1, ids[0]);
        // every character but 'a' and '▁' is outside the vocabulary: one byte token per UTF-8 byte, 2+3+4+4+3+4+3+4
        assertEquals(27, Arrays.stream(ids).filter(id -> id >= byteId(0) && id <= byteId(255)).count());
        List<String> pieces = stream(t, ids);
        assertEquals(" " + text, String.join("", pieces));
        assertEquals(t.decode(ids), String.join("", pieces));
        for (String p : pieces) {
            assertFalse(p.contains("\uFFFD"), "no piece ends inside a character: " + pieces);
            assertEquals(p, new String(p.getBytes(UTF_8), UTF_8));
        }
        // "😀" is four byte tokens: three calls give nothing, the fourth the character
        int[] emoji = IntStream.of(0xF0, 0x9F, 0x98, 0x80).map(StreamingDecoderTest::byteId).toArray();
        assertEquals(List.of("", "", "", "😀", ""), stream(t, emoji));
        assertEquals(List.of("", "", ""), stream(t, new int[] {1, 2}), "BOS and EOS decode to nothing");
    }

    /** Whatever the bytes, valid or not, the stream adds up to decode() of all of them and never splits a character. */
    @Test
    void randomBytesAddUpToDecode() {
        Tokenizer t = bytesOnly();
        Random r = new Random(3);
        int[] interesting = {0x41, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0xA0, 0x8F, 0x90};
        for (int i = 0; i < 5000; i++) {
            int[] ids = new int[r.nextInt(12)];
            for (int j = 0; j < ids.length; j++) {
                int b = r.nextBoolean() ? interesting[r.nextInt(interesting.length)] : r.nextInt(256);
                ids[j] = r.nextInt(10) == 0 ? 259 + r.nextInt(3) : byteId(b);
            }
            List<String> pieces = stream(t, ids);
            assertEquals(t.decode(ids), String.join("", pieces), Arrays.toString(ids));
            for (String p : pieces.subList(0, pieces.size() - 1)) {
                assertTrue(p.isEmpty() || !Character.isHighSurrogate(p.charAt(p.length() - 1)), "split pair " + pieces);
            }
        }
    }

    /** Unicode §3.9's examples of replacing maximal subparts (Table 3-8 and the ill-formed cases around it). */
    @Test
    void replacementFollowsUnicode() {
        assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd",
                utf8(0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64));
        assertEquals("\uFFFD\uFFFD\uFFFD", utf8(0xED, 0xA0, 0x80), "a surrogate is three bad bytes");
        assertEquals("\uFFFD\uFFFD\uFFFD", utf8(0xE0, 0x80, 0x80), "overlong");
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", utf8(0xF4, 0x90, 0x80, 0x80), "past U+10FFFF");
        assertEquals("\uFFFD\uFFFD", utf8(0xC0, 0xAF));
        assertEquals("\uFFFDA", utf8(0xF0, 0x9F, 0x98, 0x41), "a cut-short sequence is one U+FFFD");
        assertEquals("é中😀", utf8(0xC3, 0xA9, 0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0x98, 0x80));
    }

    private static String utf8(int... bytes) {
        Tokenizer t = bytesOnly();
        return t.decode(IntStream.of(bytes).map(StreamingDecoderTest::byteId).toArray());
    }

    @Test
    void badIdsAreRefused() {
        Tokenizer t = bytesOnly();
        var e = assertThrows(IllegalArgumentException.class, () -> t.newStreamingDecoder().accept(262));
        assertTrue(e.getMessage().contains("262"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}));
        assertArrayEquals(new int[] {1, 259}, t.encode("a", true, false));
    }
}
