package org.slm4j.tokenizer;

import org.slm4j.format.GgufFile;

/**
 * Text to token ids and back, as llama.cpp does it for the same vocabulary.
 *
 * <p>Encoding cuts the text at special tokens first (user-defined tokens always; control tokens such as
 * {@code <s>} or {@code <|endoftext|>} only when asked), then runs the model's BPE on the text between them.
 * Decoding concatenates each token's bytes: control, unknown and unused tokens give nothing, byte tokens give their
 * byte, and the whole is read as UTF-8 (invalid sequences become U+FFFD). Decoding strips no spaces: a
 * SentencePiece dummy prefix comes back as a leading space, as llama.cpp's per-token pieces do.
 */
public interface Tokenizer {
    /**
     * The ids of {@code text}.
     *
     * @param addBos       put BOS first (pass {@link #addBosByDefault()} to do what the model expects)
     * @param parseSpecial match the text of control tokens (e.g. "&lt;s&gt;", "&lt;|endoftext|&gt;") as those
     *                     tokens; otherwise such text is ordinary text
     * @throws IllegalStateException if BOS is asked for and the vocabulary has none
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** The text of {@code ids}: control tokens (BOS, EOS, ...) skipped, bytes reassembled as UTF-8. */
    String decode(int[] ids);

    /** The vocabulary string of {@code id}, as stored (with '▁' or GPT-2's byte alphabet). */
    String piece(int id);

    int vocabSize();

    /** Beginning-of-sequence id, or -1 when none. */
    int bos();

    /** End-of-sequence id, or -1 when none. */
    int eos();

    /** Whether {@code id} ends generation: EOS, end-of-turn and the other end tokens the model declares. */
    boolean isEndOfGeneration(int id);

    /** Whether the model expects BOS before a prompt ({@code tokenizer.ggml.add_bos_token}). */
    boolean addBosByDefault();

    /** Whether the model expects EOS after a prompt ({@code tokenizer.ggml.add_eos_token}); encode never adds it. */
    boolean addEosByDefault();

    /** A decoder for ids that arrive one at a time (generation). */
    StreamingDecoder newStreamingDecoder();

    /** The tokenizer described by {@code vocabulary}. */
    static Tokenizer of(Vocabulary vocabulary) {
        return new VocabularyTokenizer(vocabulary);
    }

    /** The tokenizer in a GGUF file's {@code tokenizer.ggml.*} metadata. */
    static Tokenizer fromGguf(GgufFile gguf) {
        return GgufVocabulary.tokenizer(gguf);
    }
}
