package org.slm4j.generate;

import java.util.List;

/**
 * What a generation run does: how many tokens, how the next one is chosen, and where to stop.
 *
 * <p>The sampling knobs mean what llama.cpp's common sampler means by them, applied in its order:
 * repetition penalty, top-k, top-p, min-p, temperature, then a seeded draw (see {@link Sampler}).
 * A knob at its neutral value is off: {@code topK} 0, {@code topP} 1, {@code minP} 0, {@code repeatPenalty} 1
 * or {@code repeatLastN} 0. {@code temperature} 0 picks the most likely token (greedy).
 *
 * @param maxTokens     most tokens to generate, {@code >= 0}
 * @param temperature   divides the logits of the surviving candidates, {@code >= 0}; 0 means greedy
 * @param topK          keep only the {@code topK} most likely tokens, {@code >= 0}
 * @param topP          keep the smallest most-likely set whose probability reaches {@code topP}, in (0, 1]
 * @param minP          drop tokens less likely than {@code minP} times the most likely one, in [0, 1)
 * @param repeatPenalty divides positive (multiplies negative) logits of recently seen tokens, {@code > 0}
 * @param repeatLastN   how many of the most recent tokens the penalty looks at, {@code >= 0}
 * @param seed          seed of the draw; {@link #RANDOM_SEED} draws one from {@code SecureRandom} when a
 *                      {@link Sampler} is made ({@link Sampler#seed()} tells which, to repeat the run)
 * @param stop          strings that end generation when they appear in the output, none empty
 */
public record GenerationOptions(int maxTokens, float temperature, int topK, float topP, float minP,
                                float repeatPenalty, int repeatLastN, long seed, List<String> stop) {

    /** The seed value that asks for a fresh random seed per {@link Sampler} (llama.cpp's default, too). */
    public static final long RANDOM_SEED = -1;

    public GenerationOptions {
        check(maxTokens >= 0, "maxTokens", maxTokens, ">= 0");
        check(temperature >= 0 && temperature < Float.POSITIVE_INFINITY, "temperature", temperature, "finite and >= 0");
        check(topK >= 0, "topK", topK, ">= 0 (0 = off)");
        check(topP > 0 && topP <= 1, "topP", topP, "in (0, 1] (1 = off)");
        check(minP >= 0 && minP < 1, "minP", minP, "in [0, 1) (0 = off)");
        check(repeatPenalty > 0 && repeatPenalty < Float.POSITIVE_INFINITY, "repeatPenalty", repeatPenalty,
                "finite and > 0 (1 = off)");
        check(repeatLastN >= 0, "repeatLastN", repeatLastN, ">= 0 (0 = off)");
        check(stop != null, "stop", null, "a list, empty for none");
        for (int i = 0; i < stop.size(); i++) {
            check(stop.get(i) != null && !stop.get(i).isEmpty(), "stop[" + i + "]", stop.get(i), "a non-empty string");
        }
        stop = List.copyOf(stop);
    }

    /**
     * llama.cpp's defaults: 256 tokens, temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition
     * penalty (1.0 over the last 64 tokens), a random seed, no stop strings.
     */
    public static GenerationOptions defaults() {
        return new GenerationOptions(256, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, RANDOM_SEED, List.of());
    }

    /** {@link #defaults()} at temperature 0: always the most likely token, so every run is the same. */
    public static GenerationOptions greedy() {
        return defaults().withTemperature(0);
    }

    public GenerationOptions withMaxTokens(int n) {
        return new GenerationOptions(n, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stop);
    }

    public GenerationOptions withTemperature(float t) {
        return new GenerationOptions(maxTokens, t, topK, topP, minP, repeatPenalty, repeatLastN, seed, stop);
    }

    public GenerationOptions withTopK(int k) {
        return new GenerationOptions(maxTokens, temperature, k, topP, minP, repeatPenalty, repeatLastN, seed, stop);
    }

    public GenerationOptions withTopP(float p) {
        return new GenerationOptions(maxTokens, temperature, topK, p, minP, repeatPenalty, repeatLastN, seed, stop);
    }

    public GenerationOptions withMinP(float p) {
        return new GenerationOptions(maxTokens, temperature, topK, topP, p, repeatPenalty, repeatLastN, seed, stop);
    }

    public GenerationOptions withRepeatPenalty(float penalty) {
        return new GenerationOptions(maxTokens, temperature, topK, topP, minP, penalty, repeatLastN, seed, stop);
    }

    public GenerationOptions withRepeatLastN(int n) {
        return new GenerationOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, n, seed, stop);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, s, stop);
    }

    public GenerationOptions withStop(List<String> strings) {
        return new GenerationOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, strings);
    }

    private static void check(boolean ok, String field, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("GenerationOptions." + field + " = " + value + ": expected " + expected);
        }
    }
}
