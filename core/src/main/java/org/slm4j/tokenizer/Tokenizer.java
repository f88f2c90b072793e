package org.slm4j.tokenizer;

import java.nio.file.Path;
import org.slm4j.format.GgufFile;
import org.slm4j.format.ModelFormatException;

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

    /**
     * The tokenizer in {@code file}, by its name: a GGUF model ({@code .gguf}), a Hugging Face {@code tokenizer.json}
     * (any {@code .json}; reads {@code tokenizer_config.json} beside it when present), a SentencePiece
     * {@code .model}, or a tiktoken ranks file ({@code NAME.tiktoken} with {@code NAME.meta.json} beside it).
     *
     * @throws ModelFormatException if the file is malformed or of a kind not supported, naming file and field
     */
    static Tokenizer open(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".gguf")) {
            try (GgufFile g = GgufFile.open(file)) {
                return fromGguf(g);
            }
        }
        if (name.endsWith(".json")) return HfTokenizerJson.read(file);
        if (name.endsWith(".model")) return SentencePieceModel.read(file);
        if (name.endsWith(".tiktoken")) return TiktokenFile.read(file);
        throw new ModelFormatException(file + ": not a tokenizer file (.gguf, tokenizer.json, .model or .tiktoken)");
    }

    /** The tokenizer in a GGUF file's {@code tokenizer.ggml.*} metadata. */
    static Tokenizer fromGguf(GgufFile gguf) {
        return GgufVocabulary.tokenizer(gguf);
    }
}
