package org.slm4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.slm4j.convert.FileType;
import org.slm4j.convert.GgufQuantizer;
import org.slm4j.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize an F32/F16/BF16 GGUF file as llama.cpp's llama-quantize does (no importance matrix).")
final class QuantizeCommand implements Runnable {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN.gguf", description = "the GGUF file to quantize (F32, F16 or BF16 tensors)")
    Path input;
    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "the GGUF file to write")
    Path output;
    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k")
    String type;
    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "worker threads (default: all processors)")
    Integer threads;

    @Override
    public void run() {
        FileType fileType = FileType.parse(type);
        if (threads != null) Parallel.setThreads(threads);
        long start = System.nanoTime();
        try (ProgressBars bars = new ProgressBars()) {
            GgufQuantizer.quantize(input, output, fileType, bars);
        }
        spec.commandLine().getOut().printf("wrote %s: %s, %,d bytes in %.1f s%n", output, fileType,
                output.toFile().length(), (System.nanoTime() - start) / 1e9);
    }
}
