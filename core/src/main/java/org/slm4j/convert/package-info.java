/**
 * File → file: quantizing GGUFs and converting HF folders.
 *
 * <p>{@link org.slm4j.convert.GgufQuantizer} writes a GGUF whose tensors are the float rows of
 * {@link org.slm4j.convert.SourceTensor}s rounded to the mix of ggml types llama.cpp's {@code llama-quantize} picks for
 * a {@link org.slm4j.convert.FileType} (no importance matrix), byte for byte as it would write them: same tensor
 * types, same blocks, same {@code general.file_type}. Rows are quantized on several threads and streamed to disk, so
 * a model never has to fit in memory. {@link org.slm4j.convert.HfToGguf} turns a Hugging Face folder into those
 * sources and the metadata llama.cpp's converter writes (hparams, tokenizer, chat template), q/k rows permuted for the
 * llama architecture's adjacent-pair rotary.
 */
package org.slm4j.convert;
