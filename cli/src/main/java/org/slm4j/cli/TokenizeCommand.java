package org.slm4j.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slm4j.Model;
import org.slm4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Show the token ids and pieces of a text.")
final class TokenizeCommand implements Runnable {
    @Mixin ModelOption model;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "the text to tokenize") String text;
    @Option(names = "--no-bos", description = "do not add the BOS token") boolean noBos;
    @Option(names = "--parse-special", description = "turn special-token text such as <s> into its id") boolean parseSpecial;
    @Option(names = "--json", description = "print {\"ids\":[..],\"pieces\":[..]}") boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            Tokenizer t = m.tokenizer();
            int[] ids = t.encode(text, !noBos && t.addBosByDefault(), parseSpecial);
            String[] pieces = new String[ids.length];
            for (int i = 0; i < ids.length; i++) pieces[i] = t.piece(ids[i]);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("ids", ids);
                o.put("pieces", pieces);
                out.println(Json.write(o));
            } else {
                for (int i = 0; i < ids.length; i++) out.printf("%6d  %s%n", ids[i], pieces[i]);
            }
        }
    }
}
