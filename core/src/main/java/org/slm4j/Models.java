package org.slm4j;

import java.nio.file.Files;
import java.nio.file.Path;
import org.slm4j.format.GgufFile;
import org.slm4j.format.HfFolder;
import org.slm4j.format.HubClient;
import org.slm4j.format.Progress;
import org.slm4j.format.ModelFormatException;
import org.slm4j.model.GgufModel;
import org.slm4j.model.HfModel;
import org.slm4j.model.ModelConfig;
import org.slm4j.model.Weights;
import org.slm4j.tensor.Kernels;
import org.slm4j.tokenizer.Tokenizer;

/** Opens models: the entry point of the library. */
public final class Models {
    private Models() {}

    /**
     * Opens {@code model}: a GGUF file or Hugging Face folder when that path exists, else a hub repo id
     * {@code ORG/NAME[@REVISION]}, pulled into the Hugging Face cache (or found there offline) by
     * {@link HubClient#fromEnvironment}, whose snapshot folder is then opened.
     */
    public static Model open(String model) {
        return open(resolve(model, false, Progress.NONE));
    }

    /**
     * The local path {@code model} names: itself when it exists (or when it is no repo id, or names a .gguf file, so a
     * mistyped path fails as a path), else the snapshot folder of the repo id it is, pulled unless {@code offline},
     * each file's download reported to {@code progress}.
     */
    public static Path resolve(String model, boolean offline, Progress progress) {
        Path path = Path.of(model);
        if (Files.exists(path) || !HubClient.isRepoSpec(model) || model.endsWith(".gguf")) return path;
        return HubClient.fromEnvironment(offline, progress).snapshot(model);
    }

    /**
     * Opens a GGUF model file, or a Hugging Face model folder (a directory with config.json and safetensors
     * weights). The weights stay memory-mapped until the model is closed.
     * An HF folder's tokenizer is its tokenizer.json (what transformers' fast tokenizers run), or its
     * SentencePiece tokenizer.model when there is no tokenizer.json.
     */
    public static Model open(Path path) {
        if (HfFolder.isModelFolder(path)) return openHf(path);
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path + ": no such model file or Hugging Face folder (a directory with "
                    + HfFolder.CONFIG + ")");
        }
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = GgufModel.config(gguf);
            Weights weights = GgufModel.weights(gguf, config);
            Tokenizer tokenizer = fitting(path, Tokenizer.fromGguf(gguf), config);
            return new Model(path, config, weights, tokenizer, Kernels.best(), gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private static Model openHf(Path dir) {
        HfFolder folder = HfFolder.open(dir);
        try {
            ModelConfig config = HfModel.config(folder);
            Weights weights = HfModel.weights(folder, config);
            return new Model(dir, config, weights, fitting(dir, hfTokenizer(dir), config), Kernels.best(), folder);
        } catch (RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    private static Tokenizer hfTokenizer(Path dir) {
        for (String name : new String[] {"tokenizer.json", "tokenizer.model"}) {
            Path f = dir.resolve(name);
            if (Files.isRegularFile(f)) return Tokenizer.open(f);
        }
        throw new ModelFormatException(dir + ": no tokenizer.json or tokenizer.model in the model folder");
    }

    /** The tokenizer, checked to produce only ids the embedding has rows for. */
    private static Tokenizer fitting(Path path, Tokenizer tokenizer, ModelConfig config) {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new ModelFormatException(path + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the embedding only " + config.vocabSize() + " rows");
        }
        return tokenizer;
    }
}
