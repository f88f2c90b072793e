package org.slm4j.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.slm4j.format.ModelFormatException;

/**
 * A Hugging Face {@code tokenizer.json} (with the {@code tokenizer_config.json} beside it, when there is one) as a
 * {@link Vocabulary}. Two layouts are understood, the ones the seed models ship: Llama's character BPE (normalizer
 * Prepend '▁' + Replace ' ' → '▁', no pre-tokenizer, byte fallback) and byte-level BPE (ByteLevel pre-tokenizer,
 * alone for GPT-2's regex or after a Split whose regex is one of the known patterns). Anything else is refused with
 * the field that says so: an unknown regex is never run.
 */
final class HfTokenizerJson {
    private HfTokenizerJson() {}

    static final long MAX_FILE_BYTES = 256L << 20;
    private static final int MAX_TOKENS = 4 << 20;

    /** The pre-tokenizer regexes we split by hand, as tokenizer.json, GGUF converters and tiktoken spell them. */
    static final Map<String, PreTokenizer> KNOWN_PATTERNS = Map.of(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", PreTokenizer.GPT2,
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            PreTokenizer.CL100K,
            "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            PreTokenizer.CL100K,
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            PreTokenizer.STABLELM2,
            "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            PreTokenizer.STABLELM2);

    static PreTokenizer knownPattern(Path path, String field, String regex) {
        PreTokenizer p = KNOWN_PATTERNS.get(regex);
        if (p == null) {
            throw new ModelFormatException(path + ": " + field + ": regex \"" + shorten(regex) + "\" is not one of the known"
                    + " pre-tokenizer patterns (GPT-2, cl100k, Arcade100k)");
        }
        return p;
    }

    /** Reads a JSON file with caps on its size, nesting and strings; every error names the file. */
    static JsonNode readJson(Path path) {
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) throw new ModelFormatException(path + ": " + size + " bytes, more than the " + MAX_FILE_BYTES + " a tokenizer file may have");
            JsonFactory f = JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(1 << 20).build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build();
            JsonNode root = new ObjectMapper(f).readTree(path.toFile());
            if (root == null || !root.isObject()) throw new ModelFormatException(path + ": not a JSON object");
            return root;
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(path + ": broken JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tokenizer read(Path path) {
        return Tokenizer.of(vocabulary(path));
    }

    /** The vocabulary of a tokenizer.json (with tokenizer_config.json beside it when present); errors name the file. */
    static Vocabulary vocabulary(Path path) {
        JsonNode root = readJson(path);
        Path configPath = path.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configPath) ? readJson(configPath) : null;
        try {
            return vocabulary(path, root, config);
        } catch (ModelFormatException e) {
            throw e.getMessage().startsWith(path.toString()) ? e : new ModelFormatException(path + ": " + e.getMessage(), e);
        }
    }

