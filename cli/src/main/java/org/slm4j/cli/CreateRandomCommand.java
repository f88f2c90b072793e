package org.slm4j.cli;

import java.nio.file.Path;
import org.slm4j.model.ModelShape;
import org.slm4j.model.RandomGguf;
import org.slm4j.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "create-random", mixinStandardHelpOptions = true,
        description = "Write a random-weight GGUF with a real model's shapes, for benchmarks.")
final class CreateRandomCommand implements Runnable {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "NAME",
            description = "stablelm-2-1_6b, tinyllama-1_1b or danube-1_8b") String shape;
    @Option(names = "--type", defaultValue = "f16", paramLabel = "TYPE", description = "weight type: f32 or f16 (default f16)") String type;
    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "random seed (default 42)") long seed;
    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the GGUF file to write") Path output;

    @Override
    public void run() {
        ModelShape s = ModelShape.named(shape);
        GgmlType t = switch (type.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            default -> throw new IllegalArgumentException("--type " + type + ": expected f32 or f16");
        };
        RandomGguf.write(s, t, seed, output);
        spec.commandLine().getOut().printf("wrote %s: %s, %,d parameters, %s%n", output, s.name(), s.parameters(), t);
    }
}
