package org.slm4j.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.slm4j.format.ModelFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code slm4j} command: a thin layer over the library's public API. */
@Command(name = "slm4j", mixinStandardHelpOptions = true, version = "slm4j 0.1.0",
        description = "Run small language models (StableLM 2, TinyLlama, H2O-Danube) on the JVM.",
        subcommands = {GenerateCommand.class, LogitsCommand.class, TokenizeCommand.class, InfoCommand.class,
                PullCommand.class, CreateRandomCommand.class, BenchCommand.class, QuantizeCommand.class, ConvertCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs the command line with the given streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        // bad files and bad arguments are the user's to fix: one line naming the problem, no stack trace
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ModelFormatException || e instanceof IllegalArgumentException
                    || e instanceof java.io.UncheckedIOException) {
                cmd.getErr().println("slm4j: error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