    private static Vocabulary vocabulary(Path path, JsonNode root, JsonNode config) {
        JsonNode model = object(root, "model");
        String type = model.path("type").asText("BPE"); // older files leave the type out
        if (!type.equals("BPE")) throw new ModelFormatException("model.type: \"" + type + "\" is not supported (BPE)");
        if (model.path("ignore_merges").asBoolean(false)) throw new ModelFormatException("model.ignore_merges: true is not supported");
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode()) {
            throw new ModelFormatException("model.dropout: BPE dropout is not supported");
        }
        for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(affix).asText("").isEmpty()) throw new ModelFormatException("model." + affix + ": not supported");
        }

        // ids: vocab, then added tokens (which may repeat a vocab entry)
        JsonNode vocab = object(model, "vocab");
        JsonNode added = root.path("added_tokens");
        if (!added.isMissingNode() && !added.isArray()) throw new ModelFormatException("added_tokens: not an array");
        int entries = vocab.size() + added.size();
        if (vocab.isEmpty()) throw new ModelFormatException("model.vocab: empty vocabulary");
        if (entries > MAX_TOKENS) throw new ModelFormatException("model.vocab: " + entries + " tokens, more than " + MAX_TOKENS);
        Map<Integer, String> byId = new HashMap<>(entries * 2);
        var fields = vocab.fields();
        while (fields.hasNext()) {
            var e = fields.next();
            int id = id(e.getValue(), "model.vocab[\"" + shorten(e.getKey()) + "\"]", entries);
            if (e.getKey().isEmpty()) throw new ModelFormatException("model.vocab: empty token (id " + id + ")");
            if (byId.putIfAbsent(id, e.getKey()) != null) {
                throw new ModelFormatException("model.vocab: id " + id + " is given to both \"" + shorten(byId.get(id)) + "\" and \"" + shorten(e.getKey()) + "\"");
            }
        }
        Map<Integer, Boolean> addedSpecial = new HashMap<>();
        for (int i = 0; i < added.size(); i++) {
            JsonNode a = added.get(i);
            String field = "added_tokens[" + i + "]";
            int id = id(a.path("id"), field + ".id", entries);
            String content = a.path("content").isTextual() ? a.path("content").asText() : "";
            if (content.isEmpty()) throw new ModelFormatException(field + ".content: missing or empty");
            String had = byId.putIfAbsent(id, content);
            if (had != null && !had.equals(content)) {
                throw new ModelFormatException(field + ": id " + id + " is \"" + shorten(content) + "\" but model.vocab says \"" + shorten(had) + "\"");
            }
            addedSpecial.put(id, a.path("special").asBoolean(false));
        }
        int n = byId.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        String[] tokens = new String[n];
        TokenType[] types = new TokenType[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = byId.get(i);
            types[i] = tokens[i] == null ? TokenType.UNUSED : TokenType.NORMAL;
            if (tokens[i] == null) tokens[i] = "[PAD" + i + "]"; // a hole, as llama.cpp's converter names it
        }
        Map<String, Integer> ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) ids.put(tokens[i], i);

        // which layout
        boolean byteLevel = hasByteLevel(root.path("pre_tokenizer"));
        Vocabulary.Model kind;
        PreTokenizer pre = null;
        boolean addSpacePrefix = false;
        if (byteLevel) {
            kind = Vocabulary.Model.BYTE_LEVEL;
            pre = byteLevelPreTokenizer(path, root.path("pre_tokenizer"));
            if (!root.path("normalizer").isNull() && !root.path("normalizer").isMissingNode()) {
                throw new ModelFormatException("normalizer: " + root.path("normalizer").path("type").asText("?") + " with a ByteLevel pre-tokenizer is not supported");
            }
        } else {
            kind = Vocabulary.Model.CHAR_MERGES;
            if (!root.path("pre_tokenizer").isNull() && !root.path("pre_tokenizer").isMissingNode()) {
                throw new ModelFormatException("pre_tokenizer: " + root.path("pre_tokenizer").path("type").asText("?")
                        + " is not supported for character BPE (expected none, with the Prepend/Replace normalizer)");
            }
            addSpacePrefix = llamaNormalizer(root.path("normalizer"));
            if (model.path("byte_fallback").asBoolean(false)) {
                for (int b = 0; b < 256; b++) {
                    Integer id = ids.get("<0x%02X>".formatted(b));
                    if (id == null) throw new ModelFormatException("model.byte_fallback: true, but model.vocab has no \"<0x%02X>\"".formatted(b));
                    types[id] = TokenType.BYTE;
                }
            }
        }

        int unk = -1;
        if (model.hasNonNull("unk_token")) {
            Integer u = ids.get(model.get("unk_token").asText());
            if (u == null) throw new ModelFormatException("model.unk_token: \"" + shorten(model.get("unk_token").asText()) + "\" is not in model.vocab");
            unk = u;
        }
        for (var e : addedSpecial.entrySet()) types[e.getKey()] = e.getValue() ? TokenType.CONTROL : TokenType.USER_DEFINED;
        if (unk >= 0) types[unk] = TokenType.UNKNOWN;

        String[] merges = merges(model.path("merges"));
        for (int i = 0; i < merges.length; i++) { // checked here too, so that the error names this file's field
            String m = merges[i];
            int sp = m.indexOf(' ', 1);
            if (sp < 0) throw new ModelFormatException("model.merges[" + i + "]: \"" + shorten(m) + "\" is not two tokens separated by a space");
            for (String part : new String[] {m.substring(0, sp), m.substring(sp + 1), m.substring(0, sp) + m.substring(sp + 1)}) {
                if (!ids.containsKey(part)) {
                    throw new ModelFormatException("model.merges[" + i + "]: \"" + shorten(m) + "\" needs \"" + shorten(part) + "\", which is not in model.vocab");
                }
            }
        }

        // special ids and framing: tokenizer_config.json first, else what the post-processor adds
        JsonNode single = root.path("post_processor").path("type").asText("").equals("TemplateProcessing")
                ? root.path("post_processor").path("single") : null;
        int bos = special(config, "bos_token", ids), eos = special(config, "eos_token", ids), pad = special(config, "pad_token", ids);
        int first = single != null && !single.isEmpty() ? templateSpecial(single.get(0), ids) : -1;
        int last = single != null && single.size() > 1 ? templateSpecial(single.get(single.size() - 1), ids) : -1;
        if (bos < 0) bos = first >= 0 ? first : ids.getOrDefault(kind == Vocabulary.Model.BYTE_LEVEL ? "<|endoftext|>" : "<s>", -1);
        if (eos < 0) eos = last >= 0 ? last : ids.getOrDefault(kind == Vocabulary.Model.BYTE_LEVEL ? "<|endoftext|>" : "</s>", -1);
        boolean addBos = config != null && config.has("add_bos_token") ? config.path("add_bos_token").asBoolean() : first >= 0;
        boolean addEos = config != null && config.has("add_eos_token") ? config.path("add_eos_token").asBoolean() : last >= 0;

        TreeSet<Integer> eog = new TreeSet<>();
        if (eos >= 0) eog.add(eos);
        for (int i = 0; i < n; i++) if (types[i] == TokenType.CONTROL && GgufVocabulary.EOG_TEXTS.contains(tokens[i])) eog.add(i);
        return new Vocabulary(kind, pre, tokens, new float[n], types, merges, bos, eos, unk, pad,
                eog.stream().mapToInt(Integer::intValue).toArray(), addBos, addEos, addSpacePrefix);
    }

    private static JsonNode object(JsonNode parent, String field) {
        JsonNode o = parent.path(field);
        if (!o.isObject()) throw new ModelFormatException(field + ": missing or not an object");
        return o;
    }

    private static int id(JsonNode v, String field, int entries) {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= entries) {
            throw new ModelFormatException(field + ": id " + v + " is not an integer in [0, " + entries + ") (the entry count)");
        }
        return v.asInt();
    }

    private static String[] merges(JsonNode merges) {
        if (!merges.isArray()) throw new ModelFormatException("model.merges: missing or not an array");
        String[] out = new String[merges.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode m = merges.get(i);
            if (m.isTextual()) {
                out[i] = m.asText();
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()
                    && !m.get(0).asText().isEmpty() && !m.get(1).asText().isEmpty()) {
                out[i] = m.get(0).asText() + " " + m.get(1).asText();
            } else {
                throw new ModelFormatException("model.merges[" + i + "]: " + shorten(m.toString()) + " is not \"left right\" or [left, right]");
            }
        }
        return out;
    }

    private static boolean hasByteLevel(JsonNode pre) {
        if (pre.path("type").asText("").equals("ByteLevel")) return true;
        for (JsonNode p : pre.path("pretokenizers")) if (p.path("type").asText("").equals("ByteLevel")) return true;
        return false;
    }

    /** ByteLevel alone (GPT-2's regex) or Sequence[Split(known regex, Isolated), ByteLevel(no regex)]. */
    private static PreTokenizer byteLevelPreTokenizer(Path path, JsonNode pre) {
        List<JsonNode> steps = new ArrayList<>();
        if (pre.path("type").asText().equals("Sequence")) pre.path("pretokenizers").forEach(steps::add);
        else steps.add(pre);
        PreTokenizer split = null;
        for (int i = 0; i < steps.size(); i++) {
            JsonNode s = steps.get(i);
            String field = "pre_tokenizer" + (steps.size() > 1 ? ".pretokenizers[" + i + "]" : "");
            switch (s.path("type").asText("")) {
                case "ByteLevel" -> {
                    if (s.path("add_prefix_space").asBoolean(false)) throw new ModelFormatException(field + ".add_prefix_space: true is not supported");
                    if (i != steps.size() - 1) throw new ModelFormatException(field + ": ByteLevel must come last");
                    if (s.path("use_regex").asBoolean(true)) {
                        if (split != null) throw new ModelFormatException(field + ".use_regex: true after a Split is not supported");
                        return PreTokenizer.GPT2;
                    }
                    if (split == null) throw new ModelFormatException(field + ": ByteLevel without a regex and no Split before it");
                    return split;
                }
                case "Split" -> {
                    if (split != null || i != 0) throw new ModelFormatException(field + ": only one Split, first, is supported");
                    if (!s.path("behavior").asText("").equals("Isolated") || s.path("invert").asBoolean(false)) {
                        throw new ModelFormatException(field + ": only behavior Isolated, not inverted, is supported");
                    }
                    JsonNode regex = s.path("pattern").path("Regex");
                    if (!regex.isTextual()) throw new ModelFormatException(field + ".pattern: not a Regex");
                    split = knownPattern(path, field + ".pattern.Regex", regex.asText());
                }
                default -> throw new ModelFormatException(field + ".type: \"" + s.path("type").asText() + "\" is not supported");
            }
        }
        throw new ModelFormatException("pre_tokenizer: no ByteLevel step");
    }

    /** Whether Llama's normalizer prepends '▁'; it must be Prepend '▁' then Replace ' ' → '▁', or the Replace alone. */
    private static boolean llamaNormalizer(JsonNode norm) {
        List<JsonNode> steps = new ArrayList<>();
        if (norm.path("type").asText().equals("Sequence")) norm.path("normalizers").forEach(steps::add);
        else if (!norm.isMissingNode() && !norm.isNull()) steps.add(norm);
        boolean prepend = steps.size() == 2 && steps.get(0).path("type").asText().equals("Prepend")
                && steps.get(0).path("prepend").asText().equals("▁");
        JsonNode replace = steps.isEmpty() ? null : steps.get(steps.size() - 1);
        boolean ok = (steps.size() == 1 || prepend) && replace != null && replace.path("type").asText().equals("Replace")
                && replace.path("pattern").path("String").asText().equals(" ") && replace.path("content").asText().equals("▁");
        if (!ok) throw new ModelFormatException("normalizer: " + shorten(norm.toString()) + " is not Llama's (Prepend '▁', Replace ' ' with '▁')");
        return prepend;
    }

    /** The id of a special token named in tokenizer_config.json (a string or {"content": ...}), or -1. */
    private static int special(JsonNode config, String key, Map<String, Integer> ids) {
        if (config == null) return -1;
        JsonNode v = config.path(key);
        if (v.isObject()) v = v.path("content");
        if (!v.isTextual()) return -1;
        Integer id = ids.get(v.asText());
        if (id == null) throw new ModelFormatException("tokenizer_config.json " + key + ": \"" + shorten(v.asText()) + "\" is not a token");
        return id;
    }

    private static int templateSpecial(JsonNode step, Map<String, Integer> ids) {
        JsonNode s = step.path("SpecialToken").path("id");
        return s.isTextual() ? ids.getOrDefault(s.asText(), -1) : -1;
    }

    static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
