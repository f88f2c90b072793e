package org.slm4j.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slm4j.Model;
import org.slm4j.generate.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Evaluate token ids as one batch and print the logits of every position.")
final class LogitsCommand implements Runnable {
    @Mixin ModelOption model;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "comma-separated token ids")
    String tokens;
    @Option(names = "--json", description = "print {\"tokens\":[..],\"logits\":[[..],..]}") boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        int[] ids = Tokens.parse(tokens);
        try (Model m = model.open()) {
            float[][] logits = m.logits(ids);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("tokens", ids);
                o.put("logits", logits);
                out.println(Json.write(o));
                return;
            }
            for (int i = 0; i < ids.length; i++) {
                float[] row = logits[i];
                int best = Sampler.argmax(row, 0, row.length);
                out.printf("pos %d token %d: argmax %d (%s) logit %.6f%n", i, ids[i], best,
                        m.tokenizer().piece(best), row[best]);
            }
        }
    }
}
