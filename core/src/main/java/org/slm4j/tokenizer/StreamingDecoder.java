package org.slm4j.tokenizer;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Decodes ids that arrive one at a time. A character can be spread over several byte tokens ("😀" is four), so
 * each call returns only whole characters and keeps the start of an unfinished one for the next call. The
 * concatenation of every {@link #accept} and the final {@link #flush} equals {@link Tokenizer#decode} of all the ids.
 * Not thread-safe: one per generation.
 */
public final class StreamingDecoder {
    private final IntFunction<byte[]> bytesOf;
    private byte[] buf = new byte[64];
    private int len; // bytes of buf not yet returned: at most 3 between calls (an unfinished character)

    StreamingDecoder(IntFunction<byte[]> bytesOf) {
        this.bytesOf = bytesOf;
    }

    /** The text that token {@code id} completes: possibly empty, never half a character. */
    public String accept(int id) {
        byte[] b = bytesOf.apply(id);
        if (len + b.length > buf.length) buf = Arrays.copyOf(buf, Math.max(2 * buf.length, len + b.length));
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        int cut = completeLength();
        String s = Utf8.decode(buf, 0, cut);
        System.arraycopy(buf, cut, buf, 0, len - cut);
        len -= cut;
        return s;
    }

    /** What is left (an unfinished character becomes U+FFFD); the decoder is then empty. */
    public String flush() {
        String s = Utf8.decode(buf, 0, len);
        len = 0;
        return s;
    }

    /**
     * How many leading bytes of buf can be decoded now: all, unless buf ends with the start of a well-formed
     * sequence that lacks its last bytes. Bytes that can no longer become a character go out now (as U+FFFD),
     * exactly as {@link Utf8#decode} treats them in the whole.
     */
    private int completeLength() {
        int i = len - 1;
        while (i >= 0 && i > len - 4 && (buf[i] & 0xC0) == 0x80) i--; // back over continuation bytes
        if (i < 0) return len;
        int lead = buf[i] & 0xFF, have = len - i;
        if (have >= Utf8.sequenceLength(lead)) return len; // whole, or no sequence at all
        return have == 1 || Utf8.validSecond(lead, buf[i + 1] & 0xFF) ? i : len;
    }
}
