package org.slm4j.generate;

import java.util.Arrays;
import java.util.List;
import org.slm4j.Model;
import org.slm4j.model.Batch;
import org.slm4j.model.KvCache;
import org.slm4j.model.Transformer;
import org.slm4j.tokenizer.StreamingDecoder;
import org.slm4j.tokenizer.Tokenizer;

/**
 * Continues a prompt token by token: prefill the prompt as one batch, then sample and decode one
 * position at a time, streaming text as it becomes complete (never half a UTF-8 character, never the
 * beginning of a stop string that may still match).
 */
public final class Generator {
    /** Receives text as it is generated; {@code text} may be empty while a character or stop string is pending. */
    @FunctionalInterface
    public interface Listener {
        void onToken(int id, String text);
    }

    public enum StopReason { END_OF_GENERATION, MAX_TOKENS, STOP_STRING, CONTEXT_FULL }

    /** What a run produced: the generated ids (without the prompt), their text, and why it stopped. */
    public record Result(int[] promptTokens, int[] tokens, String text, StopReason stopReason) {}

    private final Model model;
    private final GenerationOptions options;

    public Generator(Model model, GenerationOptions options) {
        this.model = model;
        this.options = options;
    }

    /** Generates from a text prompt, tokenized as the model expects (BOS when its tokenizer asks for one). */
    public Result generate(String prompt) {
        return generate(model.tokenizer().encode(prompt, model.tokenizer().addBosByDefault(), true), (id, text) -> {});
    }

    /** Generates from {@code prompt} (token ids, BOS included if wanted), calling {@code listener} per token. */
    public Result generate(int[] prompt, Listener listener) {
        int context = model.config().contextLength();
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
        if (prompt.length >= context) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; the model's context holds "
                    + context + " and generation needs at least one more");
        }
        Tokenizer tok = model.tokenizer();
        int vocab = model.config().vocabSize();
        int positions = (int) Math.min(context, (long) prompt.length + options.maxTokens());
        int batch = Math.min(prompt.length, Model.DEFAULT_BATCH);
        KvCache cache = model.newCache(positions, batch);
        Transformer transformer = model.newTransformer(batch);
        Sampler sampler = new Sampler(options, vocab);

        int[] history = Arrays.copyOf(prompt, positions + 1);   // prompt + generated, for the repetition penalty
        int count = prompt.length;
        float[] logits = transformer.forward(Batch.of(cache, prompt, false));
        // one reusable row for the decoding steps
        Batch step = new Batch(new int[1], new int[1], new KvCache[] {cache}, new boolean[] {true});

        StreamingDecoder decoder = tok.newStreamingDecoder();
        StopMatcher stops = new StopMatcher(options.stop());
        StopReason reason = StopReason.MAX_TOKENS;
        int generated = 0;
        while (generated < options.maxTokens()) {
            int next = sampler.sample(logits, 0, history, count);
            if (tok.isEndOfGeneration(next)) {
                reason = StopReason.END_OF_GENERATION;
                break;
            }
            history[count++] = next;
            generated++;
            String emitted = stops.accept(decoder.accept(next));
            listener.onToken(next, emitted);
            if (stops.matched()) {
                reason = StopReason.STOP_STRING;
                break;
            }
            if (generated == options.maxTokens()) break;
            if (cache.length() == positions) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            step.tokens()[0] = next;
            step.positions()[0] = cache.length();
            logits = transformer.forward(step);
        }
        if (!stops.matched()) {
            String rest = stops.finish(decoder.flush());
            if (!rest.isEmpty()) listener.onToken(-1, rest);
        }
        return new Result(prompt.clone(), Arrays.copyOfRange(history, prompt.length, count), stops.text(), reason);
    }

    /** Holds back text that could still grow into a stop string; cuts the text where one matches. */
    static final class StopMatcher {
        private final List<String> stops;
        private final StringBuilder text = new StringBuilder();
        private int emitted;
        private boolean matched;

        StopMatcher(List<String> stops) {
            this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
        }

        /** Adds decoded text; returns what can be shown now. */
        String accept(String piece) {
            int searchFrom = Math.max(0, text.length() - longestStop() + 1);
            text.append(piece);
            for (String s : stops) {
                int at = text.indexOf(s, searchFrom);
                if (at >= 0) {
                    text.setLength(at);
                    matched = true;
                    return drain(at);
                }
            }
            return drain(text.length() - heldBack());
        }

        /** The end of the stream: nothing can match any more, so everything held back is shown. */
        String finish(String piece) {
            String shown = accept(piece);
            return matched ? shown : shown + drain(text.length());
        }

        boolean matched() { return matched; }

        String text() { return text.toString(); }

        private String drain(int upTo) {
            if (upTo <= emitted) return "";
            String s = text.substring(emitted, upTo);
            emitted = upTo;
            return s;
        }

        private int longestStop() {
            int m = 0;
            for (String s : stops) m = Math.max(m, s.length());
            return m;
        }

        private boolean endsWith(String stop, int len) {
            int from = text.length() - len;
            for (int i = 0; i < len; i++) {
                if (text.charAt(from + i) != stop.charAt(i)) return false;
            }
            return true;
        }

        /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
        private int heldBack() {
            int best = 0;
            for (String s : stops) {
                for (int len = Math.min(s.length() - 1, text.length() - emitted); len > best; len--) {
                    if (endsWith(s, len)) {
                        best = len;
                        break;
                    }
                }
            }
            return best;
        }
    }
}
