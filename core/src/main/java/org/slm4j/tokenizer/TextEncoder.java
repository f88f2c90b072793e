package org.slm4j.tokenizer;

/** A merge algorithm: ordinary text (no special tokens in it) to ids. */
interface TextEncoder {
    /**
     * Appends the ids of {@code text} (well-formed: no unpaired surrogate) to {@code out}.
     *
     * @param afterSpecial whether the text starts the sequence or follows a special token
     */
    void encode(String text, boolean afterSpecial, IntList out);
}
