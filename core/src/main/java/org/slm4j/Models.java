package org.slm4j;

import java.nio.file.Files;
import java.nio.file.Path;
import org.slm4j.format.GgufFile;
import org.slm4j.format.ModelFormatException;
import org.slm4j.model.GgufModel;
import org.slm4j.model.ModelConfig;
import org.slm4j.model.Weights;
import org.slm4j.tensor.Kernels;
import org.slm4j.tokenizer.Tokenizer;

/** Opens models: the entry point of the library. */
public final class Models {
    private Models() {}

    /** Opens a GGUF model file. The weights stay memory-mapped until the model is closed. */
    public static Model open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path + ": no such model file");
        }
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = GgufModel.config(gguf);
            Weights weights = GgufModel.weights(gguf, config);
            Tokenizer tokenizer = Tokenizer.fromGguf(gguf);
            if (tokenizer.vocabSize() > config.vocabSize()) {
                throw new ModelFormatException(path + ": the tokenizer has " + tokenizer.vocabSize()
                        + " tokens but the embedding only " + config.vocabSize() + " rows");
            }
            return new Model(path, config, weights, tokenizer, Kernels.best(), gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }
}
