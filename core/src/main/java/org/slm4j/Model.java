package org.slm4j;

import java.nio.file.Path;
import org.slm4j.generate.GenerationOptions;
import org.slm4j.generate.Generator;
import org.slm4j.model.Batch;
import org.slm4j.model.KvCache;
import org.slm4j.model.ModelConfig;
import org.slm4j.model.Transformer;
import org.slm4j.model.Weights;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Kernels;
import org.slm4j.tokenizer.Tokenizer;

/**
 * A loaded language model: its config, weights (memory-mapped), and tokenizer (absent for an HF folder, for now). Open one with
 * {@link Models#open(Path)}; close it to release the mapping.
 *
 * <p>The model itself is immutable and may be shared by threads; each thread runs its own
 * {@link Transformer} (activation buffers) over its own {@link KvCache}s (one per sequence).
 */
public final class Model implements AutoCloseable {
    /** Rows per forward pass when the caller does not say: a prompt chunk large enough to read weights rarely. */
    public static final int DEFAULT_BATCH = 256;

    private final Path source;
    private final ModelConfig config;
    private final Weights weights;
    private final Tokenizer tokenizer;
    private final Kernels kernels;
    private final GgmlType cacheType;
    private final AutoCloseable resources;

    Model(Path source, ModelConfig config, Weights weights, Tokenizer tokenizer, Kernels kernels, AutoCloseable resources) {
        this(source, config, weights, tokenizer, kernels, GgmlType.F32, resources);
    }

    private Model(Path source, ModelConfig config, Weights weights, Tokenizer tokenizer, Kernels kernels, GgmlType cacheType,
            AutoCloseable resources) {
        this.source = source;
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.kernels = kernels;
        this.cacheType = cacheType;
        this.resources = resources;
    }

    public Path source() { return source; }

    public ModelConfig config() { return config; }

    public Weights weights() { return weights; }

    public Tokenizer tokenizer() { return tokenizer; }

    /** A forward pass with its own activation buffers for up to {@code maxBatch} rows at a time. */
    public Transformer newTransformer(int maxBatch) {
        return new Transformer(config, weights, kernels, maxBatch);
    }

    /**
     * A KV cache for one sequence of up to {@code maxPositions} positions, fed at most {@code maxBatch} at a time, of
     * {@link #cacheType}.
     */
    public KvCache newCache(int maxPositions, int maxBatch) {
        return new KvCache(config, maxPositions, maxBatch, cacheType);
    }

    /**
     * What {@link #newCache} stores keys and values as: F32 unless chosen otherwise, what the reference implementations
     * compute in float32. F16, llama.cpp's default, takes half the memory (twice the sequences or context in the
     * same RAM) and moves logits by about 1e-3. At long contexts it generates faster where each KV head serves one
     * or two query heads (StableLM 2), about as fast elsewhere (docs/PERFORMANCE.md).
     */
    public GgmlType cacheType() { return cacheType; }

    /** Logits of every position of {@code tokens}, evaluated as one sequence: [tokens.length][vocab]. */
    public float[][] logits(int[] tokens) {
        if (tokens.length > config.contextLength()) {
            throw new IllegalArgumentException(tokens.length + " tokens exceed the model's context of " + config.contextLength());
        }
        int batch = Math.min(tokens.length, DEFAULT_BATCH);
        KvCache cache = newCache(tokens.length, batch);
        float[] flat = newTransformer(batch).forward(Batch.of(cache, tokens, true));
        int vocab = config.vocabSize();
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
        }
        return out;
    }

    /**
     * This model with another attention window (0 = full attention), sharing weights and mapping: for a
     * Danube GGUF whose converter did not write {@code llama.attention.sliding_window}. Closing either closes both.
     */
    public Model withSlidingWindow(int window) {
        return new Model(source, config.withSlidingWindow(window), weights, tokenizer, kernels, cacheType, resources);
    }

    /** This model with KV caches of {@code type} (F16 or F32), sharing weights and mapping. Closing either closes both. */
    public Model withCacheType(GgmlType type) {
        return new Model(source, config, weights, tokenizer, kernels, KvCache.requireSupported(type), resources);
    }

    /** A generator that samples with {@code options}. */
    public Generator generator(GenerationOptions options) {
        return new Generator(this, options);
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + source, e);
        }
    }
}
