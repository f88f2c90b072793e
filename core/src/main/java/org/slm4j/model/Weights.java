package org.slm4j.model;

import org.slm4j.tensor.Matrix;

/**
 * All weights of a decoder.
 *
 * @param tokenEmbd      [vocab, dim] token embeddings (rows dequantized on lookup)
 * @param layers         the decoder blocks, in order
 * @param outputNorm     [dim] final norm weight
 * @param outputNormBias [dim] or null
 * @param output         [vocab, dim] output head; the embedding matrix itself when the model ties them
 */
public record Weights(Matrix tokenEmbd, LayerWeights[] layers, float[] outputNorm, float[] outputNormBias, Matrix output) {}
