package org.slm4j.tokenizer;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slm4j.format.GgufFile;
import org.slm4j.format.ModelFormatException;

/**
 * The tokenizer in GGUF {@code tokenizer.ggml.*} metadata: a {@link Vocabulary} read with llama.cpp's rules
 * (llama-vocab.cpp, {@code llama_vocab::impl::load}): which keys may be missing and what they then mean, and which
 * tokens end generation.
 */
final class GgufVocabulary {
    private GgufVocabulary() {}

    private static final String PREFIX = "tokenizer.ggml.";

    /** End-of-turn markers llama.cpp recognises by their text (they end generation and count as control tokens). */
    private static final Set<String> EOT_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>");
    static final Set<String> EOG_TEXTS =
            Stream.concat(EOT_TEXTS.stream(), Stream.of("</s>", "<|eom_id|>")).collect(Collectors.toUnmodifiableSet());

    /** The tokenizer in {@code g}'s metadata; every error names the file. */
    static Tokenizer tokenizer(GgufFile g) {
        String modelName = g.getString(PREFIX + "model");
        Vocabulary.Model model = switch (modelName) {
            case "llama" -> Vocabulary.Model.SENTENCEPIECE;
            case "gpt2" -> Vocabulary.Model.BYTE_LEVEL;
            default -> throw bad(g, PREFIX + "model: \"" + modelName + "\" is not supported (llama or gpt2)");
        };
        boolean spm = model == Vocabulary.Model.SENTENCEPIECE;
        PreTokenizer pre = spm ? null : preTokenizer(g, g.getString(PREFIX + "pre", null));

        String[] tokens = g.getStringArray(PREFIX + "tokens");
        int n = tokens.length;
        if (n == 0) throw bad(g, PREFIX + "tokens: empty vocabulary"); // before ids are checked against it
        for (int i = 0; i < n; i++) if (tokens[i].isEmpty()) tokens[i] = "[EMPTY_" + i + "]"; // llama.cpp's name for a hole
        float[] scores = g.has(PREFIX + "scores") ? g.getFloatArray(PREFIX + "scores") : new float[n];
        TokenType[] types;
        if (g.has(PREFIX + "token_type")) {
            int[] codes = g.getIntArray(PREFIX + "token_type");
            if (codes.length != n) {
                throw bad(g, PREFIX + "token_type: " + codes.length + " entries, expected one per token (" + n + ")");
            }
            types = new TokenType[n];
            for (int i = 0; i < n; i++) {
                types[i] = TokenType.ofCode(codes[i]);
                if (types[i] == null) {
                    throw bad(g, PREFIX + "token_type[" + i + "]: " + codes[i] + " is not a token type (0..6)");
                }
            }
        } else {
            types = new TokenType[n];
            Arrays.fill(types, TokenType.NORMAL);
        }
        String[] merges = spm ? new String[0] : g.getStringArray(PREFIX + "merges");

        int bos = specialId(g, "bos_token_id", spm ? 1 : 11, n); // 11 is GPT-2's ','; llama.cpp's default all the same
        int eos = specialId(g, "eos_token_id", spm ? 2 : 11, n);
        int unk = specialId(g, "unknown_token_id", spm ? 0 : -1, n);
        int pad = specialId(g, "padding_token_id", -1, n);
        int eot = specialId(g, "eot_token_id", -1, n);
        int eom = specialId(g, "eom_token_id", -1, n);

        // end of generation: eos, eot, eom, and every token with a known end-of-turn text (made control, so that it is
        // skipped in decoding and matched in text only as a special token)
        Set<Integer> eog = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            if (eot < 0 && EOT_TEXTS.contains(tokens[i])) eot = i;
            if (eom < 0 && tokens[i].equals("<|eom_id|>")) eom = i;
            if (EOG_TEXTS.contains(tokens[i])) {
                eog.add(i);
                types[i] = TokenType.CONTROL;
            }
        }
        for (int id : new int[] {eos, eot, eom}) if (id >= 0) eog.add(id);

        boolean addBos = g.getBool(PREFIX + "add_bos_token", spm);
        boolean addEos = g.getBool(PREFIX + "add_eos_token", false);
        boolean addSpacePrefix = g.getBool(PREFIX + "add_space_prefix", spm);
        try {
            return Tokenizer.of(new Vocabulary(model, pre, tokens, scores, types, merges, bos, eos, unk, pad,
                    eog.stream().mapToInt(Integer::intValue).toArray(), addBos, addEos, addSpacePrefix));
        } catch (ModelFormatException e) {
            throw bad(g, e.getMessage());
        }
    }

    private static PreTokenizer preTokenizer(GgufFile g, String name) {
        if (name == null) return PreTokenizer.DEFAULT; // older conversions (GPT-NeoX) wrote none
        return switch (name) {
            case "default" -> PreTokenizer.DEFAULT;
            case "gpt-2" -> PreTokenizer.GPT2;
            case "stablelm2" -> PreTokenizer.STABLELM2;
            default -> throw bad(g, PREFIX + "pre: \"" + name + "\" is not supported (gpt-2, stablelm2 or default)");
        };
    }

    /**
     * The id under {@code tokenizer.ggml.<key>}, or {@code dflt} when absent. (uint32) -1, which converters write
     * for "none", counts as absent, as in llama.cpp; a default outside the vocabulary means none.
     */
    private static int specialId(GgufFile g, String key, int dflt, int n) {
        long id = g.getLong(PREFIX + key, 0xFFFF_FFFFL);
        if (id == 0xFFFF_FFFFL || id == -1) return dflt < n ? dflt : -1;
        if (id < 0 || id >= n) throw bad(g, PREFIX + key + ": " + id + " is outside the vocabulary of " + n + " tokens");
        return (int) id;
    }

    private static ModelFormatException bad(GgufFile g, String message) {
        return new ModelFormatException(g.path() + ": " + message);
    }
}
