package org.slm4j.format;

/**
 * A model, tokenizer or weights file that slm4j cannot accept: truncated, hostile, or of a kind it does
 * not support. The message names the file, the field or tensor, the value found and what was expected.
 */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
