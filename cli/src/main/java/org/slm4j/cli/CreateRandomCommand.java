package org.slm4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.slm4j.model.RandomModel;
import org.slm4j.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "create-random", mixinStandardHelpOptions = true,
        description = "Write a full-size GGUF model with random weights and a real model's shapes (for benchmarks).")
final class CreateRandomCommand implements Runnable {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "SHAPE",
            description = "stablelm-2-1_6b, tinyllama-1_1b or danube-1_8b")
    String shape;
    @Option(names = "--type", defaultValue = "q8_0", paramLabel = "TYPE", description = "f32, f16, q8_0 or q4_0 (default: ${DEFAULT-VALUE})")
    String type;
    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the GGUF file to write")
    Path output;
    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public void run() {
        GgmlType t;
        try {
            t = GgmlType.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--type " + type + ": expected f32, f16, q8_0 or q4_0");
        }
        long start = System.nanoTime();
        RandomModel.write(RandomModel.Shape.of(shape), t, seed, output);
        long bytes = output.toFile().length();
        spec.commandLine().getOut().printf("wrote %s: %s %s, %,d bytes in %.1f s%n", output, shape, t, bytes,
                (System.nanoTime() - start) / 1e9);
    }
}
