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
public record Weights(Matrix tokenEmbd, LayerWeights[] layers, float[] outputNorm, float[] outputNormBias, Matrix output) {

    /** The weights {@code c} implies, read from {@code src} by GGUF name; the same for every family and format. */
    static Weights load(ModelConfig c, WeightSource src) {
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim();
        boolean ln = c.norm() == NormKind.LAYER, bias = c.qkvBias(), qkNorm = c.qkNorm(), ffnNorm = !c.parallelResidual();
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            String b = "blk." + l + ".";
            layers[l] = new LayerWeights(
                    src.vector(b + "attn_norm.weight", dim), ln ? src.vector(b + "attn_norm.bias", dim) : null,
                    src.matrix(b + "attn_q.weight", qDim, dim),
                    src.matrix(b + "attn_k.weight", kvDim, dim),
                    src.matrix(b + "attn_v.weight", kvDim, dim),
                    bias ? src.vector(b + "attn_q.bias", qDim) : null,
                    bias ? src.vector(b + "attn_k.bias", kvDim) : null,
                    bias ? src.vector(b + "attn_v.bias", kvDim) : null,
                    qkNorm ? src.vector(b + "attn_q_norm.weight", qDim) : null,
                    qkNorm ? src.vector(b + "attn_k_norm.weight", kvDim) : null,
                    src.matrix(b + "attn_output.weight", dim, qDim),
                    ffnNorm ? src.vector(b + "ffn_norm.weight", dim) : null,
                    ffnNorm && ln ? src.vector(b + "ffn_norm.bias", dim) : null,
                    src.matrix(b + "ffn_gate.weight", ffn, dim),
                    src.matrix(b + "ffn_up.weight", ffn, dim),
                    src.matrix(b + "ffn_down.weight", dim, ffn));
        }
        Matrix embd = src.matrix("token_embd.weight", c.vocabSize(), dim);
        // without an output head of its own the model ties it to the embedding
        Matrix output = src.has("output.weight") ? src.matrix("output.weight", c.vocabSize(), dim) : embd;
        return new Weights(embd, layers, src.vector("output_norm.weight", dim),
                ln ? src.vector("output_norm.bias", dim) : null, output);
    }
}
