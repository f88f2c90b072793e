package org.slm4j.format;

import java.util.Arrays;
import java.util.Objects;

/**
 * One GGUF metadata value with its type.
 *
 * <p>Each GGUF type is held in the narrowest Java type that holds all of its values, so unsigned types
 * widen by one step and nothing ever reads as negative:
 * <pre>
 * GGUF type   scalar     array element
 * UINT8       Short      short[]     (0..255)
 * INT8        Byte       byte[]
 * UINT16      Integer    int[]       (0..65535)
 * INT16       Short      short[]
 * UINT32      Long       long[]      (0..2^32-1)
 * INT32       Integer    int[]
 * UINT64      Long       long[]      (0..Long.MAX_VALUE; larger values are rejected)
 * INT64       Long       long[]
 * FLOAT32     Float      float[]
 * FLOAT64     Double     double[]
 * BOOL        Boolean    boolean[]
 * STRING      String     String[]
 * </pre>
 * An {@code ARRAY} value has {@code elementType} set (never {@code ARRAY}: GGUF has no nested arrays);
 * every other value has it null. The constructor checks type, Java class and range. Arrays are shared,
 * not copied: do not modify them. {@code equals} compares array contents.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {
    private static final long UINT32_MAX = 0xFFFF_FFFFL;

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if (type == GgufValueType.ARRAY) {
            if (elementType == null || elementType == GgufValueType.ARRAY) {
                throw new IllegalArgumentException("an ARRAY needs a non-array element type, got " + elementType);
            }
            checkArray(elementType, value);
        } else {
            if (elementType != null) throw new IllegalArgumentException(type + " is not an array but has element type " + elementType);
            checkScalar(type, value);
        }
    }

    public static GgufValue ofUInt8(int v) { return new GgufValue(GgufValueType.UINT8, null, (short) checkRange(v, 0, 255, "UINT8")); }
    public static GgufValue ofInt8(byte v) { return new GgufValue(GgufValueType.INT8, null, v); }
    public static GgufValue ofUInt16(int v) { return new GgufValue(GgufValueType.UINT16, null, (int) checkRange(v, 0, 65535, "UINT16")); }
    public static GgufValue ofInt16(short v) { return new GgufValue(GgufValueType.INT16, null, v); }
    public static GgufValue ofUInt32(long v) { return new GgufValue(GgufValueType.UINT32, null, checkRange(v, 0, UINT32_MAX, "UINT32")); }
    public static GgufValue ofInt32(int v) { return new GgufValue(GgufValueType.INT32, null, v); }
    public static GgufValue ofUInt64(long v) { return new GgufValue(GgufValueType.UINT64, null, checkRange(v, 0, Long.MAX_VALUE, "UINT64")); }
    public static GgufValue ofInt64(long v) { return new GgufValue(GgufValueType.INT64, null, v); }
    public static GgufValue ofFloat32(float v) { return new GgufValue(GgufValueType.FLOAT32, null, v); }
    public static GgufValue ofFloat64(double v) { return new GgufValue(GgufValueType.FLOAT64, null, v); }
    public static GgufValue ofBool(boolean v) { return new GgufValue(GgufValueType.BOOL, null, v); }
    public static GgufValue ofString(String v) { return new GgufValue(GgufValueType.STRING, null, v); }

    public static GgufValue ofUInt8Array(short... v) { return array(GgufValueType.UINT8, v); }
    public static GgufValue ofInt8Array(byte... v) { return array(GgufValueType.INT8, v); }
    public static GgufValue ofUInt16Array(int... v) { return array(GgufValueType.UINT16, v); }
    public static GgufValue ofInt16Array(short... v) { return array(GgufValueType.INT16, v); }
    public static GgufValue ofUInt32Array(long... v) { return array(GgufValueType.UINT32, v); }
    public static GgufValue ofInt32Array(int... v) { return array(GgufValueType.INT32, v); }
    public static GgufValue ofUInt64Array(long... v) { return array(GgufValueType.UINT64, v); }
    public static GgufValue ofInt64Array(long... v) { return array(GgufValueType.INT64, v); }
    public static GgufValue ofFloat32Array(float... v) { return array(GgufValueType.FLOAT32, v); }
    public static GgufValue ofFloat64Array(double... v) { return array(GgufValueType.FLOAT64, v); }
    public static GgufValue ofBoolArray(boolean... v) { return array(GgufValueType.BOOL, v); }
    public static GgufValue ofStringArray(String... v) { return array(GgufValueType.STRING, v); }

    /** Elements in an array value; 1 for a scalar. */
    public int length() {
        return type == GgufValueType.ARRAY ? java.lang.reflect.Array.getLength(value) : 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && type == v.type && elementType == v.elementType && Objects.deepEquals(value, v.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, Arrays.deepHashCode(new Object[] {value}));
    }

    @Override
    public String toString() {
        if (type != GgufValueType.ARRAY) return type + " " + (value instanceof String s ? quote(s) : value);
        StringBuilder s = new StringBuilder("ARRAY<").append(elementType).append(">[").append(length()).append("] [");
        for (int i = 0; i < Math.min(length(), 8); i++) {
            Object e = java.lang.reflect.Array.get(value, i);
            s.append(i == 0 ? "" : ", ").append(e instanceof String str ? quote(str) : e);
        }
        return s.append(length() > 8 ? ", ...]" : "]").toString();
    }

    private static String quote(String s) {
        return '"' + (s.length() > 60 ? s.substring(0, 57) + "..." : s) + '"';
    }

    private static GgufValue array(GgufValueType elementType, Object v) {
        return new GgufValue(GgufValueType.ARRAY, elementType, v);
    }

    private static long checkRange(long v, long min, long max, String what) {
        if (v < min || v > max) throw new IllegalArgumentException(v + " is out of " + what + " range [" + min + ", " + max + "]");
        return v;
    }

    private static void checkScalar(GgufValueType type, Object v) {
        boolean ok = switch (type) {
            case UINT8 -> v instanceof Short s && s >= 0 && s <= 255;
            case INT8 -> v instanceof Byte;
            case UINT16 -> v instanceof Integer i && i >= 0 && i <= 65535;
            case INT16 -> v instanceof Short;
            case UINT32 -> v instanceof Long l && l >= 0 && l <= UINT32_MAX;
            case INT32 -> v instanceof Integer;
            case UINT64 -> v instanceof Long l && l >= 0;
            case INT64 -> v instanceof Long;
            case FLOAT32 -> v instanceof Float;
            case FLOAT64 -> v instanceof Double;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> false;
        };
        if (!ok) throw new IllegalArgumentException(v.getClass().getSimpleName() + " " + v + " is not a valid " + type + " value");
    }

    private static void checkArray(GgufValueType elementType, Object v) {
        boolean ok = switch (elementType) {
            case UINT8 -> v instanceof short[] a && allIn(a, 0, 255);
            case INT8 -> v instanceof byte[];
            case UINT16 -> v instanceof int[] a && allIn(a, 0, 65535);
            case INT16 -> v instanceof short[];
            case UINT32 -> v instanceof long[] a && allIn(a, 0, UINT32_MAX);
            case INT32 -> v instanceof int[];
            case UINT64 -> v instanceof long[] a && allIn(a, 0, Long.MAX_VALUE);
            case INT64 -> v instanceof long[];
            case FLOAT32 -> v instanceof float[];
            case FLOAT64 -> v instanceof double[];
            case BOOL -> v instanceof boolean[];
            case STRING -> v instanceof String[] a && Arrays.stream(a).allMatch(Objects::nonNull);
            case ARRAY -> false;
        };
        if (!ok) throw new IllegalArgumentException(v.getClass().getSimpleName() + " is not a valid array of " + elementType + " (see GgufValue's table)");
    }

    private static boolean allIn(short[] a, int min, int max) {
        for (short x : a) if (x < min || x > max) return false;
        return true;
    }

    private static boolean allIn(int[] a, int min, int max) {
        for (int x : a) if (x < min || x > max) return false;
        return true;
    }

    private static boolean allIn(long[] a, long min, long max) {
        for (long x : a) if (x < min || x > max) return false;
        return true;
    }
}
