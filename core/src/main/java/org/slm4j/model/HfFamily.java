package org.slm4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Arrays;
import org.slm4j.format.HfFolder;
import org.slm4j.format.ModelFormatException;
import org.slm4j.format.SafetensorsFile;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Matrix;

/**
 * The Hugging Face architectures slm4j runs, and how each maps its {@code config.json} onto {@link ModelConfig}.
 * Defaults for absent optional keys are transformers' own ({@code LlamaConfig}, {@code MistralConfig},
 * {@code StableLmConfig}); the shape keys are required.
 *
 * <p>RoPE layout: HF checkpoints keep q/k rows in Meta's rotate_half order for every family, so all of them run with
 * {@link RopeLayout#HALF}, whose pairing (i, i + rotaryDims/2) within each head is exactly rotate_half over the
 * rotated dims. No permutation is applied. (llama.cpp's converter permutes Llama/Mistral q/k rows into adjacent
 * pairs, which is why GGUF llama files use {@link RopeLayout#ADJACENT}; StableLM's converter does not permute, and
 * its GGUFs use HALF too.)
 */
enum HfFamily {
    /** Llama, TinyLlama: RMSNorm, full rotary. */
    LLAMA("LlamaForCausalLM", "llama", NormKind.RMS),
    /** Mistral, H2O-Danube: as Llama, plus an optional sliding window. */
    MISTRAL("MistralForCausalLM", "llama", NormKind.RMS),
    /** StableLM 2: LayerNorm with bias, optional q/k/v biases, rotary on the first partial_rotary_factor of each head. */
    STABLELM("StableLmForCausalLM", "stablelm", NormKind.LAYER);

    final String hfClass;
    final String arch;      // the GGUF architecture name, for messages and conversion
    final NormKind norm;

    HfFamily(String hfClass, String arch, NormKind norm) {
        this.hfClass = hfClass;
        this.arch = arch;
        this.norm = norm;
    }

    static HfFamily of(HfFolder folder) {
        Json c = new Json(folder.path().resolve(HfFolder.CONFIG), folder.config());
        JsonNode archs = folder.config().get("architectures");
        if (archs == null || !archs.isArray() || archs.size() != 1 || !archs.get(0).isTextual()) {
            throw c.error("architectures", archs, "a list of one class name such as [\"LlamaForCausalLM\"]");
        }
        String name = archs.get(0).textValue();
        for (HfFamily f : values()) if (f.hfClass.equals(name)) return f;
        throw new ModelFormatException(c.file + ": architectures ['" + name + "'] is not supported; slm4j runs "
                + Arrays.stream(values()).map(f -> f.hfClass).toList());
    }

