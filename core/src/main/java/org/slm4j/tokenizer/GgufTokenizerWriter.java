package org.slm4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.slm4j.format.GgufWriter;
import org.slm4j.format.HfFolder;
import org.slm4j.format.ModelFormatException;

/**
 * Writes a Hugging Face folder's tokenizer as GGUF {@code tokenizer.ggml.*} metadata, the way llama.cpp's
 * convert_hf_to_gguf.py does, so that {@link GgufVocabulary} and llama.cpp read back the same tokenizer:
 *
 * <ul>
 * <li>{@code tokenizer.model} present (for {@code stablelm}, only without a tokenizer.json: llama.cpp's converter
 *     reads a StableLM folder's tokenizer.json first, a Llama folder's tokenizer.model first): SentencePiece ("llama",
 *     pre "default"): its pieces, scores and types; the added tokens of tokenizer_config.json's
 *     {@code added_tokens_decoder} override their slots (CONTROL when special or when they look like {@code <|...|>}, else USER_DEFINED with '▁' written as a space; score -1000);
 *     slots up to the embedding's size are {@code [PADi]}, UNUSED, score -10000.</li>
 * <li>else a Llama-layout tokenizer.json (byte fallback, '▁'): "llama" as well. llama.cpp's converter writes the
 *     placeholder score -1000 for every piece, which leaves its SentencePiece merger no order to follow; here a
 *     piece scores minus the rank of the first merge that makes it, so the GGUF merges as tokenizer.json does.</li>
 * <li>else a byte-level tokenizer.json: "gpt2" with its merges and {@code tokenizer.ggml.pre} named as llama.cpp
 *     names the pre-tokenizer ("gpt-2", "stablelm2"); holes and slots up to the embedding's size are
 *     {@code [PADi]}, UNUSED.</li>
 * </ul>
 * Special ids come from tokenizer_config.json's token texts, else config.json's {@code *_token_id}, else the
 * tokenizer file itself; {@code add_bos_token}/{@code add_eos_token} and {@code chat_template} from
 * tokenizer_config.json (or tokenizer.json's post-processor).
 */
public final class GgufTokenizerWriter {
    private GgufTokenizerWriter() {}

    private static final String PREFIX = "tokenizer.ggml.";
    private static final float ADDED_SCORE = -1000f, PAD_SCORE = -10000f;

    /**
     * Puts the tokenizer of {@code folder} into {@code out}, padded to {@code vocabSize} tokens (the embedding's
     * rows); {@code architecture} is the GGUF one ({@code llama}, {@code stablelm}).
     *
     * @throws ModelFormatException naming the file and field when the tokenizer is malformed, unsupported, or larger
     *                              than the embedding
     */
    public static void write(HfFolder folder, String architecture, int vocabSize, GgufWriter out) {
        JsonNode config = folder.config(), tokenizerConfig = folder.tokenizerConfig();
        Path spm = folder.path().resolve("tokenizer.model"), json = folder.path().resolve("tokenizer.json");
        boolean hasSpm = Files.isRegularFile(spm), hasJson = Files.isRegularFile(json);
        if (!hasSpm && !hasJson) throw new ModelFormatException(folder.path() + ": no tokenizer.model or tokenizer.json to convert");
        Path source = hasSpm && !(hasJson && architecture.equals("stablelm")) ? spm : json;
        Vocabulary v = source == spm ? sentencePiece(spm, tokenizerConfig, vocabSize) : HfTokenizerJson.vocabulary(json);
        if (v.size() > vocabSize) {
            throw new ModelFormatException(source + ": " + v.size() + " tokens, but the embedding (vocab_size) has only "
                    + vocabSize + " rows");
        }
        float[] scores = v.model() == Vocabulary.Model.CHAR_MERGES ? mergeScores(v) : v.scores();
        Vocabulary framed = withSpecials(pad(addedTokensAsConverted(v), scores, vocabSize), config, tokenizerConfig);

        boolean spmModel = framed.model() != Vocabulary.Model.BYTE_LEVEL;
        out.putString(PREFIX + "model", spmModel ? "llama" : "gpt2");
        out.putString(PREFIX + "pre", spmModel ? "default" : preName(source, framed.preTokenizer()));
        out.putStringArray(PREFIX + "tokens", framed.tokens());
        if (spmModel) out.putFloat32Array(PREFIX + "scores", framed.scores());
        out.putInt32Array(PREFIX + "token_type", Arrays.stream(framed.types()).mapToInt(TokenType::code).toArray());
        if (!spmModel) out.putStringArray(PREFIX + "merges", framed.merges());
        if (framed.bos() >= 0) out.putUInt32(PREFIX + "bos_token_id", framed.bos());
        if (framed.eos() >= 0) out.putUInt32(PREFIX + "eos_token_id", framed.eos());
        if (framed.unk() >= 0) out.putUInt32(PREFIX + "unknown_token_id", framed.unk());
        if (framed.pad() >= 0) out.putUInt32(PREFIX + "padding_token_id", framed.pad());
        out.putBool(PREFIX + "add_bos_token", framed.addBos());
        out.putBool(PREFIX + "add_eos_token", framed.addEos());
        // as the converter: tokenizer_config.json's add_prefix_space when it says; else llama.cpp assumes
        // SentencePiece's dummy prefix, so say so when the model has none
        JsonNode prefix = tokenizerConfig.path("add_prefix_space");
        if (prefix.isBoolean()) out.putBool(PREFIX + "add_space_prefix", prefix.booleanValue());
        else if (spmModel && !framed.addSpacePrefix()) out.putBool(PREFIX + "add_space_prefix", false);
        String template = folder.chatTemplate();
        if (template != null) out.putString("tokenizer.chat_template", template);
    }

