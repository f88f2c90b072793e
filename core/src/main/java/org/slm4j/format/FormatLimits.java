package org.slm4j.format;

/**
 * Caps a reader applies to a model file before it trusts a declared count or size. A file that exceeds
 * one is rejected with a {@link ModelFormatException} naming the field, the value and the cap.
 *
 * <p>The caps bound work and memory; independently of them, no count is believed unless the bytes it
 * needs are still in the file. GGUF fixes two hard maxima that a limit may tighten but not raise:
 * 4 dimensions ({@code GGML_MAX_DIMS}) and 63 name bytes ({@code GGML_MAX_NAME} 64 with its NUL).
 *
 * @param maxTensors         tensor infos in one file
 * @param maxDims            dimensions of one tensor, 1..4
 * @param maxNameBytes       UTF-8 bytes of one tensor name, 1..63
 * @param maxStringBytes     UTF-8 bytes of one metadata key or string value (chat templates are the long ones)
 * @param maxArrayLength     elements of one metadata array (vocabularies and merges are the long ones)
 * @param maxMetadataEntries metadata key/value pairs in one file
 * @param maxAlignment       largest {@code general.alignment} accepted
 */
public record FormatLimits(long maxTensors, int maxDims, int maxNameBytes, long maxStringBytes, long maxArrayLength,
                           long maxMetadataEntries, long maxAlignment) {
    /** Generous for every real model: 1M tensors, 4 dims, 63-byte names, 16 MiB strings, 16M-element arrays, 64K entries, 1 MiB alignment. */
    public static final FormatLimits DEFAULT = new FormatLimits(1 << 20, 4, 63, 16L << 20, 16L << 20, 1 << 16, 1 << 20);

    /** Java arrays and strings index by int; stay a little below Integer.MAX_VALUE like the JDK's own caps. */
    private static final long MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    public FormatLimits {
        check("maxTensors", maxTensors, 0, Long.MAX_VALUE);
        check("maxDims", maxDims, 1, 4);
        check("maxNameBytes", maxNameBytes, 1, 63);
        check("maxStringBytes", maxStringBytes, 1, MAX_JAVA_ARRAY);
        check("maxArrayLength", maxArrayLength, 0, MAX_JAVA_ARRAY);
        check("maxMetadataEntries", maxMetadataEntries, 0, Long.MAX_VALUE);
        check("maxAlignment", maxAlignment, 1, 1L << 30);
    }

    private static void check(String name, long v, long min, long max) {
        if (v < min || v > max) throw new IllegalArgumentException(name + " = " + v + ", expected " + min + ".." + max);
    }
}
