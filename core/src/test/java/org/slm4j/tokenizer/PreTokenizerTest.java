package org.slm4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The hand-written splitters against java.util.regex running the patterns they implement (fine on short input), and
 * on a few cases worked out by hand.
 */
class PreTokenizerTest {
    private static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS; // \s = Unicode White_Space
    private static final Pattern GPT2 =
            Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", FLAGS);
    // (?i:...) spelled out, as llama.cpp does: ASCII case only
    private static final String CONTRACTIONS = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";
    private static final Pattern CL100K = Pattern.compile(CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", FLAGS);
    private static final Pattern STABLELM2 = Pattern.compile(CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", FLAGS);
    private static final Pattern[] DEFAULT = {
        Pattern.compile("[\\p{P}$+<=>^~|]+", FLAGS),
        Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)", FLAGS),
        Pattern.compile("\\p{N}+", FLAGS),
        Pattern.compile("[0-9][0-9][0-9]", FLAGS),
    };

    /** Each pattern in turn: matches and the text between them become pieces (llama.cpp's regex split). */
    private static List<String> regexSplit(String s, Pattern... patterns) {
        List<String> pieces = s.isEmpty() ? List.of() : List.of(s);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>();
            for (String piece : pieces) {
                Matcher m = p.matcher(piece);
                int at = 0;
                while (m.find()) {
                    if (m.start() > at) next.add(piece.substring(at, m.start()));
                    next.add(m.group());
                    at = m.end();
                }
                if (at < piece.length()) next.add(piece.substring(at));
            }
            pieces = next;
        }
        return pieces;
    }

    private static List<String> split(PreTokenizer pre, String s) {
        int[] cp = s.codePoints().toArray();
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int end : pre.words(cp)) {
            words.add(new String(cp, start, end - start));
            start = end;
        }
        return words;
    }

    @Test
    void matchesTheRegexes() {
        Random r = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            String s = RandomText.of(r, 24);
            assertEquals(regexSplit(s, GPT2), split(PreTokenizer.GPT2, s), "GPT2 " + escape(s));
            assertEquals(regexSplit(s, CL100K), split(PreTokenizer.CL100K, s), "CL100K " + escape(s));
            assertEquals(regexSplit(s, STABLELM2), split(PreTokenizer.STABLELM2, s), "STABLELM2 " + escape(s));
            assertEquals(regexSplit(s, DEFAULT), split(PreTokenizer.DEFAULT, s), "DEFAULT " + escape(s));
        }
    }

    @Test
    void byHand() {
        assertEquals(List.of("Hello", " world"), split(PreTokenizer.GPT2, "Hello world"));
        assertEquals(List.of(" ", " a", "'s", "  \n"), split(PreTokenizer.GPT2, "  a's  \n"));
        assertEquals(List.of("'", "S"), split(PreTokenizer.GPT2, "'S"));
        assertEquals(List.of("'S"), split(PreTokenizer.CL100K, "'S"));
        assertEquals(List.of("123", "456", "7", " x"), split(PreTokenizer.CL100K, "1234567 x"));
        assertEquals(List.of("1", "2", "3", "4"), split(PreTokenizer.STABLELM2, "1234"));
        assertEquals(List.of("Hi", "!\n\n", " \n", "\tthere"), split(PreTokenizer.STABLELM2, "Hi!\n\n \n\tthere"));
        assertEquals(List.of("123", "45", " x", "'", "s"), split(PreTokenizer.DEFAULT, "12345 x's"));
    }

    @Test
    void longInputIsLinearAndSafe() {
        String[] bodies = {" ".repeat(200_000), "a".repeat(200_000), "1".repeat(200_000), "!".repeat(200_000), "a b\n".repeat(50_000)};
        for (PreTokenizer pre : PreTokenizer.values()) {
            for (String body : bodies) {
                int[] cp = body.codePoints().toArray();
                int[] ends = pre.words(cp);
                assertEquals(cp.length, ends[ends.length - 1], pre + " covers the input");
            }
        }
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> b.append(c >= ' ' && c < 127 ? Character.toString(c) : "\\u{" + Integer.toHexString(c) + "}"));
        return b.toString();
    }
}
