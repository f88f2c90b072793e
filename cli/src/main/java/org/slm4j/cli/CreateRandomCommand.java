package org.slm4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.slm4j.format.HfFolder;
import org.slm4j.format.SafetensorsFile.Dtype;
import org.slm4j.model.RandomHfFolder;
import org.slm4j.model.RandomModel;
import org.slm4j.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "create-random", mixinStandardHelpOptions = true,
        description = "Write a full-size model with random weights and a real model's shapes (for benchmarks): a GGUF file, "
                + "or a Hugging Face folder (config.json, model.safetensors, tokenizer.json) to try the converter on.")
final class CreateRandomCommand implements Runnable {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "SHAPE",
            description = "stablelm-2-1_6b, tinyllama-1_1b or danube-1_8b")
    String shape;
    @Option(names = "--format", defaultValue = "gguf", paramLabel = "FORMAT", description = "gguf or hf (default: ${DEFAULT-VALUE})")
    String format;
    @Option(names = "--type", paramLabel = "TYPE",
            description = "gguf: f32, f16, q8_0 or q4_0 (default q8_0); hf: f32, f16 or bf16 (default bf16)")
    String type;
    @Option(names = {"-o", "--output"}, required = true, paramLabel = "PATH", description = "the GGUF file, or the HF folder, to write")
    Path output;
    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public void run() {
        RandomModel.Shape s = RandomModel.Shape.of(shape);
        long start = System.nanoTime();
        boolean hf = switch (format.toLowerCase(Locale.ROOT)) {
            case "gguf" -> false;
            case "hf" -> true;
            default -> throw new IllegalArgumentException("--format " + format + ": expected gguf or hf");
        };
        String t = type != null ? type : hf ? "bf16" : "q8_0";
        long bytes;
        if (hf) {
            RandomHfFolder.write(s, dtype(t), seed, output);
            bytes = output.resolve(HfFolder.WEIGHTS).toFile().length();
        } else {
            RandomModel.write(s, ggmlType(t), seed, output);
            bytes = output.toFile().length();
        }
        spec.commandLine().getOut().printf("wrote %s: %s %s, %,d bytes of weights in %.1f s%n", output, shape, t, bytes,
                (System.nanoTime() - start) / 1e9);
    }

    private static GgmlType ggmlType(String name) {
        try {
            return GgmlType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--type " + name + ": expected f32, f16, q8_0 or q4_0");
        }
    }

    private static Dtype dtype(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32" -> Dtype.F32;
            case "f16" -> Dtype.F16;
            case "bf16" -> Dtype.BF16;
            default -> throw new IllegalArgumentException("--type " + name + ": expected f32, f16 or bf16 for --format hf");
        };
    }
}
