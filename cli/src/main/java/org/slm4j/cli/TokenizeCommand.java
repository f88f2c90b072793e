package org.slm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Show the token ids and pieces of a text.")
final class TokenizeCommand implements Runnable {
    @ArgGroup(exclusive = true, multiplicity = "1") Source source;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    /** The tokenizer comes from a model or from a tokenizer file on its own. */
    static final class Source {
        @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
                description = "a GGUF model file, Hugging Face model folder or hub repo id ORG/NAME[@REVISION]") String model;
        @Option(names = "--tokenizer", paramLabel = "FILE",
                description = "a tokenizer file: tokenizer.json, SentencePiece .model, NAME.tiktoken or .gguf") Path tokenizer;
    }

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "the text to tokenize") String text;
    @Option(names = "--no-bos", description = "do not add the BOS token") boolean noBos;
    @Option(names = "--parse-special", description = "turn special-token text such as <s> into its id") boolean parseSpecial;
    @Option(names = "--json", description = "print {\"ids\":[..],\"pieces\":[..]}") boolean json;

    @Override
    public void run() {
        if (source.tokenizer != null) {
            print(Tokenizer.open(source.tokenizer));
        } else {
            try (Model m = Models.open(source.model)) {
                print(m.tokenizer());
            }
        }
    }

    private void print(Tokenizer t) {
        PrintWriter out = spec.commandLine().getOut();
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
