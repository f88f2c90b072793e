package org.slm4j.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds files in ../shared, the read-only fixtures beside the checkout.
 *
 * <p>A test that needs one skips when ../shared is absent, unless {@code SLM4J_REQUIRE_SHARED=1}
 * (CI), where a missing file fails the test instead of hiding it.
 */
public final class Shared {
    private Shared() {}

    /** The shared folder, from -Dslm4j.shared or $SLM4J_SHARED or ../shared. */
    public static Path root() {
        String p = System.getProperty("slm4j.shared");
        if (p == null || p.isBlank()) p = System.getenv("SLM4J_SHARED");
        if (p == null || p.isBlank()) p = "../shared";
        return Path.of(p).toAbsolutePath().normalize();
    }

    /** Whether CI asked that shared fixtures never be skipped. */
    public static boolean required() {
        return "1".equals(System.getenv("SLM4J_REQUIRE_SHARED"));
    }

    /** {@code relative} under ../shared; skips (or fails, when required) the test if it is missing. */
    public static Path file(String relative) {
        Path f = root().resolve(relative);
        if (!Files.exists(f)) {
            if (required()) fail("SLM4J_REQUIRE_SHARED=1 but " + f + " is missing");
            assumeTrue(false, "shared fixture " + f + " is absent; skipping");
        }
        return f;
    }
}
