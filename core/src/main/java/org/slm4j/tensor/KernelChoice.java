package org.slm4j.tensor;

/** Chooses {@link Kernels#best()} once, at first use, and says why when it falls back to scalar. */
final class KernelChoice {
    private KernelChoice() {}

    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final Kernels BEST = choose();

    static Kernels vector() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            throw new UnsupportedOperationException("the Vector API is missing: run java with --add-modules " + VECTOR_MODULE);
        }
        return VectorKernels.instance();
    }

    private static Kernels choose() {
        String forced = System.getProperty("slm4j.kernels", "").strip();
        switch (forced) {
            case "scalar" -> { return Kernels.scalar(); }
            case "vector" -> { return vector(); }
            case "" -> { }
            default -> throw new IllegalArgumentException("-Dslm4j.kernels=" + forced + ": expected scalar or vector");
        }
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            System.err.println("slm4j: using scalar kernels, slower; run java with --add-modules " + VECTOR_MODULE
                    + " for the SIMD ones");
            return Kernels.scalar();
        }
        return VectorKernels.instance();
    }
}
