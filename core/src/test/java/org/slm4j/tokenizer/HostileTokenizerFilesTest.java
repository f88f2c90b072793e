package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.format.ModelFormatException;
import org.slm4j.testing.Shared;

/** Malformed tokenizer files end in a ModelFormatException that names the file and the field. */
class HostileTokenizerFilesTest {
    @TempDir Path dir;

    private static final String GOOD_JSON = """
            {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
               {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
             "pre_tokenizer": null,
             "added_tokens": [{"id": 0, "content": "<unk>", "special": true}],
             "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": false,
               "vocab": {"<unk>": 0, "▁": 1, "a": 2, "b": 3, "▁a": 4, "ab": 5},
               "merges": [%s]}}""";

    private void refused(String file, String content, String... words) throws IOException {
        refused(file, content.getBytes(UTF_8), words);
    }

    private void refused(String file, byte[] content, String... words) throws IOException {
        Path p = dir.resolve(file);
        Files.write(p, content);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.open(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String w : words) assertTrue(e.getMessage().contains(w), "\"" + w + "\" in: " + e.getMessage());
    }

    @Test
    void goodJsonWorksAndMergesByRank() throws IOException {
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, GOOD_JSON.formatted("\"▁ a\", \"a b\""));
        Tokenizer t = Tokenizer.open(p);
        // ▁ a b: "▁ a" ranks first, then "▁a b" is no merge, so "a b" never gets its chance: ▁a, b
        assertArrayEquals(new int[] {4, 3}, t.encode("ab", false, false));
        Files.writeString(p, GOOD_JSON.formatted("\"a b\", \"▁ a\""));
        assertArrayEquals(new int[] {1, 5}, Tokenizer.open(p).encode("ab", false, false));
        assertArrayEquals(new int[] {1, 0, 5}, Tokenizer.open(p).encode("zzab", false, false), "unknown run fused");
    }

    @Test
    void hostileJson() throws IOException {
        refused("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {", "broken JSON");
        refused("tokenizer.json", "[1, 2]", "not a JSON object");
        refused("tokenizer.json", GOOD_JSON.formatted("\"a c\""), "model.merges[0]", "\"c\"", "not in model.vocab");
        refused("tokenizer.json", GOOD_JSON.formatted("\"a b\", \"b b\""), "model.merges[1]", "\"bb\"");
        refused("tokenizer.json", GOOD_JSON.formatted("\"ab\""), "model.merges[0]", "two tokens");
        refused("tokenizer.json", GOOD_JSON.formatted("7"), "model.merges[0]");
        refused("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", "model.vocab", "empty");
        refused("tokenizer.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "model.type", "Unigram");
        refused("tokenizer.json", GOOD_JSON.formatted("").replace("\"ab\": 5", "\"ab\": 4"), "model.vocab", "id 4");
        refused("tokenizer.json", GOOD_JSON.formatted("").replace("\"ab\": 5", "\"ab\": 99999"), "model.vocab", "99999");
        refused("tokenizer.json", GOOD_JSON.formatted("").replace("\"ab\": 5", "\"ab\": -1"), "model.vocab", "-1");
        refused("tokenizer.json", GOOD_JSON.formatted("").replace("\"byte_fallback\": false", "\"byte_fallback\": true"),
                "byte_fallback", "<0x00>");
        refused("tokenizer.json", GOOD_JSON.formatted("").replace("\"unk_token\": \"<unk>\"", "\"unk_token\": \"<x>\""), "unk_token");
        refused("tokenizer.json", GOOD_JSON.formatted("").replace("\"content\": \"<unk>\"", "\"content\": \"\""), "added_tokens[0]");
        refused("tokenizer.json", "{\"a\":".repeat(100) + "1" + "}".repeat(100), "broken JSON");
        String byteLevel = """
                {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                   {"type": "Split", "pattern": {"Regex": "(a+)+$"}, "behavior": "Isolated", "invert": false},
                   {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
                 "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""";
        refused("tokenizer.json", byteLevel, "pre_tokenizer.pretokenizers[0].pattern.Regex", "(a+)+$", "not one of the known");
        String gpt2 = """
                {"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "Ġb"]]}}""";
        refused("tokenizer.json", gpt2, "model.merges[0]", "\"Ġb\"");
    }

    /** A tiny BPE ModelProto: pieces <unk>, ▁, a, ▁a and the given trainer spec bytes. */
    private static byte[] model(byte[] trainer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] pieces = {"<unk>", "▁", "a", "▁a"};
        for (int i = 0; i < pieces.length; i++) {
            byte[] s = pieces[i].getBytes(UTF_8);
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            p.write(0x0A);
            p.write(s.length);
            p.writeBytes(s);
            p.write(0x15); // score, fixed32
            int bits = Float.floatToIntBits(-i);
            for (int k = 0; k < 4; k++) p.write(bits >>> 8 * k);
            p.write(0x18); // type
            p.write(i == 0 ? 2 : 1);
            out.write(0x0A);
            out.write(p.size());
            out.writeBytes(p.toByteArray());
        }
        out.write(0x12);
        out.write(trainer.length);
        out.writeBytes(trainer);
        return out.toByteArray();
    }

    private static final byte[] BPE = {0x18, 0x02}; // model_type BPE

    @Test
    void hostileSentencePieceModel() throws IOException {
        Path p = dir.resolve("good.model");
        Files.write(p, model(BPE));
        assertArrayEquals(new int[] {1, 3}, Tokenizer.open(p).encode("a", true, false));
        refused("varint.model", new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}, "varint longer than 10 bytes");
        refused("length.model", new byte[] {0x0A, (byte) 0xFF, 0x7F, 1, 2}, "pieces[0]", "length");
        refused("group.model", new byte[] {0x0B}, "wire type 3");
        refused("unigram.model", model(new byte[] {0x18, 0x01}), "trainer_spec.model_type");
        refused("bos.model", model(new byte[] {0x18, 0x02, (byte) 0xC8, 0x02, 0x09}), "trainer_spec.bos_id", "9");
        refused("bytes.model", model(new byte[] {0x18, 0x02, (byte) 0x98, 0x02, 0x01}), "byte_fallback");
        refused("empty.model", new byte[0], "trainer_spec.model_type");
    }

    /** Cut or flipped bytes of the real Llama 2 model give the typed error or a tokenizer, nothing else. */
    @Test
    void fuzzedSentencePieceModel() throws IOException {
        byte[] real = Files.readAllBytes(Shared.file("tokenizers/llama2/tokenizer.model"));
        Random r = new Random(5);
        for (int i = 0; i < 40; i++) {
            byte[] b = i < 20 ? Arrays.copyOf(real, r.nextInt(real.length)) : real.clone();
            if (i >= 20) for (int k = 0; k < 8; k++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            Path p = dir.resolve("fuzz" + i + ".model");
            Files.write(p, b);
            try {
                Tokenizer.open(p).encode("Hello world", true, false);
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().contains(p.toString()));
            }
        }
    }

    @Test
    void hostileTiktoken() throws IOException {
        String meta = "{\"pat_str\": \"'s|'t|'re|'ve|'m|'ll|'d| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|\\\\s+\","
                + " \"special_tokens\": {\"<|endoftext|>\": 300}}";
        StringBuilder ranks = new StringBuilder();
        for (int b = 0; b < 256; b++) ranks.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        for (String name : new String[] {"good", "b64", "dup", "rank", "fields", "few", "special"}) {
            Files.writeString(dir.resolve(name + ".meta.json"), name.equals("special") ? meta.replace("300", "7") : meta);
        }
        Files.writeString(dir.resolve("good.tiktoken"), ranks + "aGk= 256\n");
        Tokenizer t = Tokenizer.open(dir.resolve("good.tiktoken"));
        assertArrayEquals(new int[] {256, 256}, t.encode("hihi", false, false), "hi twice: the pattern keeps it one word, merged");
        assertArrayEquals(new int[] {300}, t.encode("<|endoftext|>", false, true));
        refused("b64.tiktoken", ranks + "a$k= 256\n", "line 257", "bad base64");
        refused("dup.tiktoken", ranks + "aGk= 7\n", "line 257", "rank", "7");
        refused("rank.tiktoken", ranks + "aGk= -3\n", "line 257", "rank");
        refused("fields.tiktoken", ranks + "aGk=256\n", "line 257", "base64 rank");
        refused("few.tiktoken", "aGk= 0\n", "single byte 0x00");
        Files.writeString(dir.resolve("special.tiktoken"), ranks);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.open(dir.resolve("special.tiktoken")));
        assertTrue(e.getMessage().contains(dir.resolve("special.meta.json") + ": special_tokens[\"<|endoftext|>\"]: id 7 is taken"), e.getMessage());
        refused("nometa.tiktoken", ranks.toString(), "nometa.meta.json");
        refused("tokenizer.bin", "x", "not a tokenizer file");
    }
}
