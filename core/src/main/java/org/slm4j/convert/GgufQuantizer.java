package org.slm4j.convert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufTensorInfo;
import org.slm4j.format.GgufWriter;
import org.slm4j.format.ModelFormatException;
import org.slm4j.format.Progress;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.HalfFloats;
import org.slm4j.tensor.Parallel;
import org.slm4j.tensor.Quantizer;

/**
 * Writes GGUF files quantized as llama.cpp's {@code llama-quantize} (no importance matrix) writes them: the per-tensor
 * types of {@link QuantMix}, the blocks of {@link Quantizer}, {@code general.quantization_version} and
 * {@code general.file_type} appended after the copied metadata.
 *
 * <p>Only float sources (F32, F16, BF16) are accepted: requantizing an already quantized tensor would round twice and
 * lose precision, which llama-quantize only does under {@code --allow-requantize}. Like llama-quantize (whose row
 * validation rejects NaN and infinite results), a NaN or infinite weight is refused with the tensor, row and element
 * named instead of being written, and so is a finite one the target type cannot hold (see {@code checkRow}).
 *
 * <p>Rows are quantized on {@link Parallel}'s threads in chunks of about {@value #CHUNK_FLOATS} floats and streamed
 * through {@link GgufWriter.TensorSource}, so memory use does not grow with the model.
 */
public final class GgufQuantizer {
    private GgufQuantizer() {}

    static final int CHUNK_FLOATS = 1 << 20;
    private static final int MAX_ROW_BYTES = Integer.MAX_VALUE - 8;   // the largest array (ByteBuffer) a JVM allocates
    static final int QUANTIZATION_VERSION = 2;   // GGML_QNT_VERSION: the block layouts in use since mid-2023
    private static final String TASK = "quantize";

