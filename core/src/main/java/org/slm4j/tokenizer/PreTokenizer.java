package org.slm4j.tokenizer;

/**
 * How byte-level BPE cuts text into words before merging: each known pattern is a hand-written splitter that
 * gives exactly the matches of its regular expression (the regexes are quoted on each constant). Hand-written
 * because java.util.regex overflows its stack on long input with these quantified alternations, and because
 * this is also the fast path. Letters, numbers and punctuation are Unicode general categories (L*, N*, P*);
 * white space is the Unicode White_Space property, as {@code \s} in the tokenizers' regex engines.
 */
public enum PreTokenizer {
    /**
     * GPT-2 ({@code tokenizer.ggml.pre} "gpt-2"):
     * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}.
     */
    GPT2 {
        @Override
        void split(int[] cp, int from, int to, IntList ends) {
            gpt2(cp, from, to, ends);
        }
    },
    /**
     * llama.cpp's choice for a byte-level vocabulary without {@code tokenizer.ggml.pre} (older conversions,
     * GPT-NeoX): four splits in turn: runs of {@code [\p{P}$+<=>^~|]}, then GPT-2's pattern inside each piece,
     * then runs of {@code \p{N}}, then ASCII digits in threes from the left ({@code [0-9][0-9][0-9]}).
     */
    DEFAULT {
        @Override
        void split(int[] cp, int from, int to, IntList ends) {
            IntList a = new IntList(), b = new IntList();
            runs(cp, from, to, PreTokenizer::isDefaultPunctuation, a);
            each(cp, from, a, b, PreTokenizer::gpt2);
            a.clear();
            each(cp, from, b, a, (c, f, t, e) -> runs(c, f, t, PreTokenizer::isNumber, e));
            each(cp, from, a, ends, PreTokenizer::digitTriples);
        }
    },
    /**
     * cl100k_base (also Llama 3's): {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
     * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}.
     */
    CL100K {
        @Override
        void split(int[] cp, int from, int to, IntList ends) {
            cl100k(cp, from, to, 3, ends);
        }
    },
    /**
     * StableLM 2's Arcade100k ({@code tokenizer.ggml.pre} "stablelm2"): cl100k with {@code \p{N}} taken one digit
     * at a time.
     */
    STABLELM2 {
        @Override
        void split(int[] cp, int from, int to, IntList ends) {
            cl100k(cp, from, to, 1, ends);
        }
    };

    /** Appends the end offset of each word of {@code cp[from..to)}, in order; the words tile the range. */
    abstract void split(int[] cp, int from, int to, IntList ends);

    /** The words of {@code cp}: the end offset of each, in order. */
    int[] words(int[] cp) {
        IntList ends = new IntList();
        if (cp.length > 0) split(cp, 0, cp.length, ends);
        return ends.toArray();
    }

    private interface Splitter {
        void split(int[] cp, int from, int to, IntList ends);
    }

    private interface CodePointTest {
        boolean test(int c);
    }

    /** Applies {@code s} to every piece of {@code pieces} (end offsets, the first piece starting at from). */
    private static void each(int[] cp, int from, IntList pieces, IntList out, Splitter s) {
        for (int i = 0, start = from; i < pieces.size(); start = pieces.get(i++)) s.split(cp, start, pieces.get(i), out);
    }

    // Character classes. White space first: no White_Space code point is a letter or number.
    private static final int OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3;
    private static final byte[] ASCII_KIND = new byte[128];

    static {
        for (int c = 0; c < 128; c++) ASCII_KIND[c] = (byte) kindOf(c);
    }

    private static int kind(int c) {
        return c < 128 ? ASCII_KIND[c] : kindOf(c);
    }

    private static int kindOf(int c) {
        if (isWhiteSpace(c)) return SPACE;
        return switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }

    /** Unicode White_Space: TAB..CR, NEL, and the space, line and paragraph separators (Zs, Zl, Zp). */
    static boolean isWhiteSpace(int c) {
        if (c >= 9 && c <= 13 || c == 0x85) return true;
        int t = Character.getType(c);
        return t == Character.SPACE_SEPARATOR || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR;
    }

    private static boolean isNumber(int c) {
        return kind(c) == NUMBER;
    }

