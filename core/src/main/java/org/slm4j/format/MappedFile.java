package org.slm4j.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BiFunction;

/** Maps a whole model file read-only, for the readers that parse and then serve slices of it. */
final class MappedFile {
    private MappedFile() {}

    /**
     * Maps {@code path} in a shared arena and hands arena and mapping to {@code parse}; if parsing throws, the
     * mapping is released. Shared, because the matmul pool reads tensors from many threads and close() must
     * unmap (the global arena never does; an automatic one may unmap while a slice is still in use).
     */
    static <T> T open(Path path, BiFunction<Arena, MemorySegment, T> parse) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return parse.apply(arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + path + ": " + e, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }
}
