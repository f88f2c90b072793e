package org.slm4j.format;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The hub could not give a model: unreachable, refused (gated, private, missing), a broken or corrupt download, or
 * offline with nothing cached. The message says which and what to do about it.
 */
public final class HubException extends UncheckedIOException {
    public HubException(String message) {
        this(message, new IOException(message));
    }

    public HubException(String message, Throwable cause) {
        super(message, cause instanceof IOException io ? io : new IOException(cause));
    }
}