    /** {@code [\p{P}$+<=>^~|]}: every ASCII punctuation or symbol but the backtick, and Unicode punctuation. */
    private static boolean isDefaultPunctuation(int c) {
        if (c < 128) return c > ' ' && c < 127 && c != '`' && kind(c) == OTHER;
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static boolean isNewline(int c) {
        return c == '\r' || c == '\n';
    }

    /** The end of the run of code points of kind {@code k} starting at {@code pos}. */
    private static int run(int[] cp, int pos, int to, int k) {
        while (pos < to && kind(cp[pos]) == k) pos++;
        return pos;
    }

    /** The end of {@code 's|'t|'re|'ve|'m|'ll|'d} at {@code pos} (ASCII letters of either case if asked), or -1. */
    private static int contraction(int[] cp, int pos, int to, boolean anyCase) {
        if (cp[pos] != '\'' || pos + 1 >= to) return -1;
        int a = cp[pos + 1];
        if (anyCase && a >= 'A' && a <= 'Z') a += 'a' - 'A';
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return pos + 2;
        if (pos + 2 >= to) return -1;
        int b = cp[pos + 2];
        if (anyCase && b >= 'A' && b <= 'Z') b += 'a' - 'A';
        return (a == 'r' || a == 'v') && b == 'e' || a == 'l' && b == 'l' ? pos + 3 : -1;
    }

    /**
     * White space at {@code pos}: up to the last CR/LF of the run when {@code toNewline} and there is one
     * ({@code \s*[\r\n]+}), else all of it but the last when more text follows ({@code \s+(?!\S)}: that last space
     * belongs to the next word), else all of it ({@code \s+}).
     */
    private static int spaces(int[] cp, int pos, int to, boolean toNewline) {
        int end = run(cp, pos, to, SPACE);
        if (toNewline) {
            for (int i = end - 1; i >= pos; i--) if (isNewline(cp[i])) return i + 1;
        }
        return end - pos > 1 && end < to ? end - 1 : end;
    }

    private static void gpt2(int[] cp, int from, int to, IntList ends) {
        for (int pos = from; pos < to; pos = ends.get(ends.size() - 1)) ends.add(gpt2Word(cp, pos, to));
    }

    private static int gpt2Word(int[] cp, int pos, int to) {
        int end = contraction(cp, pos, to, false);
        if (end >= 0) return end;
        int q = cp[pos] == ' ' && pos + 1 < to ? pos + 1 : pos; // the optional leading space
        int k = kind(cp[q]);
        return k == SPACE ? spaces(cp, pos, to, false) : run(cp, q + 1, to, k);
    }

    private static void cl100k(int[] cp, int from, int to, int maxDigits, IntList ends) {
        for (int pos = from; pos < to; pos = ends.get(ends.size() - 1)) ends.add(cl100kWord(cp, pos, to, maxDigits));
    }

    private static int cl100kWord(int[] cp, int pos, int to, int maxDigits) {
        int end = contraction(cp, pos, to, true);
        if (end >= 0) return end;
        int c = cp[pos], k = kind(c);
        if (k == LETTER || !isNewline(c) && k != NUMBER && pos + 1 < to && kind(cp[pos + 1]) == LETTER) {
            return run(cp, pos + 1, to, LETTER); // [^\r\n\p{L}\p{N}]?\p{L}+
        }
        if (k == NUMBER) return run(cp, pos, Math.min(to, pos + maxDigits), NUMBER);
        int q = c == ' ' && pos + 1 < to ? pos + 1 : pos;
        if (kind(cp[q]) != OTHER) return spaces(cp, pos, to, true);
        end = run(cp, q + 1, to, OTHER); // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        while (end < to && isNewline(cp[end])) end++;
        return end;
    }

    /** Maximal runs of code points that pass {@code t} and of those that do not, alternating. */
    private static void runs(int[] cp, int from, int to, CodePointTest t, IntList ends) {
        for (int pos = from; pos < to; ) {
            boolean in = t.test(cp[pos]);
            int end = pos + 1;
            while (end < to && t.test(cp[end]) == in) end++;
            ends.add(end);
            pos = end;
        }
    }

    /** Each leftmost three ASCII digits in a row become a word; what lies between them stays whole. */
    private static void digitTriples(int[] cp, int from, int to, IntList ends) {
        int start = from;
        for (int i = from; i + 3 <= to; ) {
            if (isAsciiDigit(cp[i]) && isAsciiDigit(cp[i + 1]) && isAsciiDigit(cp[i + 2])) {
                if (i > start) ends.add(i);
                ends.add(i + 3);
                start = i += 3;
            } else {
                i++;
            }
        }
        if (start < to) ends.add(to);
    }

    private static boolean isAsciiDigit(int c) {
        return c >= '0' && c <= '9';
    }
}
