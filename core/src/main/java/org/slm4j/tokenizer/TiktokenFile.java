package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.US_ASCII;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.slm4j.format.ModelFormatException;

/**
 * A tiktoken ranks file ({@code NAME.tiktoken}: one "base64-bytes rank" per line, the rank being the token id) with
 * its {@code NAME.meta.json} beside it ({@code pat_str}: the pre-tokenizer regex, which must be a known one;
 * {@code special_tokens}: text → id). Read as byte-level BPE without merge rules (see {@link ByteLevelBpe}); the
 * special tokens are control tokens, {@code <|endoftext|>} the end of sequence; no BOS.
 */
final class TiktokenFile {
    private TiktokenFile() {}

    private static final int MAX_RANK = 4 << 20;

    static Tokenizer read(Path path) {
        String name = path.getFileName().toString();
        Path metaPath = path.resolveSibling(name.substring(0, name.length() - ".tiktoken".length()) + ".meta.json");
        if (!Files.isRegularFile(metaPath)) {
            throw new ModelFormatException(path + ": needs " + metaPath.getFileName() + " beside it (pat_str and special_tokens)");
        }
        JsonNode meta = HfTokenizerJson.readJson(metaPath);
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > HfTokenizerJson.MAX_FILE_BYTES) throw new ModelFormatException(path + ": " + size + " bytes, too large for a ranks file");
            data = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<Integer, String> byRank = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        Base64.Decoder base64 = Base64.getDecoder();
        int line = 0;
        for (int at = 0; at < data.length; ) {
            line++;
            int eol = at;
            while (eol < data.length && data[eol] != '\n') eol++;
            String text = new String(data, at, eol - at, US_ASCII);
            at = eol + 1;
            if (text.isEmpty()) continue;
            String where = path + ": line " + line;
            int sp = text.indexOf(' ');
            if (sp <= 0 || text.indexOf(' ', sp + 1) >= 0) throw new ModelFormatException(where + ": expected \"base64 rank\"");
            byte[] bytes;
            try {
                bytes = base64.decode(text.substring(0, sp));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(where + ": token: bad base64 (" + e.getMessage() + ")");
            }
            if (bytes.length == 0) throw new ModelFormatException(where + ": token: empty");
            int rank;
            try {
                rank = Integer.parseInt(text.substring(sp + 1));
            } catch (NumberFormatException e) {
                throw new ModelFormatException(where + ": rank: \"" + HfTokenizerJson.shorten(text.substring(sp + 1)) + "\" is not an integer");
            }
            if (rank < 0 || rank >= MAX_RANK) throw new ModelFormatException(where + ": rank: " + rank + " is outside [0, " + MAX_RANK + ")");
            char[] spelled = new char[bytes.length];
            for (int i = 0; i < bytes.length; i++) spelled[i] = ByteLevel.charOf(bytes[i] & 0xFF);
            String token = new String(spelled);
            if (seen.putIfAbsent(token, rank) != null) throw new ModelFormatException(where + ": token: repeats rank " + seen.get(token) + "'s bytes");
            if (byRank.putIfAbsent(rank, token) != null) throw new ModelFormatException(where + ": rank: " + rank + " appears twice");
        }
        if (byRank.isEmpty()) throw new ModelFormatException(path + ": empty vocabulary");
        for (int b = 0; b < 256; b++) {
            if (!seen.containsKey(String.valueOf(ByteLevel.charOf(b)))) throw new ModelFormatException(path + ": no token for the single byte 0x%02X".formatted(b));
        }
        if (!meta.path("pat_str").isTextual()) throw new ModelFormatException(metaPath + ": pat_str: missing");
        PreTokenizer pre = HfTokenizerJson.knownPattern(metaPath, "pat_str", meta.path("pat_str").asText());
        JsonNode specials = meta.path("special_tokens");
        if (!specials.isObject() && !specials.isMissingNode()) throw new ModelFormatException(metaPath + ": special_tokens: not an object");
        Map<Integer, String> special = new HashMap<>();
        var it = specials.fields();
        while (it.hasNext()) {
            var e = it.next();
            JsonNode v = e.getValue();
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= MAX_RANK || e.getKey().isEmpty()) {
                throw new ModelFormatException(metaPath + ": special_tokens[\"" + HfTokenizerJson.shorten(e.getKey()) + "\"]: " + v + " is not an id in [0, " + MAX_RANK + ")");
            }
            if (byRank.containsKey(v.asInt()) || special.putIfAbsent(v.asInt(), e.getKey()) != null) {
                throw new ModelFormatException(metaPath + ": special_tokens[\"" + HfTokenizerJson.shorten(e.getKey()) + "\"]: id " + v + " is taken");
            }
        }
        int n = 1 + Math.max(byRank.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1),
                special.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1));
        String[] tokens = new String[n];
        TokenType[] types = new TokenType[n];
        int eos = -1;
        for (int i = 0; i < n; i++) {
            if (byRank.containsKey(i)) {
                tokens[i] = byRank.get(i);
                types[i] = TokenType.NORMAL;
            } else if (special.containsKey(i)) {
                tokens[i] = special.get(i);
                types[i] = TokenType.CONTROL;
                if (tokens[i].equals("<|endoftext|>")) eos = i;
            } else {
                tokens[i] = "[PAD" + i + "]";
                types[i] = TokenType.UNUSED;
            }
        }
        try {
            return Tokenizer.of(new Vocabulary(Vocabulary.Model.BYTE_LEVEL, pre, tokens, new float[n], types, new String[0],
                    -1, eos, -1, -1, eos >= 0 ? new int[] {eos} : new int[0], false, false, false));
        } catch (ModelFormatException e) {
            throw new ModelFormatException(path + ": " + e.getMessage(), e);
        }
    }
}
