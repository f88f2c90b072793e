package org.slm4j.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class GenerationOptionsTest {
    private static final GenerationOptions D = GenerationOptions.defaults();

    @Test
    void defaultsAreLlamaCppCommonParams() {
        // common/common.h: n_predict aside, temp 0.80, top_k 40, top_p 0.95, min_p 0.05, penalty 1.0 over 64
        assertEquals(new GenerationOptions(256, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, -1, List.of()), D);
        assertEquals(0f, GenerationOptions.greedy().temperature());
        assertEquals(D.withTemperature(0), GenerationOptions.greedy());
    }

    @Test
    void withersChangeOneField() {
        var o = D.withMaxTokens(7).withTemperature(0.5f).withTopK(3).withTopP(0.5f).withMinP(0.1f)
                .withRepeatPenalty(1.1f).withRepeatLastN(16).withSeed(42).withStop(List.of("\n\n"));
        assertEquals(new GenerationOptions(7, 0.5f, 3, 0.5f, 0.1f, 1.1f, 16, 42, List.of("\n\n")), o);
    }

    @Test
    void stopListIsCopied() {
        var stop = new ArrayList<>(List.of("a"));
        var o = D.withStop(stop);
        stop.add("b");
        assertEquals(List.of("a"), o.stop());
        assertThrows(UnsupportedOperationException.class, () -> o.stop().add("c"));
    }

    @Test
    void neutralValuesAreAccepted() {
        assertDoesNotThrow(() -> new GenerationOptions(0, 0f, 0, 1f, 0f, 1f, 0, Long.MIN_VALUE, List.of()));
    }

    @Test
    void invalidValuesNameTheFieldAndValue() {
        rejects("maxTokens = -1", () -> D.withMaxTokens(-1));
        rejects("temperature = -0.1", () -> D.withTemperature(-0.1f));
        rejects("temperature = NaN", () -> D.withTemperature(Float.NaN));
        rejects("temperature = Infinity", () -> D.withTemperature(Float.POSITIVE_INFINITY));
        rejects("topK = -2", () -> D.withTopK(-2));
        rejects("topP = 0.0", () -> D.withTopP(0f));
        rejects("topP = 1.5", () -> D.withTopP(1.5f));
        rejects("topP = NaN", () -> D.withTopP(Float.NaN));
        rejects("minP = 1.0", () -> D.withMinP(1f));
        rejects("minP = -0.5", () -> D.withMinP(-0.5f));
        rejects("repeatPenalty = 0.0", () -> D.withRepeatPenalty(0f));
        rejects("repeatPenalty = NaN", () -> D.withRepeatPenalty(Float.NaN));
        rejects("repeatLastN = -1", () -> D.withRepeatLastN(-1));
        rejects("stop = null", () -> D.withStop(null));
        rejects("stop[1] = null", () -> D.withStop(Arrays.asList("x", null)));
        rejects("stop[0] = :", () -> D.withStop(List.of("")));
    }

    private static void rejects(String fieldAndValue, Supplier<GenerationOptions> make) {
        var e = assertThrows(IllegalArgumentException.class, make::get);
        assertTrue(e.getMessage().startsWith("GenerationOptions." + fieldAndValue), e.getMessage());
    }
}
