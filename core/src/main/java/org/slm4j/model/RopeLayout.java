package org.slm4j.model;

/**
 * Which dimensions of a head rotate together: the format's layout of the q/k rows, never a guess.
 *
 * <p>llama.cpp's converter permutes Llama/Mistral q/k rows so GGUF llama models rotate adjacent pairs;
 * Hugging Face keeps Meta's rotate_half layout, and StableLM GGUFs are not permuted (NeoX pairing).
 */
public enum RopeLayout {
    /** Pairs (2i, 2i+1): GGUF llama-arch files (llama.cpp rope type NORM). */
    ADJACENT,
    /** Pairs (i, i + n/2) over the n rotated dims: HF rotate_half, GGUF stablelm (llama.cpp NEOX). */
    HALF
}
