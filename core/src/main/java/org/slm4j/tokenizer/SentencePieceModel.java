package org.slm4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slm4j.format.ModelFormatException;

/**
 * A SentencePiece {@code tokenizer.model} (a protobuf ModelProto) as a {@link Vocabulary}, read by hand: field 1
 * the pieces (1 piece, 2 score, 3 type), field 2 the trainer spec (3 model type, 35 byte_fallback, 40..43 the
 * unk/bos/eos/pad ids), field 3 the normalizer spec (3 add_dummy_prefix). Only BPE models are accepted; they are
 * run as llama.cpp runs them ({@link SentencePieceBpe}). Every varint, length and id is checked against the bytes
 * that remain and the piece count; errors name the file and the field.
 */
final class SentencePieceModel {
    private SentencePieceModel() {}

    private static final int MAX_PIECES = 4 << 20;

    static Tokenizer read(Path path) {
        return Tokenizer.of(vocabulary(path));
    }

    /** The vocabulary of a SentencePiece {@code .model} file; errors name the file. */
    static Vocabulary vocabulary(Path path) {
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > HfTokenizerJson.MAX_FILE_BYTES) throw new ModelFormatException(path + ": " + size + " bytes, too large for a tokenizer model");
            data = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return parse(data);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(path + ": " + e.getMessage(), e);
        }
    }

    /** A cursor over a protobuf message: data[pos, end). */
    private static final class Reader {
        final byte[] data;
        int pos;
        final int end;

        Reader(byte[] data, int pos, int end) {
            this.data = data;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint(String field) {
            long v = 0;
            for (int i = 0; i < 10; i++) {
                if (pos >= end) throw new ModelFormatException(field + ": varint runs past the end of its message");
                int b = data[pos++];
                v |= (long) (b & 0x7F) << 7 * i;
                if (b >= 0) return v;
            }
            throw new ModelFormatException(field + ": varint longer than 10 bytes");
        }

        /** A length-delimited field: the sub-range it spans. */
        Reader sub(String field) {
            long len = varint(field);
            if (len < 0 || len > end - pos) throw new ModelFormatException(field + ": length " + len + " exceeds the " + (end - pos) + " bytes left");
            Reader r = new Reader(data, pos, pos + (int) len);
            pos += (int) len;
            return r;
        }

        float fixed32(String field) {
            if (end - pos < 4) throw new ModelFormatException(field + ": float runs past the end of its message");
            int bits = data[pos] & 0xFF | (data[pos + 1] & 0xFF) << 8 | (data[pos + 2] & 0xFF) << 16 | (data[pos + 3] & 0xFF) << 24;
            pos += 4;
            return Float.intBitsToFloat(bits);
        }

        String string(String field) {
            Reader r = sub(field);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(data, r.pos, r.end - r.pos)).toString();
            } catch (CharacterCodingException e) {
                throw new ModelFormatException(field + ": not UTF-8");
            }
        }

        /** Skips a field of wire type {@code wire} that we do not read; groups (3, 4) are refused. */
        void skip(int wire, String field) {
            switch (wire) {
                case 0 -> varint(field);
                case 1 -> skipBytes(8, field);
                case 2 -> sub(field);
                case 5 -> skipBytes(4, field);
                default -> throw new ModelFormatException(field + ": wire type " + wire + " is not supported");
            }
        }

        private void skipBytes(int n, String field) {
            if (end - pos < n) throw new ModelFormatException(field + ": runs past the end of its message");
            pos += n;
        }
    }

    static Vocabulary parse(byte[] data) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<TokenType> types = new ArrayList<>();
        int modelType = 1, unk = 0, bos = 1, eos = 2, pad = -1; // protobuf defaults of TrainerSpec
        boolean byteFallback = false, dummyPrefix = true;
        Reader r = new Reader(data, 0, data.length);
        while (r.more()) {
            long tag = r.varint("ModelProto tag");
            int field = (int) (tag >>> 3), wire = (int) (tag & 7);
            if (field == 1 && wire == 2) {
                int i = pieces.size();
                if (i >= MAX_PIECES) throw new ModelFormatException("pieces: more than " + MAX_PIECES);
                String name = "pieces[" + i + "]";
                Reader p = r.sub(name);
                String piece = null;
                float score = 0;
                TokenType type = TokenType.NORMAL;
                while (p.more()) {
                    long t = p.varint(name + " tag");
                    int f = (int) (t >>> 3), w = (int) (t & 7);
                    if (f == 1 && w == 2) piece = p.string(name + ".piece");
                    else if (f == 2 && w == 5) score = p.fixed32(name + ".score");
                    else if (f == 3 && w == 0) {
                        long code = p.varint(name + ".type");
                        type = code >= 1 && code <= 6 ? TokenType.ofCode((int) code) : null;
                        if (type == null) throw new ModelFormatException(name + ".type: " + code + " is not a piece type (1..6)");
                    } else p.skip(w, name + " field " + f);
                }
                if (piece == null || piece.isEmpty()) throw new ModelFormatException(name + ".piece: missing or empty");
                if (!Float.isFinite(score)) throw new ModelFormatException(name + ".score: " + score + ", expected a finite number");
                pieces.add(piece);
                scores.add(score);
                types.add(type);
            } else if (field == 2 && wire == 2) {
                Reader t = r.sub("trainer_spec");
                while (t.more()) {
                    long tg = t.varint("trainer_spec tag");
                    int f = (int) (tg >>> 3), w = (int) (tg & 7);
                    switch (w == 0 ? f : -1) {
                        case 3 -> modelType = (int) t.varint("trainer_spec.model_type");
                        case 35 -> byteFallback = t.varint("trainer_spec.byte_fallback") != 0;
                        case 40 -> unk = (int) t.varint("trainer_spec.unk_id");
                        case 41 -> bos = (int) t.varint("trainer_spec.bos_id");
                        case 42 -> eos = (int) t.varint("trainer_spec.eos_id");
                        case 43 -> pad = (int) t.varint("trainer_spec.pad_id");
                        default -> t.skip(w, "trainer_spec field " + f);
                    }
                }
            } else if (field == 3 && wire == 2) {
                Reader nr = r.sub("normalizer_spec");
                while (nr.more()) {
                    long tg = nr.varint("normalizer_spec tag");
                    int f = (int) (tg >>> 3), w = (int) (tg & 7);
                    if (f == 3 && w == 0) dummyPrefix = nr.varint("normalizer_spec.add_dummy_prefix") != 0;
                    else nr.skip(w, "normalizer_spec field " + f);
                }
            } else {
                r.skip(wire, "ModelProto field " + field);
            }
        }
        if (modelType != 2) throw new ModelFormatException("trainer_spec.model_type: " + modelType + " is not BPE (2)");
        int n = pieces.size();
        if (n == 0) throw new ModelFormatException("pieces: empty vocabulary");
        Set<String> seen = new HashSet<>();
        int unknowns = 0, bytes = 0;
        for (int i = 0; i < n; i++) {
            if (!seen.add(pieces.get(i))) throw new ModelFormatException("pieces[" + i + "]: \"" + pieces.get(i) + "\" appears twice");
            if (types.get(i) == TokenType.UNKNOWN) unknowns++;
            if (types.get(i) == TokenType.BYTE) {
                String p = pieces.get(i);
                if (!p.matches("<0x[0-9A-F]{2}>")) throw new ModelFormatException("pieces[" + i + "]: BYTE piece \"" + p + "\" is not <0xNN>");
                bytes++;
            }
        }
        if (unknowns != 1) throw new ModelFormatException("pieces: " + unknowns + " UNKNOWN pieces, expected exactly one");
        if (bytes != (byteFallback ? 256 : 0)) {
            throw new ModelFormatException("pieces: " + bytes + " BYTE pieces with trainer_spec.byte_fallback " + byteFallback + " (expected " + (byteFallback ? 256 : 0) + ")");
        }
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = scores.get(i);
        checked("trainer_spec.unk_id", unk, n);
        checked("trainer_spec.bos_id", bos, n);
        checked("trainer_spec.eos_id", eos, n);
        checked("trainer_spec.pad_id", pad, n);
        return new Vocabulary(Vocabulary.Model.SENTENCEPIECE, null, pieces.toArray(String[]::new), s, types.toArray(TokenType[]::new),
                new String[0], bos, eos, unk, pad, eos >= 0 ? new int[] {eos} : new int[0], true, false, dummyPrefix);
    }

    private static void checked(String field, int id, int n) {
        if (id < -1 || id >= n) throw new ModelFormatException(field + ": " + id + " is outside the " + n + " pieces");
    }
}
