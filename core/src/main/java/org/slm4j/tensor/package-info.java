/**
 * Weights and the kernels that multiply by them: the second step on slm4j's path format → tensor → tokenizer →
 * model → generate.
 *
 * <p>A {@link org.slm4j.tensor.Matrix} views a weight tensor of one {@link org.slm4j.tensor.GgmlType} in place over
 * mapped file memory. {@link org.slm4j.tensor.Kernels} is the one seam the forward pass calls for matrix multiplies;
 * it computes what llama.cpp's CPU backend (AVX2 build) computes, including how that backend rounds or quantizes the
 * activations for each weight type. Two implementations sit behind it: plain scalar loops, the reference, and Vector
 * API kernels ({@code jdk.incubator.vector}), tested against each other. {@code Kernels.best()} picks one once;
 * {@code -Dslm4j.kernels=scalar|vector} forces it and {@code -Dslm4j.vectorBits=128|256|512} the vector width.
 * {@link org.slm4j.tensor.Parallel} is the thread pool that splits a matmul's rows ({@code -Dslm4j.threads}).
 * {@link org.slm4j.tensor.Floats} holds the other float loops of the forward pass (attention), vectorized alike.
 * {@link org.slm4j.tensor.Quantizer} goes the other way: float rows to F16, Q8_0 or Q4_0 bytes, as llama-quantize
 * writes them (random benchmark models).
 *
 * <p>Application code uses {@code Matrix}, {@code Kernels}, {@code Parallel}, {@code Floats}, {@code HalfFloats} and {@code Quantizer}; the block
 * layouts and kernel classes are package-private.
 */
package org.slm4j.tensor;
