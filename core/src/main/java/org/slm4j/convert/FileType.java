package org.slm4j.convert;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slm4j.tensor.GgmlType;

/**
 * The quantization a user asks for, named as llama-quantize names it; slm4j runs all of them. Each is a mix:
 * {@link #defaultType()} for most matrices, with {@link GgufQuantizer}'s per-tensor rules on top (norms stay F32,
 * output.weight gets more bits, ...).
 */
public enum FileType {
    F32(0, GgmlType.F32),
    F16(1, GgmlType.F16),
    BF16(32, GgmlType.BF16),
    Q8_0(7, GgmlType.Q8_0),
    Q4_0(2, GgmlType.Q4_0),
    Q4_1(3, GgmlType.Q4_1),
    Q5_0(8, GgmlType.Q5_0),
    Q5_1(9, GgmlType.Q5_1),
    Q4_K_S(14, GgmlType.Q4_K),
    Q4_K_M(15, GgmlType.Q4_K),
    Q5_K_S(16, GgmlType.Q5_K),
    Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K);

    private final int id;
    private final GgmlType defaultType;

    FileType(int id, GgmlType defaultType) {
        this.id = id;
        this.defaultType = defaultType;
    }

    /** llama.cpp's {@code llama_ftype} number, stored as {@code general.file_type}. */
    public int id() { return id; }

    /** The ggml type of matrices no rule singles out. */
    public GgmlType defaultType() { return defaultType; }

    /** Whether the default type is a block quantization (not a plain float type), which turns on the mix rules. */
    boolean quantized() { return defaultType.blockSize() > 1; }

    /** The file type named {@code name} in any case ({@code q4_k_m}, {@code Q4_K_M}). */
    public static FileType parse(String name) {
        for (FileType t : values()) {
            if (t.name().equalsIgnoreCase(name.strip())) return t;
        }
        throw new IllegalArgumentException("unknown quantization type '" + name + "'; expected one of "
                + Arrays.stream(values()).map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
    }
}
