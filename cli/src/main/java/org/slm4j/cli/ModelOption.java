package org.slm4j.cli;

import java.util.Locale;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Parallel;
import picocli.CommandLine.Option;

/** The options every model command shares: which model, how many threads, how it attends. */
final class ModelOption {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "a GGUF model file, a Hugging Face model folder (config.json, safetensors, tokenizer.json), "
                    + "or a hub repo id ORG/NAME[@REVISION], pulled into the Hugging Face cache (HF_HUB_OFFLINE=1: cache only)")
    String model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "worker threads (default: all processors)")
    Integer threads;

    @Option(names = "--sliding-window", paramLabel = "W",
            description = "attend to the last W positions only (0 = full); overrides the file, e.g. for a Danube GGUF without the key")
    Integer slidingWindow;

    @Option(names = "--cache-type", paramLabel = "TYPE", defaultValue = "f32",
            description = "KV cache elements: f32 (what the reference implementations compute in float32) or f16 "
                    + "(half the memory, as llama.cpp) (default: ${DEFAULT-VALUE})")
    String cacheType;

    Model open() {
        GgmlType cache = switch (cacheType.toLowerCase(Locale.ROOT)) {
            case "f16" -> GgmlType.F16;
            case "f32" -> GgmlType.F32;
            default -> throw new IllegalArgumentException("--cache-type " + cacheType + ": expected f16 or f32");
        };
        if (threads != null) Parallel.setThreads(threads);
        Model m;
        try (ProgressBars bars = new ProgressBars()) {
            m = Models.open(Models.resolve(model, false, bars)).withCacheType(cache);
        }
        return slidingWindow == null ? m : m.withSlidingWindow(slidingWindow);
    }
}
