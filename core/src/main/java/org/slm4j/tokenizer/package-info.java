/**
 * Tokenizers: text to token ids and back, exactly as llama.cpp does it for the same vocabulary.
 *
 * <p>Third on the data's path (format → tensor → <b>tokenizer</b> → model → generate). Application code uses
 * {@link org.slm4j.tokenizer.Tokenizer} ({@code Tokenizer.open(path)} or {@code Tokenizer.fromGguf(gguf)},
 * {@code encode}, {@code decode}) and a {@link org.slm4j.tokenizer.StreamingDecoder} per generation. A
 * {@link org.slm4j.tokenizer.Vocabulary} holds the data whatever file it came from: GGUF ({@code tokenizer.ggml.*},
 * with llama.cpp's defaults), Hugging Face tokenizer.json (+ tokenizer_config.json), SentencePiece .model (a
 * hand-written, bounded protobuf reader) and tiktoken ranks (+ NAME.meta.json). Three merge algorithms sit behind it:
 * SentencePiece BPE with byte fallback by piece score ({@code tokenizer.ggml.model} "llama" and .model files:
 * TinyLlama, Danube), Hugging Face's character BPE by merge rank (Llama's and Mistral's tokenizer.json), and
 * byte-level BPE with a hand-written pre-tokenizer per known pattern ("gpt2": StableLM 2, GPT-2, GPT-NeoX; tiktoken
 * ranks, where the merge rank is the token id). {@code tokenizer.ggml.remove_extra_whitespaces} is read by llama.cpp only for Unigram models,
 * so not here.
 */
package org.slm4j.tokenizer;
