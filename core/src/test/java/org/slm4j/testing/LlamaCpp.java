package org.slm4j.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp itself (de.kherud's binding, llama.cpp b4916, CPU build), asked what it makes of a GGUF file: the oracle
 * for the files slm4j writes.
 *
 * <p>Each question runs in a child JVM. The binding's native server thread outlives {@code close()} and keeps a JVM
 * alive, and a native crash on a bad file would take the test run with it; a child is killed after a time limit
 * instead, and its stderr (llama.cpp's log) is quoted when it fails.
 */
public final class LlamaCpp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MARK = "@@slm4j-llamacpp ";
    private static final long TIMEOUT_S = 180;

    private LlamaCpp() {}

    /** llama.cpp's greedy continuation of a prompt: the prompt's ids as llama.cpp tokenizes it (no BOS), the new text. */
    public record Completion(int[] promptTokens, String text) {}

    /** Greedy completion of {@code prompt} (BOS as the file's metadata says), at most {@code maxTokens} new tokens. */
    public static Completion complete(Path gguf, String prompt, int maxTokens) {
        JsonNode r = ask(gguf, "complete", String.valueOf(maxTokens), List.of(prompt));
        return new Completion(ints(r.get("prompt")), r.get("text").asText());
    }

    /** llama.cpp's token ids for each text, without BOS (special-token text is parsed as such). */
    public static List<int[]> tokenize(Path gguf, List<String> texts) {
        JsonNode r = ask(gguf, "tokenize", "0", texts);
        List<int[]> out = new ArrayList<>();
        for (JsonNode ids : r.get("ids")) out.add(ints(ids));
        return out;
    }

    private static JsonNode ask(Path gguf, String what, String n, List<String> texts) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("slm4j-llamacpp");
            Path in = dir.resolve("in.json"), log = dir.resolve("log.txt");
            JSON.writeValue(in.toFile(), Map.of("model", gguf.toAbsolutePath().toString(), "what", what, "n", n, "texts", texts));
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    LlamaCpp.class.getName(), in.toString())
                    .redirectError(log.toFile()).start();
            p.getOutputStream().close();
            byte[] stdout = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("llama.cpp did not answer within " + TIMEOUT_S + " s on " + gguf + tail(log));
            }
            String out = new String(stdout, StandardCharsets.UTF_8);
            int at = out.lastIndexOf(MARK);
            if (p.exitValue() != 0 || at < 0) {
                fail("llama.cpp failed on " + gguf + " (exit " + p.exitValue() + "): " + out.strip() + tail(log));
            }
            return JSON.readTree(out.substring(at + MARK.length()).strip());
        } catch (IOException e) {
            throw new AssertionError("cannot run llama.cpp on " + gguf, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            if (dir != null) deleteQuietly(dir);
        }
    }

    /** The child: loads the model once, answers, and exits (System.exit, so the binding's threads cannot hold it). */
    public static void main(String[] args) throws IOException {
        PrintStream out = System.out;
        System.setOut(System.err);   // the binding prints its own chatter on stdout
        JsonNode q = JSON.readTree(Path.of(args[0]).toFile());
        var result = JSON.createObjectNode();
        try (LlamaModel m = new LlamaModel(new ModelParameters().setModel(q.get("model").asText()).setThreads(1).setCtxSize(512))) {
            if (q.get("what").asText().equals("complete")) {
                String prompt = q.get("texts").get(0).asText();
                var params = new InferenceParameters(prompt).setNPredict(q.get("n").asInt())
                        .setTemperature(0f).setTopK(1).setRepeatPenalty(1f).setSeed(1);
                result.set("prompt", JSON.valueToTree(m.encode(prompt)));
                result.put("text", m.complete(params));
            } else {
                var ids = result.putArray("ids");
                for (JsonNode t : q.get("texts")) ids.add(JSON.valueToTree(m.encode(t.asText())));
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(2);
        }
        out.println(MARK + JSON.writeValueAsString(result));
        out.flush();
        System.exit(0);
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asInt();
        return v;
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) return "";
        String s = Files.readString(log, StandardCharsets.ISO_8859_1);
        return "\n--- llama.cpp log (tail) ---\n" + s.substring(Math.max(0, s.length() - 3000));
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a leftover temp folder is harmless
        }
    }
}
