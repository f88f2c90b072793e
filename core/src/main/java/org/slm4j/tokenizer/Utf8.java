package org.slm4j.tokenizer;

/**
 * Bytes to text with Unicode's recommended replacement (§3.9, "maximal subparts"): each longest stretch that
 * begins a well-formed sequence but is cut short, and each byte that begins none, becomes one U+FFFD. Written out
 * because the JDK's decoder groups some ill-formed bytes differently (a UTF-8 surrogate is one U+FFFD there), and the
 * streaming decoder must cut text exactly where this rule does.
 */
final class Utf8 {
    private Utf8() {}

    /** Bytes in the sequence that {@code lead} begins, or 0 when no well-formed sequence begins with it. */
    static int sequenceLength(int lead) {
        return lead < 0x80 ? 1 : lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
    }

    /** Whether {@code second} may follow {@code lead}: the limits that keep out overlong forms, surrogates, > U+10FFFF. */
    static boolean validSecond(int lead, int second) {
        int lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
        int hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
        return second >= lo && second <= hi;
    }

    static String decode(byte[] b, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        for (int i = from; i < to; ) {
            int lead = b[i] & 0xFF, n = sequenceLength(lead);
            if (n == 1) {
                out.append((char) lead);
                i++;
                continue;
            }
            int j = i + 1; // end of the well-formed part so far
            if (n > 1 && j < to && validSecond(lead, b[j] & 0xFF)) {
                j++;
                while (j < i + n && j < to && (b[j] & 0xC0) == 0x80) j++;
            }
            if (j == i + n) {
                int c = lead & (0xFF >> (n + 1));
                for (int k = i + 1; k < j; k++) c = c << 6 | b[k] & 0x3F;
                out.appendCodePoint(c);
            } else {
                out.append('\uFFFD');
            }
            i = j;
        }
        return out.toString();
    }
}
