package org.slm4j.tokenizer;

import static java.nio.charset.StandardCharsets.UTF_8;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Encode throughput on the KJV text, ours beside the oracles in one run: cl100k_base (ours from the .tiktoken file,
 * jtokkit) and Llama 2 (ours from tokenizer.json and tokenizer.model, Hugging Face tokenizers through DJL). The
 * text goes in documents of 100 lines (about 4 KB). Not a test; run it by hand (see README, "Benchmarks"):
 * {@code bench/tokenize.sh [ROUNDS]}.
 */
public final class TokenizeBenchmark {
    private TokenizeBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args.length > 0 ? args[0] : "/work/shared");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<String> lines = Files.readAllLines(shared.resolve("corpora/kjv-bible/kjv.txt"), UTF_8);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i += 100) docs.add(String.join("\n", lines.subList(i, Math.min(lines.size(), i + 100))) + "\n");
        long bytes = docs.stream().mapToLong(d -> d.getBytes(UTF_8).length).sum();
        System.out.printf("KJV: %.2f MB in %d documents, median of %d rounds after three warm-ups%n", bytes / 1e6, docs.size(), rounds);

        Tokenizer cl100k = Tokenizer.open(shared.resolve("tokenizers/tiktoken/cl100k_base.tiktoken"));
        Encoding jtokkit = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        Path llamaJson = shared.resolve("tokenizers/llama2/tokenizer.json");
        Tokenizer llamaHf = Tokenizer.open(llamaJson);
        Tokenizer llamaSpm = Tokenizer.open(shared.resolve("tokenizers/llama2/tokenizer.model"));
        try (HuggingFaceTokenizer djl = HuggingFaceTokenizer.newInstance(llamaJson, Map.of("truncation", "false", "padding", "false"))) {
            run("cl100k   slm4j (.tiktoken)      ", docs, bytes, rounds, d -> cl100k.encode(d, false, false).length);
            run("cl100k   jtokkit 1.1.0          ", docs, bytes, rounds, d -> jtokkit.encodeOrdinary(d).size());
            run("llama2   slm4j (tokenizer.json) ", docs, bytes, rounds, d -> llamaHf.encode(d, true, true).length);
            run("llama2   slm4j (tokenizer.model)", docs, bytes, rounds, d -> llamaSpm.encode(d, true, true).length);
            run("llama2   HF tokenizers (DJL)    ", docs, bytes, rounds, d -> djl.encode(d).getIds().length);
        }
    }

    private static void run(String name, List<String> docs, long bytes, int rounds, ToIntFunction<String> encode) {
        long[] times = new long[rounds];
        long tokens = 0;
        for (int r = -3; r < rounds; r++) {
            long t0 = System.nanoTime();
            tokens = 0;
            for (String d : docs) tokens += encode.applyAsInt(d);
            if (r >= 0) times[r] = System.nanoTime() - t0; // the first rounds let the JIT compile the encoder
        }
        java.util.Arrays.sort(times);
        double mbs = bytes / 1e6 / (times[rounds / 2] / 1e9);
        double lo = bytes / 1e6 / (times[rounds - 1] / 1e9), hi = bytes / 1e6 / (times[0] / 1e9);
        System.out.printf("%s %8.2f MB/s median (%.2f .. %.2f)  %9d tokens%n", name, mbs, lo, hi, tokens);
    }
}
