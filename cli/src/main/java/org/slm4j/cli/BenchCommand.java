package org.slm4j.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slm4j.Model;
import org.slm4j.generate.Benchmark;
import org.slm4j.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (pp) and generation (tg) speed as llama-bench does.")
final class BenchCommand implements Runnable {
    @Mixin ModelOption model;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", paramLabel = "N", description = "prompt tokens, one batch (default: ${DEFAULT-VALUE}; 0 skips pp)")
    int prompt;
    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", paramLabel = "N", description = "generated tokens, one at a time (default: ${DEFAULT-VALUE}; 0 skips tg)")
    int gen;
    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", paramLabel = "R", description = "repetitions of each (default: ${DEFAULT-VALUE})")
    int repetitions;
    @Option(names = {"-d", "--n-depth"}, defaultValue = "0", paramLabel = "N", description = "tokens in the cache before each run, filled untimed (default: ${DEFAULT-VALUE})")
    int depth;
    @Option(names = "--json", description = "print {\"model\":..,\"threads\":..,\"pp\":{\"tokens\":..,\"tok_s\":..},\"tg\":{..}}") boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            Benchmark.Report r = new Benchmark(m).run(prompt, gen, repetitions, depth);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("model", model.model.toString());
                o.put("threads", Parallel.threads());
                o.put("depth", depth);
                o.put("pp", result(r.pp()));
                o.put("tg", result(r.tg()));
                out.println(Json.write(o));
                return;
            }
            out.printf("%s, %d threads%n", model.model, Parallel.threads());
            String at = depth == 0 ? "" : " @ d" + depth;
            print(out, "pp" + prompt + at, r.pp());
            print(out, "tg" + gen + at, r.tg());
        }
    }

    private static Map<String, Object> result(Benchmark.Result r) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("tokens", r.tokens());
        o.put("tok_s", r.tokPerSec().length == 0 ? null : r.median());
        o.put("min_tok_s", r.tokPerSec().length == 0 ? null : r.min());
        o.put("max_tok_s", r.tokPerSec().length == 0 ? null : r.max());
        o.put("runs", r.tokPerSec());
        return o;
    }

    private static void print(PrintWriter out, String test, Benchmark.Result r) {
        if (r.tokPerSec().length == 0) return;
        out.printf("%-6s %8.2f tok/s median  (min %.2f, max %.2f, %d runs)%n", test, r.median(), r.min(), r.max(),
                r.tokPerSec().length);
    }
}
