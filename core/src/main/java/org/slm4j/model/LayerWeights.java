package org.slm4j.model;

import org.slm4j.tensor.Matrix;

/**
 * One decoder block's weights, named as GGUF names them ({@code blk.N.*}). Matrices are [out, in] and stay
 * in the mapped file; norm vectors and biases are small and copied to float arrays.
 *
 * @param attnNorm     [dim] norm weight before attention
 * @param attnNormBias [dim] LayerNorm bias, or null for RMSNorm
 * @param attnQ        [qDim, dim]
 * @param attnK        [kvDim, dim]
 * @param attnV        [kvDim, dim]
 * @param attnQBias    [qDim] or null (only StableLM 2 has q/k/v biases)
 * @param attnKBias    [kvDim] or null
 * @param attnVBias    [kvDim] or null
 * @param attnQNorm    [heads, headDim] per-head LayerNorm weight of q, or null (qk_layernorm)
 * @param attnKNorm    [kvHeads, headDim] the same for k, or null
 * @param attnOutput   [dim, qDim]
 * @param ffnNorm      [dim] norm weight before the MLP; null with a parallel residual (the MLP reads attnNorm's output)
 * @param ffnNormBias  [dim] or null
 * @param ffnGate      [ffnDim, dim]
 * @param ffnUp        [ffnDim, dim]
 * @param ffnDown      [dim, ffnDim]
 */
public record LayerWeights(
        float[] attnNorm, float[] attnNormBias,
        Matrix attnQ, Matrix attnK, Matrix attnV,
        float[] attnQBias, float[] attnKBias, float[] attnVBias,
        float[] attnQNorm, float[] attnKNorm,
        Matrix attnOutput,
        float[] ffnNorm, float[] ffnNormBias,
        Matrix ffnGate, Matrix ffnUp, Matrix ffnDown) {}