    /**
     * Adds {@code tensors} to {@code header} (which holds the metadata and no tensors yet) in the given order, each
     * in the type {@code type}'s mix gives it, sets general.quantization_version and general.file_type last, and
     * writes the file to {@code out}. Progress counts output bytes.
     */
    public static void write(GgufWriter header, List<? extends SourceTensor> tensors, FileType type, Path out, Progress progress) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(progress, "progress");
        for (SourceTensor t : tensors) checkSource(t);
        Map<SourceTensor, GgmlType> types = QuantMix.choose(tensors, type);
        // llama.cpp removes and re-adds both keys, so they come last
        header.remove("general.quantization_version").remove("general.file_type")
                .putUInt32("general.quantization_version", QUANTIZATION_VERSION)
                .putUInt32("general.file_type", type.id());
        long total = 0;
        for (SourceTensor t : tensors) {
            long rowBytes = types.get(t).bytesFor(t.shape()[0]);
            if (rowBytes > MAX_ROW_BYTES) {   // a chunk of rows is quantized into one ByteBuffer
                throw new IllegalArgumentException("tensor '" + t.name() + "' has rows of " + rowBytes + " bytes as "
                        + types.get(t) + "; at most " + MAX_ROW_BYTES + " are supported");
            }
            total = Math.addExact(total, types.get(t).bytesFor(elements(t.shape())));
        }
        long[] done = {0};
        long all = total;
        for (SourceTensor t : tensors) {
            GgmlType target = types.get(t);
            header.addTensor(t.name(), target, t.shape(), ch -> stream(t, target, ch, n -> {
                done[0] += n;
                progress.update(TASK, done[0], all);
            }));
        }
        progress.update(TASK, 0, all);
        header.write(out);
    }

    /**
     * Quantizes the GGUF {@code in} to {@code out} as {@code type}: every metadata entry copied, tensors in
     * llama-quantize's order (see {@link QuantMix#LLAMA_ORDER}).
     *
     * @throws ModelFormatException naming {@code in} when it is malformed, one shard of a split model, already
     *                              quantized, or holds a weight the target cannot (NaN, infinite, beyond F16)
     */
    public static void quantize(Path in, Path out, FileType type, Progress progress) {
        if (sameFile(in, out)) throw new IllegalArgumentException("output " + out + " is the input file; choose another path");
        try (GgufFile file = GgufFile.open(in)) {
            if (file.getLong("split.count", 1) > 1) {   // the other shards' tensors are not in this file
                throw new ModelFormatException(in + ": split.count is " + file.getLong("split.count", 1)
                        + ", one shard of a split model; merge the shards first (llama-gguf-split --merge)");
            }
            GgufWriter header = new GgufWriter((int) file.alignment());
            for (var e : file.metadata().entrySet()) {
                if (e.getKey().equals("general.alignment") || e.getKey().startsWith("split.")) continue;
                header.put(e.getKey(), e.getValue());
            }
            List<SourceTensor> tensors = new ArrayList<>();
            for (GgufTensorInfo info : file.tensors()) {
                if (!isFloat(info.type())) throw new ModelFormatException(in + ": " + notFloat(info.name(), info.type()));
                tensors.add(new GgufSource(info, file.tensorData(info)));
            }
            tensors.sort((a, b) -> QuantMix.LLAMA_ORDER.compare(a.name(), b.name()));
            write(header, tensors, type, out, progress);
        } catch (IllegalArgumentException e) {   // a weight write() refuses is a fault of the file: name it
            throw new ModelFormatException(in + ": " + e.getMessage(), e);
        }
    }

    private static boolean sameFile(Path in, Path out) {
        try {
            // a missing input is GgufFile.open's to report
            if (Files.exists(in) && Files.exists(out)) return Files.isSameFile(in, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize());
    }

    private static boolean isFloat(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16;
    }

    private static String notFloat(String name, GgmlType type) {
        return "tensor '" + name + "' is " + (type.blockSize() > 1
                ? "already " + type + "; quantizing it again would lose precision (llama-quantize refuses it without --allow-requantize)"
                : type + ", not a float type") + ": start from an F32, F16 or BF16 model";
    }

    private static void checkSource(SourceTensor t) {
        if (!isFloat(t.type())) throw new IllegalArgumentException(notFloat(t.name(), t.type()));
        long[] shape = t.shape();
        if (shape.length == 0 || shape[0] < 0 || shape[0] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has row length " + (shape.length == 0 ? "none" : shape[0])
                    + "; expected 0 .. 2^31 - 9");
        }
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Quantizes {@code t} chunk by chunk (rows of a chunk in parallel) and writes each chunk as it is done. */
    private static void stream(SourceTensor t, GgmlType type, WritableByteChannel out, LongConsumer written) throws IOException {
        int ne0 = (int) t.shape()[0];
        if (ne0 == 0) return;   // an empty tensor (legal GGUF): no rows, no bytes
        long rows = elements(t.shape()) / ne0;
        int rowBytes = Math.toIntExact(type.bytesFor(ne0));
        int chunkRows = (int) Math.max(1, Math.min(rows, CHUNK_FLOATS / ne0));
        float[] x = new float[Math.multiplyExact(chunkRows, ne0)];
        ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(chunkRows, rowBytes)).order(ByteOrder.LITTLE_ENDIAN);
        // the first refused row of a chunk, whichever thread met it first, so that the error names the same row every run
        AtomicInteger firstBad = new AtomicInteger();
        for (long first = 0; first < rows; first += chunkRows) {
            int n = (int) Math.min(chunkRows, rows - first);
            long base = first;
            firstBad.set(n);
            Parallel.forRange(n, (start, end) -> {
                for (int r = start; r < end; r++) {
                    t.readRow(base + r, x, r * ne0);
                    try {
                        checkRow(t, type, base + r, x, r * ne0, ne0);
                    } catch (IllegalArgumentException e) {
                        firstBad.accumulateAndGet(r, Math::min);
                        continue;
                    }
                    Quantizer.quantizeRow(type, x, r * ne0, ne0, buf.slice(r * rowBytes, rowBytes));
                }
            });
            int bad = firstBad.get();
            if (bad < n) checkRow(t, type, base + bad, x, bad * ne0, ne0);   // throws, naming that row
            buf.clear().limit(n * rowBytes);
            while (buf.hasRemaining()) out.write(buf);
            written.accept((long) n * rowBytes);
        }
    }

    /**
     * llama-quantize validates every written row and stops at a NaN or infinity; this checks before rounding. A finite
     * weight that F16 or BF16 would round to infinity is refused too, and for block types any beyond F16's range:
     * their scales and mins are F16 (stricter than llama.cpp, whose Q8_0 scale, amax / 127, overflows only near 8e6).
     */
    private static void checkRow(SourceTensor t, GgmlType type, long row, float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            String why = !Float.isFinite(v) ? "llama.cpp refuses to quantize non-finite weights" : switch (type) {
                case F32 -> null;
                case F16 -> Float.isInfinite(HalfFloats.f16ToFloat(HalfFloats.floatToF16(v))) ? "beyond F16's range" : null;
                case BF16 -> Float.isInfinite(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v))) ? "beyond BF16's range" : null;
                default -> Math.abs(v) > F16_MAX ? "beyond F16's range, in which " + type + " stores its scales" : null;
            };
            if (why != null) throw new IllegalArgumentException("tensor '" + t.name() + "' row " + row + " element " + (i - off) + " is " + v + ": " + why);
        }
    }

    private static final float F16_MAX = 65504;

    /** A float tensor of a mapped GGUF file. */
    private record GgufSource(GgufTensorInfo info, MemorySegment data) implements SourceTensor {
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        @Override public String name() { return info.name(); }
        @Override public long[] shape() { return info.shape(); }
        @Override public GgmlType type() { return info.type(); }

        @Override
        public void readRow(long row, float[] dst, int off) {
            int n = (int) info.shape()[0];
            long at = row * info.rowBytes();
            switch (info.type()) {
                case F32 -> MemorySegment.copy(data, F32, at, dst, off, n);
                case F16 -> { for (int i = 0; i < n; i++) dst[off + i] = HalfFloats.f16ToFloat(data.get(I16, at + 2L * i)); }
                case BF16 -> { for (int i = 0; i < n; i++) dst[off + i] = HalfFloats.bf16ToFloat(data.get(I16, at + 2L * i)); }
                default -> throw new IllegalStateException(info.type().toString());   // quantize() only builds float sources
            }
        }
    }
}
