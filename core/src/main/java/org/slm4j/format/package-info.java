/**
 * Model file formats: reading and writing the files a model arrives in. This is the first stop on slm4j's
 * data path (format → tensor → tokenizer → model → generate), and application code may use it directly.
 *
 * <p>GGUF: {@link org.slm4j.format.GgufFile} maps a file (FFM {@code MemorySegment}, so files over 2 GiB are
 * normal), parses and validates its header, and hands out tensor data as slices of the mapping without
 * copying; {@link org.slm4j.format.GgufWriter} writes files it and llama.cpp read back.
 *
 * <p>Hugging Face: {@link org.slm4j.format.SafetensorsFile} maps a safetensors file the same way (its checks are
 * listed on the class) and {@link org.slm4j.format.SafetensorsWriter} writes one atomically;
 * {@link org.slm4j.format.HfFolder} reads a model folder's JSON files (size- and depth-capped, duplicate keys
 * rejected) and its weights, single-file or sharded through {@code model.safetensors.index.json}, whose shard
 * names must stay inside the folder. {@link org.slm4j.format.HubClient} pulls such folders from a Hugging Face hub
 * into huggingface_hub's own cache layout (resumable, size- and sha256-checked, renamed into place only when
 * verified), or finds them there offline; its failures are {@link org.slm4j.format.HubException}s.
 *
 * <p>Every byte of a model file is treated as hostile. A file that breaks a rule is rejected with a
 * {@link org.slm4j.format.ModelFormatException} naming the file, byte offset, field, value and what was
 * expected, and nothing is allocated from a declared size before the bytes it needs are known to be there
 * (caps in {@link org.slm4j.format.FormatLimits}). The GGUF reader checks: magic {@code GGUF}; version 2 or 3
 * (v1 and byte-swapped files named as such); tensor and entry counts within caps and within the bytes left;
 * strings within caps and the file, strict UTF-8; keys non-empty and unique; value types 0..12; no nested
 * arrays; array length × smallest element size within the bytes left; UINT64 values below 2^63; BOOL 0 or 1;
 * {@code general.alignment} a UINT32 power of two within its cap; tensor names unique and under 64 bytes;
 * at most 4 dimensions, each non-negative, element count and byte size fitting a long; a ggml type slm4j
 * knows (types it cannot compute with, such as Q2_K, still read: the model loader rejects them by name);
 * {@code ne[0]} a multiple of the type's block; each tensor's offset equal to the running padded sum of the
 * sizes before it (no gap, no overlap); every tensor's data inside the file. All arithmetic on sizes and
 * offsets is checked against overflow, and the parse is linear in the header size.
 */
package org.slm4j.format;
