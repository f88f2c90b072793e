package org.slm4j.model;

/** How a layer normalizes its input. */
public enum NormKind {
    /** x / sqrt(mean(x²) + eps) · w (Llama, Mistral, TinyLlama, Danube). */
    RMS,
    /** (x − mean) / sqrt(var + eps) · w + b (StableLM 2). */
    LAYER
}