    /**
     * The SentencePiece model with tokenizer_config.json's added tokens put into their slots. Like llama.cpp's
     * converter, which types the model's pieces only as unknown, control, unused or byte, a piece the model calls
     * USER_DEFINED is written NORMAL: only added tokens are USER_DEFINED in the GGUF.
     */
    private static Vocabulary sentencePiece(Path file, JsonNode tokenizerConfig, int vocabSize) {
        Vocabulary v = SentencePieceModel.vocabulary(file);
        JsonNode added = tokenizerConfig.path("added_tokens_decoder");
        if (!added.isMissingNode() && !added.isNull() && !added.isObject()) throw new ModelFormatException(file.resolveSibling("tokenizer_config.json") + ": added_tokens_decoder is not an object");
        int n = v.size();
        for (var it = added.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String field = file.resolveSibling("tokenizer_config.json") + ": added_tokens_decoder[\"" + e.getKey() + "\"]";
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw new ModelFormatException(field + ": the key is not a token id");
            }
            if (id < 0 || id >= vocabSize) throw new ModelFormatException(field + ": id " + id + " is outside the embedding's " + vocabSize + " rows");
            n = Math.max(n, id + 1);
        }
        String[] tokens = Arrays.copyOf(v.tokens(), n);
        float[] scores = Arrays.copyOf(v.scores(), n);
        TokenType[] types = Arrays.copyOf(v.types(), n);
        fillPads(tokens, scores, types, v.size());
        for (int i = 0; i < v.size(); i++) if (types[i] == TokenType.USER_DEFINED) types[i] = TokenType.NORMAL;
        for (var it = added.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            int id = Integer.parseInt(e.getKey());
            JsonNode content = e.getValue().path("content");
            if (!content.isTextual() || content.asText().isEmpty()) {
                throw new ModelFormatException(file.resolveSibling("tokenizer_config.json") + ": added_tokens_decoder[\""
                        + e.getKey() + "\"].content is missing or empty");
            }
            tokens[id] = content.asText();
            types[id] = e.getValue().path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED;
            scores[id] = ADDED_SCORE;
        }
        return copy(v, tokens, scores, types);
    }

    /**
     * Added tokens as llama.cpp's converter writes them: a user-defined one that looks like a control token
     * ({@code <|...|>} and a few others) becomes one; the others have '▁' written as a space (llama.cpp matches them
     * in raw text).
     */
    private static Vocabulary addedTokensAsConverted(Vocabulary v) {
        String[] tokens = v.tokens().clone();
        TokenType[] types = v.types().clone();
        for (int i = 0; i < tokens.length; i++) {
            if (types[i] != TokenType.USER_DEFINED) continue;
            if (looksSpecial(tokens[i])) types[i] = TokenType.CONTROL;
            else tokens[i] = tokens[i].replace('▁', ' ');
        }
        return copy(v, tokens, v.scores(), types);
    }

    /** llama.cpp's converter takes these added tokens for control tokens even when the file does not say special. */
    private static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || t.startsWith("<|") && t.endsWith("|>") || t.startsWith("<｜") && t.endsWith("｜>")
                || t.startsWith("<unused") && t.endsWith(">");
    }

    /** Score of a piece: minus the rank of the first merge that makes it; pieces no merge makes rank after all merges. */
    private static float[] mergeScores(Vocabulary v) {
        Map<String, Integer> firstRank = new HashMap<>();
        String[] merges = v.merges();
        for (int r = 0; r < merges.length; r++) firstRank.putIfAbsent(merges[r].replace(" ", ""), r);
        float[] s = new float[v.size()];
        for (int i = 0; i < s.length; i++) s[i] = -firstRank.getOrDefault(v.tokens()[i], merges.length + i);
        return s;
    }

    /** {@code v} grown to {@code n} tokens with UNUSED {@code [PADi]} slots. */
    private static Vocabulary pad(Vocabulary v, float[] scores, int n) {
        String[] tokens = Arrays.copyOf(v.tokens(), n);
        float[] s = Arrays.copyOf(scores, n);
        TokenType[] types = Arrays.copyOf(v.types(), n);
        fillPads(tokens, s, types, v.size());
        return copy(v, tokens, s, types);
    }

    private static void fillPads(String[] tokens, float[] scores, TokenType[] types, int from) {
        for (int i = from; i < tokens.length; i++) {
            tokens[i] = "[PAD" + i + "]";
            scores[i] = PAD_SCORE;
            types[i] = TokenType.UNUSED;
        }
    }

    /** Special ids by tokenizer_config.json's texts, then config.json's ids, then the tokenizer's own. */
    private static Vocabulary withSpecials(Vocabulary v, JsonNode config, JsonNode tokenizerConfig) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = v.size() - 1; i >= 0; i--) ids.put(v.tokens()[i], i);   // the first of equal texts wins
        int bos = special("bos", v.bos(), ids, config, tokenizerConfig, v.size());
        int eos = special("eos", v.eos(), ids, config, tokenizerConfig, v.size());
        int unk = special("unk", v.unk(), ids, config, tokenizerConfig, v.size());
        int pad = special("pad", v.pad(), ids, config, tokenizerConfig, v.size());
        JsonNode addBos = tokenizerConfig.path("add_bos_token"), addEos = tokenizerConfig.path("add_eos_token");
        // the metadata carries no end-of-generation list: llama.cpp derives it from eos and the token texts
        int[] eog = eos >= 0 ? new int[] {eos} : new int[0];
        return new Vocabulary(v.model(), v.preTokenizer(), v.tokens(), v.scores(), v.types(), v.merges(), bos, eos, unk, pad,
                eog, addBos.isBoolean() ? addBos.booleanValue() : v.addBos(), addEos.isBoolean() ? addEos.booleanValue() : v.addEos(),
                v.addSpacePrefix());
    }

    private static int special(String typ, int own, Map<String, Integer> ids, JsonNode config, JsonNode tokenizerConfig, int n) {
        JsonNode t = tokenizerConfig.path(typ + "_token");
        if (t.isObject()) t = t.path("content");
        if (t.isTextual() && ids.containsKey(t.asText())) return ids.get(t.asText());
        JsonNode id = config.path(typ + "_token_id");
        if (id.isIntegralNumber() && id.canConvertToInt() && id.intValue() >= 0 && id.intValue() < n) return id.intValue();
        return own;
    }

    /** llama.cpp's name for a byte-level pre-tokenizer ({@code LLAMA_VOCAB_PRE_TYPE_*}). */
    private static String preName(Path source, PreTokenizer p) {
        return switch (p) {
            case GPT2 -> "gpt-2";
            case STABLELM2 -> "stablelm2";
            case DEFAULT -> "default";
            case CL100K -> throw new ModelFormatException(source + ": the cl100k pre-tokenizer (Llama 3 / DBRX style) is not"
                    + " supported for conversion yet (gpt-2 and stablelm2 are)");
        };
    }

    private static Vocabulary copy(Vocabulary v, String[] tokens, float[] scores, TokenType[] types) {
        return new Vocabulary(v.model(), v.preTokenizer(), tokens, scores, types, v.merges(), v.bos(), v.eos(), v.unk(),
                v.pad(), v.endOfGeneration(), v.addBos(), v.addEos(), v.addSpacePrefix());
    }
}
