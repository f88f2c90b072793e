package org.slm4j.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face model folder: {@code config.json}, optional {@code generation_config.json} and
 * {@code tokenizer_config.json}, and the weights in {@code model.safetensors} or in the shards a
 * {@code model.safetensors.index.json} names, all memory-mapped. The tokenizer files are left to the tokenizer.
 *
 * <p>JSON files are read with caps (file size, nesting depth, string length) and duplicate keys rejected. A shard
 * index must name each shard by a plain {@code *.safetensors} file name (no separator, {@code ..}, absolute path or
 * NUL) that resolves inside the folder, or, for a folder that is a snapshot of the HF cache
 * ({@code models--org--name/snapshots/REV}), into that repository's {@code blobs}; every shard must exist and every
 * tensor be found exactly once, in the shard the index names. Each failure is a {@link ModelFormatException} naming
 * the file and field.
 */
public final class HfFolder implements AutoCloseable {
    public static final String CONFIG = "config.json", GENERATION_CONFIG = "generation_config.json",
            TOKENIZER_CONFIG = "tokenizer_config.json", WEIGHTS = "model.safetensors", INDEX = "model.safetensors.index.json";
    /** Caps on the JSON files: configs are a few KiB; a tokenizer_config with chat templates and added tokens a few MiB. */
    static final long MAX_CONFIG_BYTES = 1 << 20, MAX_TOKENIZER_CONFIG_BYTES = 32L << 20, MAX_INDEX_BYTES = 64L << 20;
    static final int MAX_JSON_DEPTH = 64;
    private static final ObjectMapper JSON = SafetensorsFile.strictJson(MAX_JSON_DEPTH, (int) MAX_TOKENIZER_CONFIG_BYTES);

    private final Path path;
    private final JsonNode config, generationConfig, tokenizerConfig;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owner;   // tensor name -> the shard that holds it

    private HfFolder(Path path, JsonNode config, JsonNode generationConfig, JsonNode tokenizerConfig,
                     List<SafetensorsFile> shards, Map<String, SafetensorsFile> owner) {
        this.path = path;
        this.config = config;
        this.generationConfig = generationConfig;
        this.tokenizerConfig = tokenizerConfig;
        this.shards = shards;
        this.owner = owner;
    }

    /** Whether {@code path} looks like an HF model folder: a directory holding config.json. */
    public static boolean isModelFolder(Path path) {
        return Files.isDirectory(path) && Files.isRegularFile(path.resolve(CONFIG));
    }

    /** Reads the folder's JSON files and maps its weights; throws naming the file and field that is wrong. */
    public static HfFolder open(Path dir) {
        if (!isModelFolder(dir)) throw new ModelFormatException(dir + ": not a Hugging Face model folder (no " + CONFIG + ")");
        JsonNode config = object(readJson(dir.resolve(CONFIG), MAX_CONFIG_BYTES), dir.resolve(CONFIG));
        JsonNode generation = optionalJson(dir.resolve(GENERATION_CONFIG), MAX_CONFIG_BYTES);
        JsonNode tokenizer = optionalJson(dir.resolve(TOKENIZER_CONFIG), MAX_TOKENIZER_CONFIG_BYTES);
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            // as transformers: the single file when there is one, else the index
            Map<String, SafetensorsFile> owner = !Files.exists(dir.resolve(WEIGHTS)) && Files.exists(dir.resolve(INDEX))
                    ? sharded(dir, shards) : single(dir, shards);
            return new HfFolder(dir, config, generation, tokenizer, List.copyOf(shards), Collections.unmodifiableMap(owner));
        } catch (RuntimeException | Error e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    public Path path() { return path; }

    /** config.json, an object. */
    public JsonNode config() { return config; }

    /** generation_config.json, or an empty object when the folder has none. */
    public JsonNode generationConfig() { return generationConfig; }

    /** tokenizer_config.json, or an empty object when the folder has none. */
    public JsonNode tokenizerConfig() { return tokenizerConfig; }

    /**
     * tokenizer_config.json's {@code chat_template}: the string, or from a list of {name, template} the one named
     * "default"; null when there is none.
     */
    public String chatTemplate() {
        JsonNode t = tokenizerConfig.get("chat_template");
        if (t == null || t.isNull()) return null;
        if (t.isTextual()) return t.textValue();
        if (t.isArray()) {
            for (JsonNode e : t) {
                if (e.isObject() && "default".equals(e.path("name").asText(null)) && e.path("template").isTextual()) {
                    return e.get("template").textValue();
                }
            }
            return null;
        }
        throw new ModelFormatException(path.resolve(TOKENIZER_CONFIG) + ": chat_template is " + t.getNodeType()
                + ", expected a string or a list of {name, template}");
    }

    /** The tensor named {@code name} in whichever shard holds it, or null. */
    public SafetensorsFile.Tensor tensor(String name) {
        SafetensorsFile f = owner.get(name);
        return f == null ? null : f.tensor(name);
    }

    /** The bytes of {@code t}, a slice of its shard's mapping (no copy), valid until {@link #close()}. */
    public MemorySegment tensorData(SafetensorsFile.Tensor t) {
        SafetensorsFile f = owner.get(t.name());
        if (f == null) throw new IllegalArgumentException("tensor " + t + " is not one of " + path);
        return f.tensorData(t);
    }

    /** The safetensors file holding tensor {@code name} (for messages), or null. */
    public Path fileOf(String name) {
        SafetensorsFile f = owner.get(name);
        return f == null ? null : f.path();
    }

    /** Every tensor name, sorted. */
    public List<String> tensorNames() {
        return List.copyOf(new TreeMap<>(owner).keySet());
    }

    /** Unmaps every shard; tensor slices handed out become unusable. */
    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "HfFolder[" + path + ", " + shards.size() + " safetensors files, " + owner.size() + " tensors]";
    }

