/**
 * Tokenizers: text to token ids and back, exactly as llama.cpp does it for the same vocabulary.
 *
 * <p>Third on the data's path (format → tensor → <b>tokenizer</b> → model → generate). Application code uses
 * {@link org.slm4j.tokenizer.Tokenizer} ({@code Tokenizer.fromGguf(gguf)}, {@code encode}, {@code decode}) and a
 * {@link org.slm4j.tokenizer.StreamingDecoder} per generation. A {@link org.slm4j.tokenizer.Vocabulary} holds the data
 * whatever file it came from; the GGUF reading ({@code tokenizer.ggml.*}, with llama.cpp's defaults) is one source of
 * it. Two merge algorithms sit behind it: SentencePiece BPE with byte fallback ({@code tokenizer.ggml.model} "llama":
 * TinyLlama, Danube) and byte-level BPE with a hand-written pre-tokenizer per known pattern ("gpt2": StableLM 2,
 * GPT-2, GPT-NeoX). {@code tokenizer.ggml.remove_extra_whitespaces} is read by llama.cpp only for Unigram models,
 * so not here.
 */
package org.slm4j.tokenizer;
