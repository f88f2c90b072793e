package org.slm4j.cli;

import org.slm4j.format.HubClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a hub model repo into the Hugging Face cache (as huggingface_hub does, so each reuses the other's "
                + "files) and print its snapshot folder. Only configs, tokenizer files and safetensors weights are fetched.",
                "Environment: HF_ENDPOINT, HF_TOKEN (or HF_HOME/token), HF_HUB_CACHE or HF_HOME, HF_HUB_OFFLINE=1, "
                        + "HF_HUB_DOWNLOAD_TIMEOUT (seconds a stalled download waits, default 60)."})
final class PullCommand implements Runnable {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "REPO_ID[@REVISION]", description = "e.g. TinyLlama/TinyLlama-1.1B-Chat-v1.0 (revision: main)")
    String repo;

    @Option(names = "--offline", description = "use the cache only: print the cached snapshot, or fail") boolean offline;

    @Override
    public void run() {
        try (ProgressBars bars = new ProgressBars()) {
            spec.commandLine().getOut().println(HubClient.fromEnvironment(offline, bars).snapshot(repo));
        }
    }
}
