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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slm4j.format.GgufFile;
import org.slm4j.format.GgufTensorInfo;
import org.slm4j.format.GgufValue;
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
 * validation rejects NaN and infinite results), a NaN or infinite weight, or one beyond F16's range in a tensor
 * written as F16, is refused with the tensor and row named instead of being written.
 *
 * <p>Rows are quantized on {@link Parallel}'s threads in chunks of about {@value #CHUNK_FLOATS} floats and streamed
 * through {@link GgufWriter.TensorSource}, so memory use does not grow with the model.
 */
public final class GgufQuantizer {
    private GgufQuantizer() {}

    static final int CHUNK_FLOATS = 1 << 20;
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
        for (SourceTensor t : tensors) {
            GgmlType target = types.get(t);
            if (!Quantizer.supports(target)) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' " + Arrays.toString(t.shape()) + " would be " + target
                        + " under " + type + " (llama.cpp's rule for it), which slm4j cannot write yet");
            }
        }
        // llama.cpp removes and re-adds both keys, so they come last
        header.remove("general.quantization_version").remove("general.file_type")
                .putUInt32("general.quantization_version", QUANTIZATION_VERSION)
                .putUInt32("general.file_type", type.id());
        long total = 0;
        for (SourceTensor t : tensors) total += types.get(t).bytesFor(elements(t.shape()));
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
     */
    public static void quantize(Path in, Path out, FileType type, Progress progress) {
        if (sameFile(in, out)) throw new IllegalArgumentException("output " + out + " is the input file; choose another path");
        try (GgufFile file = GgufFile.open(in)) {
            GgufWriter header = new GgufWriter((int) file.alignment());
            for (var e : file.metadata().entrySet()) {
                if (e.getKey().equals("general.alignment") || e.getKey().startsWith("split.")) continue;
                header.put(e.getKey(), e.getValue());
            }
            List<SourceTensor> tensors = new ArrayList<>();
            for (GgufTensorInfo info : file.tensors()) {
                if (info.type() != GgmlType.F32 && info.type() != GgmlType.F16 && info.type() != GgmlType.BF16) {
                    throw new ModelFormatException(in + ": tensor '" + info.name() + "' is already " + info.type()
                            + "; quantizing it again would lose precision (llama-quantize refuses it without --allow-requantize):"
                            + " start from an F32, F16 or BF16 file");
                }
                tensors.add(new GgufSource(info, file.tensorData(info)));
            }
            tensors.sort((a, b) -> QuantMix.LLAMA_ORDER.compare(a.name(), b.name()));
            write(header, tensors, type, out, progress);
        }
    }

    private static boolean sameFile(Path in, Path out) {
        try {
            if (Files.exists(out)) return Files.isSameFile(in, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize());
    }

    private static void checkSource(SourceTensor t) {
        GgmlType src = t.type();
        if (src != GgmlType.F32 && src != GgmlType.F16 && src != GgmlType.BF16) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + src
                    + "; only F32, F16 and BF16 sources are quantized (requantizing would lose precision)");
        }
        long[] shape = t.shape();
        if (shape.length == 0 || shape[0] <= 0 || shape[0] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has row length " + (shape.length == 0 ? "none" : shape[0])
                    + "; expected 1 .. 2^31 - 9");
        }
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Quantizes {@code t} chunk by chunk (rows of a chunk in parallel) and writes each chunk as it is done. */
    private static void stream(SourceTensor t, GgmlType type, WritableByteChannel out, java.util.function.LongConsumer written) throws IOException {
        int ne0 = (int) t.shape()[0];
        long rows = elements(t.shape()) / ne0;
        int rowBytes = Math.toIntExact(type.bytesFor(ne0));
        int chunkRows = (int) Math.max(1, Math.min(rows, CHUNK_FLOATS / ne0));
        float[] x = new float[Math.multiplyExact(chunkRows, ne0)];
        ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(chunkRows, rowBytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (long first = 0; first < rows; first += chunkRows) {
            int n = (int) Math.min(chunkRows, rows - first);
            long base = first;
            Parallel.forRange(n, (start, end) -> {
                for (int r = start; r < end; r++) {
                    t.readRow(base + r, x, r * ne0);
                    checkRow(t, type, base + r, x, r * ne0, ne0);
                    Quantizer.quantizeRow(type, x, r * ne0, ne0, buf.slice(r * rowBytes, rowBytes));
                }
            });
            buf.clear().limit(n * rowBytes);
            while (buf.hasRemaining()) out.write(buf);
            written.accept((long) n * rowBytes);
        }
    }

    /** llama-quantize validates every quantized row and stops at a NaN or infinity; so does this, before rounding. */
    private static void checkRow(SourceTensor t, GgmlType type, long row, float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            boolean bad = !Float.isFinite(v) || (type == GgmlType.F16 && Float.isInfinite(HalfFloats.f16ToFloat(HalfFloats.floatToF16(v))));
            if (bad) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' row " + row + " element " + (i - off) + " is " + v
                        + (Float.isFinite(v) ? ", beyond F16's range" : "") + "; llama.cpp refuses to quantize non-finite weights");
            }
        }
    }

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
