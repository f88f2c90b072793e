package org.slm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Conversions against IEEE 754 values worked out by hand. */
class HalfFloatsTest {
    @Test
    void f16() {
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1f));
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1 + 0x1p-11f));           // tie: to even
        assertEquals((short) 0x3C02, HalfFloats.floatToF16(1 + 3 * 0x1p-11f));       // tie: to even (up)
        assertEquals((short) 0x0001, HalfFloats.floatToF16(0x1p-24f));               // smallest subnormal
        assertEquals((short) 0x0000, HalfFloats.floatToF16(0x1p-25f));               // tie with zero: to even
        assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65504f));
        assertEquals((short) 0x7C00, HalfFloats.floatToF16(65520f));                 // rounds past the largest: infinity
        assertEquals(-2f, HalfFloats.f16ToFloat((short) 0xC000));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 0x0001));
    }

    @Test
    void bf16() {
        assertEquals((short) 0x3F80, HalfFloats.floatToBf16(1f));
        assertEquals((short) 0x3F80, HalfFloats.floatToBf16(1 + 0x1p-8f));           // tie: to even
        assertEquals((short) 0x3F82, HalfFloats.floatToBf16(1 + 3 * 0x1p-8f));       // tie: to even (up)
        assertEquals((short) 0x3F81, HalfFloats.floatToBf16(1 + 0x1p-8f + 0x1p-20f)); // above the tie: up
        assertEquals((short) 0xC2F7, HalfFloats.floatToBf16(-123.5f));
        assertEquals((short) 0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE));       // rounds past the largest: infinity
        assertEquals((short) 0xFF80, HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F800001)))));
        assertEquals(0x1p-133f, HalfFloats.bf16ToFloat((short) 0x0001));
    }
}
