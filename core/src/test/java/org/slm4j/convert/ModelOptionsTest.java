package org.slm4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.format.Progress;
import org.slm4j.format.SafetensorsFile;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.format.SafetensorsWriter;
import org.slm4j.generate.GenerationOptions;
import org.slm4j.model.RandomHfFolder;
import org.slm4j.testing.LlamaCpp;

/**
 * The config options the three reports' models leave off but their families define: StableLM's qk_layernorm and
 * use_parallel_residual (StableLM 2 12B's layout) and linear rope_scaling. Each runs from an HF folder, survives the
 * conversion to GGUF (1e-5), and llama.cpp, which implements them on its own, generates the same greedy text from
 * that GGUF. A control shows each option changes the logits, so none can pass by being ignored.
 */
class ModelOptionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] TOKENS = {1, 17, 200, 45, 299, 3, 88, 120, 7, 64, 250, 33};
    private static final String PROMPT = "Hello world, 12";

    @TempDir Path tmp;

    @Test
    void stableLmWithQkLayerNormAndParallelResidual() throws IOException {
        Path hf = tmp.resolve("stablelm-12b-like");
        RandomHfFolder.write(RandomHfConversionTest.dims("stablelm"), "stablelm", Dtype.F32, 5, hf);
        int layers = 2, heads = 4, kvHeads = 4, headDim = 16;
        rewrite(hf, c -> c.put("qk_layernorm", true).put("use_parallel_residual", true), w -> {
            SplittableRandom r = new SplittableRandom(9);
            for (int l = 0; l < layers; l++) {
                for (String qk : new String[] {"q", "k"}) {
                    for (int h = 0; h < (qk.equals("q") ? heads : kvHeads); h++) {
                        float[] v = new float[headDim];
                        for (int i = 0; i < headDim; i++) v[i] = 1 + (float) (r.nextDouble() - 0.5);
                        w.add("model.layers." + l + ".self_attn." + qk + "_layernorm.norms." + h + ".weight", v, headDim);
                    }
                }
            }
        }, "post_attention_layernorm");
        checkAgainstConversionAndLlamaCpp(hf);
        try (Model m = Models.open(hf)) {
            assertTrue(m.config().qkNorm() && m.config().parallelResidual());
        }
    }

    @Test
    void llamaWithLinearRopeScaling() throws IOException {
        Path hf = tmp.resolve("llama-linear");
        RandomHfFolder.write(RandomHfConversionTest.dims("llama"), "llama", Dtype.F32, 6, hf);
        rewrite(hf, c -> c.putObject("rope_scaling").put("type", "linear").put("factor", 4.0), w -> {}, null);
        checkAgainstConversionAndLlamaCpp(hf);
        try (Model m = Models.open(hf)) {
            assertEquals(0.25f, m.config().ropeFreqScale());
        }
    }

    /** HF folder vs its converted GGUF in slm4j; llama.cpp's greedy text on the GGUF vs slm4j's; the option matters. */
    private void checkAgainstConversionAndLlamaCpp(Path hf) throws IOException {
        Path gguf = tmp.resolve(hf.getFileName() + ".gguf");
        HfToGguf.convert(hf, gguf, FileType.F32, Progress.NONE);
        try (Model folder = Models.open(hf); Model converted = Models.open(gguf)) {
            double d = HfToGgufTest.maxDiff(converted.logits(TOKENS), folder.logits(TOKENS));
            assertTrue(d < 1e-5, hf.getFileName() + ": HF folder vs GGUF " + d);
            LlamaCpp.Completion reference = LlamaCpp.complete(gguf, PROMPT, 24);
            assertEquals(reference.text(), converted.generator(GenerationOptions.greedy().withMaxTokens(24)).generate(PROMPT).text());
        }
        // the control: the same weights without the options compute something else
        Path plain = tmp.resolve(hf.getFileName() + "-plain");
        copyFolder(hf, plain);
        rewrite(plain, c -> c.remove(java.util.List.of("qk_layernorm", "use_parallel_residual", "rope_scaling")), w -> {}, null);
        try (Model with = Models.open(gguf); Model without = Models.open(withoutOptions(plain))) {
            assertTrue(HfToGgufTest.maxDiff(with.logits(TOKENS), without.logits(TOKENS)) > 1e-3);
        }
    }

    /** A parallel-residual folder has no post_attention_layernorm; the plain control needs one: the input norm's. */
    private static Path withoutOptions(Path plain) throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(plain.resolve("model.safetensors"))) {
            if (st.tensor("model.layers.0.post_attention_layernorm.weight") != null) return plain;
        }
        rewrite(plain, c -> {}, w -> {}, null, true);
        return plain;
    }

    private static void rewrite(Path hf, Consumer<ObjectNode> config, Consumer<SafetensorsWriter> add, String drop) throws IOException {
        rewrite(hf, config, add, drop, false);
    }

    /**
     * Edits config.json and rewrites model.safetensors: tensors whose name contains {@code drop} left out, {@code add}'s
     * added; with {@code copyInputNorms}, each layer gets a post_attention_layernorm equal to its input_layernorm.
     */
    private static void rewrite(Path hf, Consumer<ObjectNode> config, Consumer<SafetensorsWriter> add, String drop,
                                boolean copyInputNorms) throws IOException {
        ObjectNode c = (ObjectNode) JSON.readTree(hf.resolve("config.json").toFile());
        config.accept(c);
        JSON.writeValue(hf.resolve("config.json").toFile(), c);
        Path weights = hf.resolve("model.safetensors"), old = hf.resolve("old.safetensors");
        Files.move(weights, old);
        try (SafetensorsFile st = SafetensorsFile.open(old)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (SafetensorsFile.Tensor t : st.tensors().values()) {
                if (drop != null && t.name().contains(drop)) continue;
                w.add(t.name(), t.dtype(), t.shape(), st.tensorData(t));
                if (copyInputNorms && t.name().contains("input_layernorm")) {
                    w.add(t.name().replace("input_layernorm", "post_attention_layernorm"), t.dtype(), t.shape(), st.tensorData(t));
                }
            }
            add.accept(w);
            w.write(weights);
        }
        Files.delete(old);
    }

    private static void copyFolder(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
    }
}
