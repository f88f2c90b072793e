/**
 * The decoder: {@link org.slm4j.model.ModelConfig} (every switch the families differ in),
 * {@link org.slm4j.model.Weights}, the one {@link org.slm4j.model.Transformer} forward pass over a
 * {@link org.slm4j.model.Batch} of positions from one or more sequences, each with its own
 * {@link org.slm4j.model.KvCache}, and the mapping of GGUF architectures ({@link org.slm4j.model.GgufModel}) and Hugging Face
 * {@code config.json} classes ({@link org.slm4j.model.HfModel}) onto the config and weights.
 * {@link org.slm4j.model.RandomModel} writes full-size random-weight models with the real shapes, for benchmarks.
 * Sits between tensor (kernels) and generate (sampling).
 */
package org.slm4j.model;
