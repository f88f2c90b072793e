package org.slm4j.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;
import org.slm4j.Model;
import org.slm4j.model.LayerWeights;
import org.slm4j.model.ModelConfig;
import org.slm4j.model.Weights;
import org.slm4j.tensor.Matrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's architecture, sizes, weight types, tokenizer and context.")
final class InfoCommand implements Runnable {
    @Mixin ModelOption model;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            ModelConfig c = m.config();
            Map<String, Integer> types = new TreeMap<>();
            long params = 0;
            for (Matrix w : matrices(m.weights())) {
                types.merge(w.type().name(), 1, Integer::sum);
                params += (long) w.rows() * w.cols();
            }
            out.printf("source        %s%n", m.source());
            out.printf("architecture  %s%n", c.architecture());
            out.printf("matrices      %,d parameters (norms and biases not counted)%n", params);
            out.printf("layers        %d, width %d, FFN %d, vocabulary %d%n", c.layers(), c.dim(), c.ffnDim(), c.vocabSize());
            out.printf("heads         %d query, %d key/value, head dim %d%n", c.heads(), c.kvHeads(), c.headDim());
            out.printf("norm          %s, eps %s%n", c.norm(), c.normEps());
            out.printf("rope          %d of %d dims, %s pairs, theta %s%n", c.rotaryDims(), c.headDim(), c.ropeLayout(), c.ropeTheta());
            out.printf("qkv bias      %s%n", c.qkvBias());
            out.printf("context       %d%s%n", c.contextLength(),
                    c.slidingWindow() > 0 ? ", sliding window " + c.slidingWindow() : "");
            var t = m.tokenizer();
            out.printf("tokenizer     %d tokens, bos %d, eos %d%n", t.vocabSize(), t.bos(), t.eos());
            out.printf("weight types  %s%n", types);
        }
    }

    /** Every matrix once (a tied output head is the embedding itself). */
    private static java.util.List<Matrix> matrices(Weights w) {
        var all = new java.util.ArrayList<Matrix>();
        all.add(w.tokenEmbd());
        for (LayerWeights l : w.layers()) {
            all.addAll(java.util.List.of(l.attnQ(), l.attnK(), l.attnV(), l.attnOutput(), l.ffnGate(), l.ffnUp(), l.ffnDown()));
        }
        if (w.output() != w.tokenEmbd()) all.add(w.output());
        return all;
    }
}