    ModelConfig config(HfFolder folder) {
        Json c = new Json(folder.path().resolve(HfFolder.CONFIG), folder.config());
        int dim = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        int kvHeads = c.optInt("num_key_value_heads", heads);
        int headDim;
        JsonNode explicitHeadDim = this == STABLELM ? null : folder.config().get("head_dim"); // StableLM derives it
        if (explicitHeadDim != null && !explicitHeadDim.isNull()) {
            headDim = c.requireInt("head_dim");
        } else {
            if (heads <= 0 || dim % heads != 0) {
                throw new ModelFormatException(c.file + ": hidden_size " + dim + " is not a multiple of num_attention_heads " + heads);
            }
            headDim = dim / heads;
        }
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new ModelFormatException(c.file + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        String act = c.optString("hidden_act", "silu");
        if (!act.equals("silu")) throw c.unsupported("hidden_act", act, "silu");
        float ropeFreqScale = ropeFreqScale(c, folder.config().get("rope_scaling"));
        float eps;
        boolean qkvBias = false, qkNorm = false, parallelResidual = false;
        int rotaryDims = headDim;
        int window = 0;
        if (this == STABLELM) {
            eps = c.optFloat("layer_norm_eps", 1e-5f);
            qkvBias = c.optBool("use_qkv_bias", false);
            qkNorm = c.optBool("qk_layernorm", false);
            parallelResidual = c.optBool("use_parallel_residual", false);
            float factor = c.optFloat("partial_rotary_factor", 0.25f);
            if (!(factor > 0 && factor <= 1)) throw c.error("partial_rotary_factor", factor, "a number in (0, 1]");
            rotaryDims = (int) (factor * headDim); // transformers: int(partial_rotary_factor * head_dim)
        } else {
            eps = c.optFloat("rms_norm_eps", 1e-6f);
            if (c.optBool("attention_bias", false)) throw c.unsupported("attention_bias", true, "false");
            if (c.optBool("mlp_bias", false)) throw c.unsupported("mlp_bias", true, "false");
            JsonNode sw = folder.config().get("sliding_window"); // null or absent: full attention
            if (this == MISTRAL && sw != null && !sw.isNull()) {
                window = c.requireInt("sliding_window");
                if (window <= 0) throw c.error("sliding_window", window, "a positive number of positions, or null");
            }
        }
        try {
            return new ModelConfig(arch, c.requireInt("vocab_size"), dim, c.requireInt("num_hidden_layers"), heads, kvHeads, headDim,
                    c.requireInt("intermediate_size"), norm, eps, qkvBias, rotaryDims, RopeLayout.HALF,
                    c.optFloat("rope_theta", 10000f), c.requireInt("max_position_embeddings"), window,
                    qkNorm, parallelResidual, ropeFreqScale);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(c.file + ": " + e.getMessage(), e);
        }
    }

    /** 1 / factor for {@code {"type": "linear", "factor": f}} (or "rope_type"); 1 without rope_scaling; others refused. */
    private static float ropeFreqScale(Json c, JsonNode scaling) {
        if (scaling == null || scaling.isNull()) return 1f;
        JsonNode type = scaling.has("rope_type") ? scaling.get("rope_type") : scaling.get("type");
        JsonNode factor = scaling.get("factor");
        if (type == null || !"linear".equals(type.asText())) throw c.unsupported("rope_scaling", scaling, "null or linear");
        if (factor == null || !factor.isNumber() || !(factor.doubleValue() > 0)) {
            throw c.error("rope_scaling.factor", factor, "a positive number");
        }
        return (float) (1 / factor.doubleValue());
    }

    /** Whether the output head is the embedding ({@code tie_word_embeddings}, or no {@code lm_head.weight}). */
    static boolean tied(HfFolder folder) {
        Json c = new Json(folder.path().resolve(HfFolder.CONFIG), folder.config());
        return c.optBool("tie_word_embeddings", false) || folder.tensor("lm_head.weight") == null;
    }

    Weights weights(HfFolder folder, ModelConfig c) {
        boolean tied = tied(folder);
        return Weights.load(c, new WeightSource() {
            public Matrix matrix(String name, int rows, int cols) { return HfFamily.matrix(folder, hfName(name), rows, cols); }
            public float[] vector(String name, int n) {
                return name.contains(".attn_q_norm.") || name.contains(".attn_k_norm.")
                        ? perHead(folder, name, n, c.headDim()) : HfFamily.vector(folder, hfName(name), n);
            }
            public boolean has(String name) { return !(tied && name.equals("output.weight")) && folder.tensor(hfName(name)) != null; }
        });
    }

    /** Hugging Face's name for a GGUF tensor name ({@code blk.3.attn_q.weight} → {@code model.layers.3.self_attn.q_proj.weight}). */
    static String hfName(String gguf) {
        if (!gguf.startsWith("blk.")) {
            int dot = gguf.indexOf('.');
            String part = gguf.substring(0, dot), suffix = gguf.substring(dot);
            return switch (part) {
                case "token_embd" -> "model.embed_tokens" + suffix;
                case "output_norm" -> "model.norm" + suffix;
                case "output" -> "lm_head" + suffix;
                default -> throw new IllegalArgumentException("no Hugging Face name for " + gguf);
            };
        }
        int a = gguf.indexOf('.', 4), z = gguf.lastIndexOf('.');
        String part = switch (gguf.substring(a + 1, z)) {
            case "attn_norm" -> "input_layernorm";
            case "attn_q" -> "self_attn.q_proj";
            case "attn_k" -> "self_attn.k_proj";
            case "attn_v" -> "self_attn.v_proj";
            case "attn_output" -> "self_attn.o_proj";
            case "ffn_norm" -> "post_attention_layernorm";
            case "ffn_gate" -> "mlp.gate_proj";
            case "ffn_up" -> "mlp.up_proj";
            case "ffn_down" -> "mlp.down_proj";
            default -> throw new IllegalArgumentException("no Hugging Face name for " + gguf);
        };
        return "model.layers." + gguf.substring(4, a) + "." + part + gguf.substring(z);
    }

    private static Matrix matrix(HfFolder folder, String name, int rows, int cols) {
        SafetensorsFile.Tensor t = require(folder, name);
        long[] s = t.shape();
        if (s.length != 2 || s[0] != rows || s[1] != cols) {
            throw new ModelFormatException(folder.fileOf(name) + ": tensor " + name + " has shape " + Arrays.toString(s)
                    + ", expected [" + rows + ", " + cols + "] from config.json");
        }
        return new Matrix(name, type(folder, t), folder.tensorData(t), rows, cols);
    }

    /**
     * StableLM's per-head q/k LayerNorm weights, one HF tensor a head ({@code self_attn.q_layernorm.norms.H.weight}),
     * as one vector of {@code n / headDim} heads: GGUF stacks them into one [heads, headDim] tensor.
     */
    private static float[] perHead(HfFolder folder, String gguf, int n, int headDim) {
        String layer = "model.layers." + gguf.substring(4, gguf.indexOf('.', 4));
        String norms = layer + ".self_attn." + (gguf.contains("attn_q_") ? "q" : "k") + "_layernorm.norms.";
        float[] v = new float[n];
        for (int h = 0; h < n / headDim; h++) System.arraycopy(vector(folder, norms + h + ".weight", headDim), 0, v, h * headDim, headDim);
        return v;
    }

    private static float[] vector(HfFolder folder, String name, int n) {
        SafetensorsFile.Tensor t = require(folder, name);
        if (t.shape().length != 1 || t.shape()[0] != n) {
            throw new ModelFormatException(folder.fileOf(name) + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected [" + n + "]");
        }
        float[] v = new float[n];
        new Matrix(name, type(folder, t), folder.tensorData(t), 1, n).dequantizeRow(0, v, 0);
        return v;
    }

    private static GgmlType type(HfFolder folder, SafetensorsFile.Tensor t) {
        if (t.dtype().ggml() == null) {
            throw new ModelFormatException(folder.fileOf(t.name()) + ": tensor " + t.name() + " has dtype " + t.dtype()
                    + "; slm4j reads F32, F16 and BF16 weights");
        }
        return t.dtype().ggml();
    }

    private static SafetensorsFile.Tensor require(HfFolder folder, String name) {
        SafetensorsFile.Tensor t = folder.tensor(name);
        if (t == null) throw new ModelFormatException(folder.path() + ": tensor " + name + " is missing from the safetensors weights");
        return t;
    }

    /** Typed reads of config.json keys, each error naming the file, key, value and what was expected. */
    private record Json(Path file, JsonNode node) {
        int requireInt(String key) {
            JsonNode v = node.get(key);
            if (v == null) throw new ModelFormatException(file + ": required key '" + key + "' is missing");
            if (!v.isIntegralNumber() || !v.canConvertToInt()) throw error(key, v, "an integer that fits an int");
            return v.intValue();
        }

        int optInt(String key, int dflt) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? dflt : requireInt(key);
        }

        float optFloat(String key, float dflt) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) return dflt;
            if (!v.isNumber() || !Double.isFinite(v.doubleValue())) throw error(key, v, "a number");
            return v.floatValue();
        }

        boolean optBool(String key, boolean dflt) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) return dflt;
            if (!v.isBoolean()) throw error(key, v, "true or false");
            return v.booleanValue();
        }

        String optString(String key, String dflt) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) return dflt;
            if (!v.isTextual()) throw error(key, v, "a string");
            return v.textValue();
        }

        ModelFormatException error(String key, Object value, String expected) {
            return new ModelFormatException(file + ": '" + key + "' is " + value + ", expected " + expected);
        }

        ModelFormatException unsupported(String key, Object value, String supported) {
            return new ModelFormatException(file + ": '" + key + "' = " + value + " is not supported yet (slm4j runs " + key + " = " + supported + ")");
        }
    }
}
