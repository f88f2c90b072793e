package org.slm4j.tokenizer;

/**
 * What a vocabulary entry is, with the codes GGUF stores in {@code tokenizer.ggml.token_type} (SentencePiece's
 * piece types, shifted by one so that 0 means "not said").
 */
public enum TokenType {
    /** Code 0: the file said nothing; the token is never produced by text and decodes to nothing. */
    UNDEFINED,
    /** Code 1: an ordinary piece, produced by merging. */
    NORMAL,
    /** Code 2: the unknown token ({@code <unk>}); decodes to nothing. */
    UNKNOWN,
    /** Code 3: BOS, EOS, chat markers: matched in text only when special tokens are parsed; decodes to nothing. */
    CONTROL,
    /** Code 4: an added token that is always matched as a whole in text and decodes to its own text. */
    USER_DEFINED,
    /** Code 5: a reserved slot; decodes to nothing. */
    UNUSED,
    /** Code 6: a byte-fallback piece {@code <0xNN>} standing for one raw byte. */
    BYTE;

    private static final TokenType[] BY_CODE = values();

    /** The type stored as {@code code}, or null when the code is none of 0..6. */
    public static TokenType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** The code GGUF stores for this type. */
    public int code() {
        return ordinal();
    }
}
