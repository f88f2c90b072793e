/**
 * Generation: turning the model's logits into tokens.
 *
 * <p>The last step of format → tensor → tokenizer → model → generate. {@link org.slm4j.generate.GenerationOptions}
 * says what a run does (token budget, sampling knobs, seed, stop strings), and
 * {@link org.slm4j.generate.Sampler} picks each next token from a row of logits the way llama.cpp's common
 * sampler chain does, deterministically for a given seed. Application code uses both.
 * {@link org.slm4j.generate.Benchmark} measures prompt and generation speed as llama-bench does.
 */
package org.slm4j.generate;