    private static Map<String, SafetensorsFile> single(Path dir, List<SafetensorsFile> shards) {
        Path f = dir.resolve(WEIGHTS);
        if (!Files.exists(f)) throw new ModelFormatException(dir + ": neither " + WEIGHTS + " nor " + INDEX + " is there");
        checkInside(dir, f, dir.resolve(WEIGHTS).toString());
        SafetensorsFile st = SafetensorsFile.open(f);
        shards.add(st);
        Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
        for (String name : st.tensors().keySet()) owner.put(name, st);
        return owner;
    }

    private static Map<String, SafetensorsFile> sharded(Path dir, List<SafetensorsFile> shards) {
        Path indexFile = dir.resolve(INDEX);
        JsonNode map = object(readJson(indexFile, MAX_INDEX_BYTES), indexFile).get("weight_map");
        if (map == null || !map.isObject()) throw new ModelFormatException(indexFile + ": weight_map is missing or not an object");
        Map<String, String> wanted = new LinkedHashMap<>();      // tensor -> shard file name
        Map<String, SafetensorsFile> byFile = new LinkedHashMap<>();
        for (var it = map.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String what = indexFile + ": weight_map['" + e.getKey() + "']";
            if (!e.getValue().isTextual()) throw new ModelFormatException(what + " is " + e.getValue() + ", expected a file name");
            String file = e.getValue().textValue();
            checkShardName(what, file);
            wanted.put(e.getKey(), file);
            if (!byFile.containsKey(file)) {
                Path p = dir.resolve(file);
                if (!Files.isRegularFile(p)) throw new ModelFormatException(what + ": shard '" + file + "' does not exist in " + dir);
                checkInside(dir, p, what);
                SafetensorsFile st = SafetensorsFile.open(p);
                shards.add(st);
                byFile.put(file, st);
            }
        }
        Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
        for (var e : byFile.entrySet()) {
            for (String name : e.getValue().tensors().keySet()) {
                SafetensorsFile other = owner.put(name, e.getValue());
                if (other != null) {
                    throw new ModelFormatException(indexFile + ": tensor '" + name + "' is in both " + other.path().getFileName()
                            + " and " + e.getKey());
                }
                if (!e.getKey().equals(wanted.get(name))) {
                    throw new ModelFormatException(indexFile + ": tensor '" + name + "' is in " + e.getKey()
                            + " but the index " + (wanted.containsKey(name) ? "puts it in " + wanted.get(name) : "does not list it"));
                }
            }
        }
        for (var e : wanted.entrySet()) {
            if (!owner.containsKey(e.getKey())) {
                throw new ModelFormatException(indexFile + ": tensor '" + e.getKey() + "' is not in " + e.getValue() + ", where the index puts it");
            }
        }
        return owner;
    }

    /** A shard is named by a plain file name: nothing that could point outside the folder. */
    private static void checkShardName(String what, String file) {
        if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.contains("\0") || file.equals("..")
                || file.equals(".") || file.contains("..") || file.contains(":") || !file.endsWith(".safetensors")
                || Path.of(file).isAbsolute()) {
            throw new ModelFormatException(what + ": '" + file.replace("\0", "\\0")
                    + "' is not a plain *.safetensors file name in the model folder");
        }
    }

    /**
     * The real file must be in the folder, or (HF cache: snapshots/REV/x -> ../../blobs/sha) in the blobs of the same
     * repository, so no symlink leads a download elsewhere on the disk.
     */
    private static void checkInside(Path dir, Path file, String what) {
        try {
            Path realDir = dir.toRealPath();
            Path real = file.toRealPath();
            if (real.getParent().equals(realDir)) return;
            Path snapshots = realDir.getParent();
            if (snapshots != null && snapshots.getFileName() != null && snapshots.getFileName().toString().equals("snapshots")) {
                Path blobs = snapshots.resolveSibling("blobs");
                if (Files.isDirectory(blobs, LinkOption.NOFOLLOW_LINKS) && real.getParent().equals(blobs.toRealPath())) return;
            }
            throw new ModelFormatException(what + ": " + file + " resolves to " + real + ", outside the model folder");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + file + ": " + e, e);
        }
    }

    private static JsonNode optionalJson(Path f, long maxBytes) {
        return Files.exists(f) ? object(readJson(f, maxBytes), f) : JsonNodeFactory.instance.objectNode();
    }

    private static JsonNode object(JsonNode n, Path f) {
        if (n == null || !n.isObject()) throw new ModelFormatException(f + ": expected a JSON object, found " + (n == null ? "nothing" : n.getNodeType()));
        return n;
    }

    static JsonNode readJson(Path f, long maxBytes) {
        try {
            long size = Files.size(f);
            if (size > maxBytes) throw new ModelFormatException(f + ": " + size + " bytes, more than the " + maxBytes + " a JSON file here may have");
            String text = SafetensorsFile.utf8(f.toString(), Files.readAllBytes(f));
            return JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            String m = e.getOriginalMessage();
            throw new ModelFormatException(f + ": not valid JSON: " + m, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e, e);
        }
    }
}
