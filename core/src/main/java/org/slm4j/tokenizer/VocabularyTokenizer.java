package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.slm4j.format.ModelFormatException;

/**
 * The part every vocabulary shares: special-token cutting, BOS, and decoding to bytes; the merge algorithm of the
 * vocabulary's model encodes the text in between.
 */
final class VocabularyTokenizer implements Tokenizer {
    private static final byte[] NOTHING = {};

    private final Vocabulary vocab;
    private final TextEncoder encoder;
    private final int[] specials;  // ids matched in text before merging, longest text first
    private final byte[][] pieces; // [n] the bytes each token decodes to
    private final BitSet endOfGeneration;

    VocabularyTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        String[] tokens = vocab.tokens();
        // text -> id; of two equal strings the later id wins, as in llama.cpp
        Map<String, Integer> ids = HashMap.newHashMap(tokens.length);
        for (int i = 0; i < tokens.length; i++) ids.put(tokens[i], i);
        this.encoder = switch (vocab.model()) {
            case SENTENCEPIECE -> new SentencePieceBpe(vocab, ids);
            case BYTE_LEVEL -> new ByteLevelBpe(vocab, ids);
            case CHAR_MERGES -> new CharMergesBpe(vocab, ids);
        };
        this.specials = IntStream.range(0, tokens.length)
                .filter(i -> switch (vocab.types()[i]) {
                    case CONTROL, USER_DEFINED, UNKNOWN -> true;
                    default -> false;
                })
                .boxed()
                .sorted(Comparator.comparingInt((Integer i) -> -tokens[i].getBytes(UTF_8).length)) // stable: ties by id
                .mapToInt(Integer::intValue)
                .toArray();
        this.pieces = new byte[tokens.length][];
        for (int i = 0; i < tokens.length; i++) pieces[i] = pieceBytes(vocab.model(), tokens[i], vocab.types()[i], i);
        this.endOfGeneration = new BitSet(tokens.length);
        for (int id : vocab.endOfGeneration()) endOfGeneration.set(id);
    }

    private static byte[] pieceBytes(Vocabulary.Model model, String token, TokenType type, int id) {
        return switch (type) {
            case USER_DEFINED -> token.getBytes(UTF_8);
            case BYTE -> new byte[] {(byte) byteToken(token, id)};
            case NORMAL -> model == Vocabulary.Model.BYTE_LEVEL
                    ? byteLevelBytes(token)
                    : token.replace('▁', ' ').getBytes(UTF_8);
            case UNDEFINED, UNKNOWN, CONTROL, UNUSED -> NOTHING;
        };
    }

    /** The byte a BYTE token {@code <0xNN>} stands for. */
    private static int byteToken(String token, int id) {
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            int hi = hexDigit(token.charAt(3)), lo = hexDigit(token.charAt(4));
            if (hi >= 0 && lo >= 0) return hi << 4 | lo;
        }
        throw new ModelFormatException("tokenizer.ggml.token_type[" + id + "]: BYTE, but tokenizer.ggml.tokens[" + id
                + "] is \"" + token + "\", not <0xNN>");
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }

    /** GPT-2 alphabet back to bytes; a character outside the alphabet stands for its own UTF-8. */
    private static byte[] byteLevelBytes(String token) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        token.codePoints().forEach(c -> {
            int b = ByteLevel.byteOf(c);
            if (b >= 0) out.write(b);
            else out.writeBytes(Character.toString(c).getBytes(UTF_8));
        });
        return out.toByteArray();
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList();
        if (addBos) {
            if (vocab.bos() < 0) throw new IllegalStateException("BOS asked for, but the vocabulary has no BOS token");
            out.add(vocab.bos());
        }
        String s = wellFormed(text);
        boolean afterSpecial = true; // the start of the sequence counts as a special token boundary
        for (Fragment f : fragments(s, parseSpecial)) {
            if (f.token() >= 0) {
                out.add(f.token());
                afterSpecial = true;
            } else {
                encoder.encode(s.substring(f.start(), f.end()), afterSpecial, out);
                afterSpecial = false;
            }
        }
        return out.toArray();
    }

    /** A special token (token ≥ 0) or a stretch of ordinary text s[start, end) (token -1). */
    private record Fragment(int token, int start, int end) {}

    /**
     * Cuts {@code s} at special tokens, longest token text first, each token at every place it occurs in text that
     * no longer token has claimed. Control and unknown tokens count only when {@code parseSpecial}.
     */
    private List<Fragment> fragments(String s, boolean parseSpecial) {
        List<Fragment> frags = new ArrayList<>();
        if (s.isEmpty()) return frags;
        frags.add(new Fragment(-1, 0, s.length()));
        for (int id : specials) {
            if (!parseSpecial && vocab.types()[id] != TokenType.USER_DEFINED) continue;
            String t = vocab.tokens()[id];
            List<Fragment> cut = new ArrayList<>(frags.size());
            for (Fragment f : frags) {
                if (f.token() >= 0) {
                    cut.add(f);
                    continue;
                }
                int start = f.start();
                for (int at; (at = s.indexOf(t, start, f.end())) >= 0; start = at + t.length()) {
                    if (at > start) cut.add(new Fragment(-1, start, at));
                    cut.add(new Fragment(id, at, at + t.length()));
                }
                if (start < f.end()) cut.add(new Fragment(-1, start, f.end()));
            }
            frags = cut;
        }
        return frags;
    }

    /** {@code s} with each unpaired surrogate replaced by U+FFFD, as llama.cpp reads invalid UTF-8. */
    private static String wellFormed(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            if (paired) {
                if (b != null) b.append(c).append(s.charAt(i + 1));
                i++;
            } else if (Character.isSurrogate(c)) {
                if (b == null) b = new StringBuilder(s.length()).append(s, 0, i);
                b.append('\uFFFD');
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(bytes(id));
        return Utf8.decode(out.toByteArray(), 0, out.size());
    }

    /** The bytes token {@code id} decodes to. */
    byte[] bytes(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + pieces.length);
        }
        return pieces[id];
    }

    @Override
    public String piece(int id) {
        bytes(id);
        return vocab.tokens()[id];
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return vocab.bos();
    }

    @Override
    public int eos() {
        return vocab.eos();
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && endOfGeneration.get(id);
    }

    @Override
    public boolean addBosByDefault() {
        return vocab.addBos();
    }

    @Override
    public boolean addEosByDefault() {
        return vocab.addEos();
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this::bytes);
    }

    @Override
    public String toString() {
        return "Tokenizer[" + vocab + "]";
    }
}
