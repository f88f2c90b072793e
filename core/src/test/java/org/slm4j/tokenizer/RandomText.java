package org.slm4j.tokenizer;

import java.util.Random;

/** Short random strings from an alphabet that exercises every branch of the splitters and the byte fallback. */
final class RandomText {
    private RandomText() {}

    private static final int[] ALPHABET = {
        'a', 'b', 'Z', 's', 't', 'm', 'd', 'l', 'r', 'v', 'e', 'S', 'L', 'E', '\'', '0', '7', '9', ' ', ' ', ' ',
        '\t', '\n', '\r', '\u000B', '!', '.', ',', '`', '$', '+', '<', '|', '~', '^', '_', '"', '@', 0x7F, 0x01,
        'é', 'ß', 'Ж', '中', 'ア', 'ـ', 0x0301, 0x093F, '٣', '½', 'Ⅷ', '²', '«', '»', '—', '€', '☃', '∑',
        0x00A0, 0x2009, 0x3000, 0x2028, 0x0085, 0x200D, 0xFEFF, 0xE000, 0x0378, 0x1F600, 0x1F468, 0x10400, 0x20000
    };

    static String of(Random r, int maxLength) {
        StringBuilder b = new StringBuilder();
        for (int n = r.nextInt(maxLength + 1); n > 0; n--) b.appendCodePoint(ALPHABET[r.nextInt(ALPHABET.length)]);
        return b.toString();
    }
}
