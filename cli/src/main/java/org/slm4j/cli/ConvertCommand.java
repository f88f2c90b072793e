package org.slm4j.cli;

import java.nio.file.Path;
import org.slm4j.convert.FileType;
import org.slm4j.convert.HfToGguf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a Hugging Face model folder (LlamaForCausalLM, MistralForCausalLM, StableLmForCausalLM) "
                + "into the GGUF file llama.cpp's convert_hf_to_gguf.py writes, quantized as llama-quantize would."})
final class ConvertCommand implements Runnable {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "HF_FOLDER", description = "folder with config.json, safetensors and tokenizer files")
    Path input;
    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "the GGUF file to write")
    Path output;
    @Option(names = "--type", defaultValue = "f16", paramLabel = "TYPE",
            description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k "
                    + "(default: ${DEFAULT-VALUE})")
    String type;

    @Override
    public void run() {
        FileType t = FileType.parse(type);
        long start = System.nanoTime();
        try (ProgressBars bars = new ProgressBars()) {
            HfToGguf.convert(input, output, t, bars);
        }
        spec.commandLine().getOut().printf("wrote %s: %s, %,d bytes in %.1f s%n", output, t, output.toFile().length(),
                (System.nanoTime() - start) / 1e9);
    }
}
