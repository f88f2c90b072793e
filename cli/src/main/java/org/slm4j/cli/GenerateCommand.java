package org.slm4j.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slm4j.Model;
import org.slm4j.generate.GenerationOptions;
import org.slm4j.generate.Generator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt, streaming the text as it is generated.")
final class GenerateCommand implements Runnable {
    @Mixin ModelOption model;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    static final class Prompt {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the prompt text") String text;
        @Option(names = "--tokens", paramLabel = "IDS", description = "the prompt as comma-separated token ids") String tokens;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Prompt prompt;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens = 256;
    @Option(names = "--greedy", description = "always take the most likely token (temperature 0)") boolean greedy;
    @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature, 0 = greedy (default: ${DEFAULT-VALUE})")
    float temperature = GenerationOptions.defaults().temperature();
    @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens, 0 = off (default: ${DEFAULT-VALUE})")
    int topK = GenerationOptions.defaults().topK();
    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling, 1 = off (default: ${DEFAULT-VALUE})")
    float topP = GenerationOptions.defaults().topP();
    @Option(names = "--min-p", paramLabel = "P", description = "drop tokens below P × the top probability, 0 = off (default: ${DEFAULT-VALUE})")
    float minP = GenerationOptions.defaults().minP();
    @Option(names = "--repeat-penalty", paramLabel = "R", description = "penalize recent tokens, 1 = off (default: ${DEFAULT-VALUE})")
    float repeatPenalty = GenerationOptions.defaults().repeatPenalty();
    @Option(names = "--seed", paramLabel = "S", description = "random seed for reproducible sampling (default: random)")
    Long seed;
    @Option(names = "--stop", paramLabel = "TEXT", description = "stop when this text is generated (repeatable)")
    List<String> stop = List.of();
    @Option(names = "--no-bos", description = "do not add the BOS token in front of -p text") boolean noBos;
    @Option(names = "--json", description = "print one JSON object instead of streaming text") boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            int[] ids = prompt.tokens != null ? Tokens.parse(prompt.tokens)
                    : m.tokenizer().encode(prompt.text, !noBos && m.tokenizer().addBosByDefault(), false);
            GenerationOptions options = GenerationOptions.defaults()
                    .withMaxTokens(maxTokens).withTemperature(greedy ? 0f : temperature)
                    .withTopK(topK).withTopP(topP).withMinP(minP).withRepeatPenalty(repeatPenalty)
                    .withStop(stop);
            if (seed != null) options = options.withSeed(seed);
            Generator.Result r = m.generator(options).generate(ids, (id, text) -> {
                if (!json && !text.isEmpty()) {
                    out.print(text);
                    out.flush();
                }
            });
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("prompt_tokens", r.promptTokens());
                o.put("tokens", r.tokens());
                o.put("text", r.text());
                o.put("stop_reason", r.stopReason().name().toLowerCase(java.util.Locale.ROOT));
                out.println(Json.write(o));
            } else {
                out.println();
            }
        }
    }
}
