package org.slm4j.model;

/**
 * The hyper-parameters of one decoder: every switch the three families differ in, resolved once.
 *
 * @param architecture    the format's name for the family ("llama", "stablelm"), for messages
 * @param vocabSize       rows of the embedding and of the output head
 * @param dim             model width (hidden size)
 * @param layers          decoder blocks
 * @param heads           query heads
 * @param kvHeads         key/value heads (heads % kvHeads == 0; fewer means grouped-query attention)
 * @param headDim         dims per head
 * @param ffnDim          SwiGLU hidden width
 * @param norm            RMSNorm or LayerNorm (with bias)
 * @param normEps         epsilon inside the norm's square root
 * @param qkvBias         whether q, k and v projections add a bias (StableLM 2)
 * @param rotaryDims      leading dims of each head that RoPE rotates (StableLM 2: 16 of 64); the rest pass through
 * @param ropeLayout      which of those dims pair up
 * @param ropeTheta       RoPE base frequency
 * @param contextLength   positions the model was trained for
 * @param slidingWindow   keys a query sees, itself included (Danube: 4096); 0 for full causal attention
 * @param qkNorm          whether q and k are LayerNormed per head before RoPE (StableLM 2 12B's qk_layernorm)
 * @param parallelResidual whether attention and MLP both read the block's one norm and add to the residual together
 *                        (StableLM's use_parallel_residual); otherwise the MLP reads a second norm after attention
 * @param ropeFreqScale   positions are multiplied by this before RoPE: 1 / factor of linear rope scaling, else 1
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        NormKind norm,
        float normEps,
        boolean qkvBias,
        int rotaryDims,
        RopeLayout ropeLayout,
        float ropeTheta,
        int contextLength,
        int slidingWindow,
        boolean qkNorm,
        boolean parallelResidual,
        float ropeFreqScale) {

    /** Caps that keep a hostile header from sizing absurd buffers; real models are far below them. */
    static final int MAX_LAYERS = 1024, MAX_HEADS = 1024, MAX_DIM = 1 << 16, MAX_VOCAB = 1 << 24;

    public ModelConfig {
        check("vocab_size", vocabSize, 1, MAX_VOCAB);
        check("embedding_length", dim, 1, MAX_DIM);
        check("block_count", layers, 1, MAX_LAYERS);
        check("attention.head_count", heads, 1, MAX_HEADS);
        check("attention.head_count_kv", kvHeads, 1, heads);
        check("feed_forward_length", ffnDim, 1, 1 << 20);
        check("head_dim", headDim, 1, MAX_DIM);
        check("rope.dimension_count", rotaryDims, 0, headDim);
        check("context_length", contextLength, 1, 1 << 24);
        check("attention.sliding_window", slidingWindow, 0, Integer.MAX_VALUE);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(architecture + ": attention.head_count " + heads
                    + " is not a multiple of attention.head_count_kv " + kvHeads);
        }
        if (rotaryDims % 2 != 0) {
            throw new IllegalArgumentException(architecture + ": rope.dimension_count " + rotaryDims + " is odd; RoPE rotates pairs");
        }
        if (!(normEps > 0 && normEps < 1)) {
            throw new IllegalArgumentException(architecture + ": norm epsilon " + normEps + " is not in (0, 1)");
        }
        if (!(ropeFreqScale > 0) || Float.isInfinite(ropeFreqScale)) {
            throw new IllegalArgumentException(architecture + ": rope frequency scale " + ropeFreqScale + " is not a positive number");
        }
        if (!(ropeTheta > 0) || Float.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException(architecture + ": rope.freq_base " + ropeTheta + " is not a positive number");
        }
    }

    private void check(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(architecture + ": " + field + " = " + value + " is outside [" + min + ", " + max + "]");
        }
    }

    /** Width of the query projection's output (heads × headDim; equals dim for all three families). */
    public int qDim() { return heads * headDim; }

    /** Width of one position's keys (or values) across kv heads. */
    public int kvDim() { return kvHeads * headDim; }

    /** Query heads sharing each kv head. */
    public int groupSize() { return heads / kvHeads; }

    /** Whether the window is shorter than the context, so attention really slides. */
    public boolean slides() { return slidingWindow > 0 && slidingWindow < contextLength; }

    /** The same model with another attention window (0 = full), e.g. for a Danube GGUF that lacks the key. */
    public ModelConfig withSlidingWindow(int window) {
        return new ModelConfig(architecture, vocabSize, dim, layers, heads, kvHeads, headDim, ffnDim, norm, normEps,
                qkvBias, rotaryDims, ropeLayout, ropeTheta, contextLength, window, qkNorm, parallelResidual, ropeFreqScale);
    }
}
