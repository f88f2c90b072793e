package org.slm4j.convert;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slm4j.tensor.GgmlType;

/**
 * Which ggml type each tensor gets under a {@link FileType}: llama.cpp's {@code llama_tensor_get_type} without
 * importance matrix, overrides or {@code --pure}, for dense (non-expert) models such as llama and stablelm.
 *
 * <pre>
 * not quantizable (fewer than 2 dims, a norm, a name not ending in "weight", ...)   kept in its source type
 * plain float file types (F32, F16, BF16)                                             the file type's own
 * output.weight (and token_embd.weight when there is no output.weight)              Q6_K, or Q8_0 if ne0 % block
 * attn_v / attn_qkv, Q4_K_M and Q5_K_M: the layers use_more_bits picks              Q6_K
 * attn_v / attn_qkv, Q4_K_S: the first 4                                             Q5_K
 * ffn_down, Q4_K_M and Q5_K_M: the layers use_more_bits picks                        Q6_K
 * ffn_down, Q4_K_S: the first n_layer / 8                                            Q5_K
 * then a row length that is not a whole number of blocks falls back:
 *   Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and F16 when even that does not divide it.
 * </pre>
 * The attn_v and ffn_down counters run in llama.cpp's tensor order (names without a block number first, then by
 * block number, then by name), so the choice does not depend on the order tensors are written in.
 */
final class QuantMix {
    private QuantMix() {}

    private static final Pattern BLOCK = Pattern.compile("^blk\\.([+-]?\\d+)");   // sscanf("blk.%d.")

    /** llama.cpp's tensor order: {@code blk.N.} prefix as N (-1 without one), then the name's bytes. */
    static final Comparator<String> LLAMA_ORDER = Comparator.comparingInt(QuantMix::layer).thenComparing(QuantMix::compareUtf8);

    /** The type of each of {@code tensors} under {@code fileType}, keyed by the tensor objects themselves. */
    static Map<SourceTensor, GgmlType> choose(List<? extends SourceTensor> tensors, FileType fileType) {
        boolean hasOutput = tensors.stream().anyMatch(t -> t.name().equals("output.weight"));
        int nAttnV = (int) tensors.stream().filter(t -> isAttnV(t.name())).count();
        // llama.cpp takes n_layer from the hyperparameters; for the dense models here that is the number of blocks
        int nLayer = tensors.stream().mapToInt(t -> layer(t.name()) + 1).max().orElse(0);
        var counters = new int[2];   // attn_v-like tensors seen, ffn_down tensors seen
        Map<SourceTensor, GgmlType> types = new IdentityHashMap<>();
        tensors.stream().sorted(Comparator.comparing(SourceTensor::name, LLAMA_ORDER)).forEach(t -> {
            GgmlType type = quantizable(t) ? typeFor(t, fileType, hasOutput, nAttnV, nLayer, counters) : t.type();
            types.put(t, type);
        });
        return types;
    }

    /** llama.cpp's {@code tensor_allows_quantization}, for the tensor names dense text models have. */
    static boolean quantizable(SourceTensor t) {
        String name = t.name();
        return dims(t.shape()) >= 2
                && name.endsWith("weight")
                && !name.contains("_norm.weight")
                && !name.contains("ffn_gate_inp.weight")
                && !name.equals("position_embd.weight") && !name.equals("token_types.weight")
                && !name.contains("ssm_conv1d")
                && !name.contains("attn_rel_b.weight");
    }

    private static GgmlType typeFor(SourceTensor t, FileType fileType, boolean hasOutput, int nAttnV, int nLayer, int[] counters) {
        GgmlType type = fileType.defaultType();
        if (!fileType.quantized()) return type;
        String name = t.name();
        long ne0 = t.shape()[0];
        if (name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"))) {
            // the output projection decides every logit: it gets 6 bits unless the file is already Q8_0
            if (ne0 % type.blockSize() != 0) type = GgmlType.Q8_0;
            else if (type != GgmlType.Q8_0) type = GgmlType.Q6_K;
        } else if (isAttnV(name)) {
            int i = counters[0]++;
            if ((fileType == FileType.Q4_K_M || fileType == FileType.Q5_K_M) && useMoreBits(i, nAttnV)) type = GgmlType.Q6_K;
            else if (fileType == FileType.Q4_K_S && i < 4) type = GgmlType.Q5_K;
        } else if (name.contains("ffn_down")) {
            int i = counters[1]++;
            if ((fileType == FileType.Q4_K_M || fileType == FileType.Q5_K_M) && useMoreBits(i, nLayer)) type = GgmlType.Q6_K;
            else if (fileType == FileType.Q4_K_S && i < nLayer / 8) type = GgmlType.Q5_K;
        }
        return fallback(type, ne0);
    }

    /** A row that is not a whole number of blocks takes the nearest type whose block does divide it. */
    static GgmlType fallback(GgmlType type, long ne0) {
        if (ne0 % type.blockSize() == 0) return type;
        GgmlType smaller = switch (type) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> type;
        };
        return ne0 % smaller.blockSize() == 0 ? smaller : GgmlType.F16;
    }

    /** Which of n layers get more bits: the first and last eighth, and every third one between. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    private static boolean isAttnV(String name) {
        return name.contains("attn_v.weight") || name.contains("attn_qkv.weight") || name.contains("attn_kv_b.weight");
    }

    /** ggml_n_dims: trailing dimensions of 1 do not count. */
    private static int dims(long[] shape) {
        int n = shape.length;
        while (n > 1 && shape[n - 1] == 1) n--;
        return Math.max(n, 1);
    }

    private static int layer(String name) {
        Matcher m = BLOCK.matcher(name);
        if (!m.find()) return -1;
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** std::string's operator&lt;: unsigned bytes, not UTF-16 code units. */
    private static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
