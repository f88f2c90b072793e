package org.slm4j.tokenizer;

import java.util.Arrays;
import org.slm4j.format.ModelFormatException;

/**
 * A tokenizer's data, whatever file it came from: the token strings with their scores and types, the merge rules,
 * the special ids and the flags that say how text is framed. Fields follow GGUF's {@code tokenizer.ggml.*} keys,
 * and a {@link ModelFormatException} from the checks here names the field by that key. The arrays are shared, not
 * copied: treat them as read-only.
 *
 * @param model          which merge algorithm the pieces are for
 * @param preTokenizer   how byte-level BPE cuts text into words; null for the character-level models
 * @param tokens         [n] the token strings: SentencePiece spells a space '▁' (U+2581); byte-level BPE spells
 *                       bytes in GPT-2's byte-to-unicode alphabet
 * @param scores         [n] SentencePiece merge priority, higher merges first; zeros when the source has none
 * @param types          [n] what each token is
 * @param merges         BPE merge rules "left right", first = highest priority; empty for SentencePiece, and for
 *                       byte-level BPE ranked by token id (tiktoken: any pair whose concatenation is a token merges,
 *                       the lowest id first)
 * @param bos            beginning-of-sequence id, -1 when none
 * @param eos            end-of-sequence id, -1 when none
 * @param unk            unknown-token id, -1 when none
 * @param pad            padding id, -1 when none
 * @param endOfGeneration ids that end generation: eos, end-of-turn tokens and the like
 * @param addBos         whether the model expects BOS before a prompt
 * @param addEos         whether the model expects EOS after a prompt
 * @param addSpacePrefix whether SentencePiece prepends a space to text that starts a sequence or follows a special
 *                       token (the "dummy prefix")
 */
public record Vocabulary(
        Model model,
        PreTokenizer preTokenizer,
        String[] tokens,
        float[] scores,
        TokenType[] types,
        String[] merges,
        int bos,
        int eos,
        int unk,
        int pad,
        int[] endOfGeneration,
        boolean addBos,
        boolean addEos,
        boolean addSpacePrefix) {

    /** The two merge algorithms ({@code tokenizer.ggml.model}). */
    public enum Model {
        /** "llama": SentencePiece BPE, merging the adjacent pair whose piece scores highest, bytes as fallback. */
        SENTENCEPIECE,
        /** "gpt2": byte-level BPE, merging by rank inside each pre-tokenized word. */
        BYTE_LEVEL,
        /**
         * Hugging Face BPE over characters (Llama's and Mistral's tokenizer.json): SentencePiece's '▁' and byte
         * fallback, but only the listed merges fire, the lowest rank first. It differs from {@link #SENTENCEPIECE}
         * where the vocabulary lacks single characters.
         */
        CHAR_MERGES
    }

    public Vocabulary {
        if (model == null) throw new ModelFormatException("tokenizer.ggml.model: missing");
        if (tokens == null || tokens.length == 0) throw new ModelFormatException("tokenizer.ggml.tokens: empty vocabulary");
        int n = tokens.length;
        if (scores == null || scores.length != n) {
            throw new ModelFormatException("tokenizer.ggml.scores: " + (scores == null ? "missing" : scores.length + " entries")
                    + ", expected one per token (" + n + ")");
        }
        if (types == null || types.length != n) {
            throw new ModelFormatException("tokenizer.ggml.token_type: " + (types == null ? "missing" : types.length + " entries")
                    + ", expected one per token (" + n + ")");
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null || tokens[i].isEmpty()) {
                throw new ModelFormatException("tokenizer.ggml.tokens[" + i + "]: empty token");
            }
            if (types[i] == null) throw new ModelFormatException("tokenizer.ggml.token_type[" + i + "]: missing");
            // NaN has no place in a max-score order; the infinities do
            if (Float.isNaN(scores[i])) throw new ModelFormatException("tokenizer.ggml.scores[" + i + "]: NaN");
        }
        if (merges == null) throw new ModelFormatException("tokenizer.ggml.merges: missing (empty for SentencePiece)");
        if ((preTokenizer == null) == (model == Model.BYTE_LEVEL)) {
            throw new ModelFormatException("tokenizer.ggml.pre: " + preTokenizer + " does not go with model " + model);
        }
        checkId("tokenizer.ggml.bos_token_id", bos, n);
        checkId("tokenizer.ggml.eos_token_id", eos, n);
        checkId("tokenizer.ggml.unknown_token_id", unk, n);
        checkId("tokenizer.ggml.padding_token_id", pad, n);
        if (endOfGeneration == null) throw new ModelFormatException("end-of-generation ids: missing");
        for (int id : endOfGeneration) {
            if (id < 0) throw new ModelFormatException("end-of-generation id " + id + " is negative");
            checkId("end-of-generation ids", id, n);
        }
    }

    private static void checkId(String key, int id, int n) {
        if (id < -1 || id >= n) {
            throw new ModelFormatException(key + ": " + Integer.toUnsignedString(id) + " is outside the vocabulary of " + n + " tokens");
        }
    }

    /** Number of tokens. */
    public int size() {
        return tokens.length;
    }

    @Override
    public String toString() {
        return "Vocabulary[" + model + (preTokenizer == null ? "" : " " + preTokenizer) + ", " + tokens.length + " tokens, "
                + merges.length + " merges, bos " + bos + ", eos " + eos + ", unk " + unk + ", eog "
                + Arrays.toString(endOfGeneration) + "]";
    }
}
