package org.slm4j.format;

/** The types of GGUF metadata values, with the ids a file stores (gguf.h {@code enum gguf_type}). */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, 8),   // u64 length + UTF-8 bytes: 8 bytes at least
    ARRAY(9, 12),   // u32 element type + u64 count: 12 bytes at least
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int minBytes; // smallest encoding of one value, what a count is checked against

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** The id stored in a file. */
    public int id() { return id; }

    /** The type with file id {@code id}, or null when the id is not one GGUF defines. */
    public static GgufValueType byId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) return t;
        }
        return null;
    }

    /** Whether values of this type are integers (signed or unsigned, any width). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    int minBytes() { return minBytes; }
}
