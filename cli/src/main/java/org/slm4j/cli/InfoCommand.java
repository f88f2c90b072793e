package org.slm4j.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;
import org.slm4j.Model;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufTensorInfo;
import org.slm4j.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's architecture, sizes, tensor types, tokenizer and context.")
final class InfoCommand implements Runnable {
    @Mixin ModelOption model;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open(); GgufFile gguf = GgufFile.open(model.model)) {
            ModelConfig c = m.config();
            out.printf("file          %s (GGUF v%d, %d tensors)%n", model.model, gguf.version(), gguf.tensors().size());
            out.printf("name          %s%n", gguf.getString("general.name", "-"));
            out.printf("architecture  %s%n", c.architecture());
            out.printf("parameters    %,d%n", gguf.tensors().stream().mapToLong(GgufTensorInfo::elementCount).sum());
            out.printf("layers        %d, width %d, FFN %d%n", c.layers(), c.dim(), c.ffnDim());
            out.printf("heads         %d query, %d key/value, head dim %d%n", c.heads(), c.kvHeads(), c.headDim());
            out.printf("norm          %s, eps %s%n", c.norm(), c.normEps());
            out.printf("rope          %d of %d dims, %s pairs, theta %s%n", c.rotaryDims(), c.headDim(), c.ropeLayout(), c.ropeTheta());
            out.printf("qkv bias      %s%n", c.qkvBias());
            out.printf("context       %d%s%n", c.contextLength(),
                    c.slidingWindow() > 0 ? ", sliding window " + c.slidingWindow() : "");
            var t = m.tokenizer();
            out.printf("tokenizer     %s, %d tokens, bos %d, eos %d%n", gguf.getString("tokenizer.ggml.model", "-"),
                    t.vocabSize(), t.bos(), t.eos());
            Map<String, Integer> types = new TreeMap<>();
            for (GgufTensorInfo ti : gguf.tensors()) types.merge(ti.type().name(), 1, Integer::sum);
            out.printf("tensor types  %s%n", types);
        }
    }
}
