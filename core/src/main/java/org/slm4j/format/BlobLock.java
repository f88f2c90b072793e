package org.slm4j.format;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock huggingface_hub takes on {@code .locks/models--ORG--NAME/ETAG.lock} while it writes that blob, held until
 * closed: two pulls of one blob (two slm4j processes, or slm4j and Python) take turns, and the second finds the blob
 * written. Python's filelock takes a flock(2) lock, which on Linux does not see the fcntl lock {@link FileChannel}
 * takes, so there both are taken (flock needs native access; without it only other slm4j processes are kept out).
 * Threads of this JVM queue on a JVM-wide lock first, since one JVM may hold a file's fcntl lock only once.
 */
final class BlobLock implements AutoCloseable {
    private static final long POLL_MILLIS = 50;
    /** Whether {@link Flock} may run; out of that class, whose loading already links to native code. */
    private static final boolean USE_FLOCK = System.getProperty("os.name").equals("Linux")
            && List.of("amd64", "aarch64").contains(System.getProperty("os.arch"))
            && BlobLock.class.getModule().isNativeAccessEnabled();
    /** This JVM's blob locks by lock file: one JVM may hold a file lock only once, so its threads queue here first. */
    private static final Map<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();

    private final FileChannel channel;   // holds the fcntl lock
    private final int fd;                // holds the flock; -1 without one
    private final ReentrantLock local;   // this JVM's turn

    private BlobLock(FileChannel channel, int fd, ReentrantLock local) {
        this.channel = channel;
        this.fd = fd;
        this.local = local;
    }

    /** Takes the lock of {@code file} (created if absent), waiting as long as another holder keeps it. */
    static BlobLock take(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), f -> new ReentrantLock());
        local.lock();
        FileChannel channel = null;
        BlobLock lock = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            while (!tryLock(channel)) Thread.sleep(POLL_MILLIS);
            lock = new BlobLock(channel, USE_FLOCK ? Flock.lock(file) : -1, local);
            return lock;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while waiting for the lock " + file, e);
        } finally {
            if (lock == null) {
                if (channel != null) channel.close();
                local.unlock();
            }
        }
    }

    private static boolean tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock() != null;
        } catch (OverlappingFileLockException e) {
            return false; // held by other code of this JVM: wait as for another process
        }
    }

    /** Releases the flock, the fcntl lock and this JVM's lock, in that order. */
    @Override
    public void close() throws IOException {
        try {
            if (fd >= 0) Flock.unlock(fd);
        } finally {
            try {
                channel.close(); // releases the fcntl lock
            } finally {
                local.unlock();
            }
        }
    }

    /**
     * flock(2) through the foreign-function API, on Linux (x86-64, AArch64: the open flags below are theirs) when this
     * module may call native code ({@link #USE_FLOCK}); the lock huggingface_hub's filelock takes.
     */
    private static final class Flock {
        private static final int O_WRONLY = 01, O_CREAT = 0100, O_CLOEXEC = 02000000, LOCK_EX = 2, LOCK_NB = 4;
        private static final int EINTR = 4, EWOULDBLOCK = 11, ENOLCK = 37, ENOSYS = 38, EOPNOTSUPP = 95;
        private static final Linker C = Linker.nativeLinker();
        private static final StructLayout STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        private static final MethodHandle OPEN = function("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
        private static final MethodHandle FLOCK = function("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
                Linker.Option.captureCallState("errno"));
        private static final MethodHandle CLOSE = function("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

        private static MethodHandle function(String name, FunctionDescriptor type, Linker.Option... options) {
            return C.downcallHandle(C.defaultLookup().find(name).orElseThrow(), type, options);
        }

        /**
         * A descriptor of {@code file} holding its exclusive flock, waited for as long as another process holds it; -1
         * on a file system without flock, where the fcntl lock alone guards the blob.
         */
        static int lock(Path file) throws IOException, InterruptedException {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(STATE);
                int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file.toString()), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0) throw new IOException("cannot open the lock file " + file + ": errno " + (int) ERRNO.get(state, 0L));
                boolean locked = false;
                try {
                    while (true) {
                        if ((int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB) == 0) {
                            locked = true;
                            return fd;
                        }
                        int errno = (int) ERRNO.get(state, 0L);
                        if (errno == ENOLCK || errno == ENOSYS || errno == EOPNOTSUPP) return -1;
                        if (errno != EWOULDBLOCK && errno != EINTR) throw new IOException("cannot flock " + file + ": errno " + errno);
                        Thread.sleep(POLL_MILLIS);
                    }
                } finally {
                    if (!locked) unlock(fd);
                }
            } catch (IOException | InterruptedException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException("calling flock failed", e);
            }
        }

        /** Closes {@code fd}, which releases its flock. */
        static void unlock(int fd) {
            try {
                int ignored = (int) CLOSE.invokeExact(fd); // nothing to do if closing fails: the lock goes with the descriptor
            } catch (Throwable e) {
                throw new IllegalStateException("calling close failed", e);
            }
        }
    }
}
