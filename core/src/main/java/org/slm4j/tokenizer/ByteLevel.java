package org.slm4j.tokenizer;

/**
 * GPT-2's byte-to-unicode alphabet: byte-level BPE vocabularies spell every byte as one printable character, so
 * that merges never see spaces or control bytes. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
 * themselves; the other 68 bytes, in increasing order, take U+0100, U+0101, ... ("Ġ" U+0120 is the space).
 */
final class ByteLevel {
    private ByteLevel() {}

    private static final char[] CHAR_OF_BYTE = new char[256];
    private static final byte[] BYTE_OF_CHAR = new byte[256 + 68]; // indexed by char; valid where IS_BYTE_CHAR
    private static final boolean[] IS_BYTE_CHAR = new boolean[256 + 68];

    static {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE;
            char c = (char) (printable ? b : next++);
            CHAR_OF_BYTE[b] = c;
            BYTE_OF_CHAR[c] = (byte) b;
            IS_BYTE_CHAR[c] = true;
        }
    }

    /** The character that spells byte {@code b} (0..255). */
    static char charOf(int b) {
        return CHAR_OF_BYTE[b];
    }

    /** The byte that {@code c} spells, or -1 when {@code c} is not in the alphabet. */
    static int byteOf(int c) {
        return c < IS_BYTE_CHAR.length && IS_BYTE_CHAR[c] ? BYTE_OF_CHAR[c] & 0xFF : -1;
    }
}
