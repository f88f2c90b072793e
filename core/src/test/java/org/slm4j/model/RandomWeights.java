package org.slm4j.model;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.slm4j.tensor.GgmlType;
import org.slm4j.tensor.Matrix;

/** Random F32 weights for a config, in heap memory: tiny models for unit tests, no file needed. */
final class RandomWeights {
    private RandomWeights() {}

    static Weights of(ModelConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim();
        boolean ln = c.norm() == NormKind.LAYER;
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new LayerWeights(
                    norm(r, dim), ln ? vec(r, dim, 0.1) : null,
                    matrix(r, qDim, dim), matrix(r, kvDim, dim), matrix(r, kvDim, dim),
                    c.qkvBias() ? vec(r, qDim, 0.1) : null, c.qkvBias() ? vec(r, kvDim, 0.1) : null,
                    c.qkvBias() ? vec(r, kvDim, 0.1) : null,
                    c.qkNorm() ? norm(r, qDim) : null, c.qkNorm() ? norm(r, kvDim) : null,
                    matrix(r, dim, qDim),
                    c.parallelResidual() ? null : norm(r, dim), ln && !c.parallelResidual() ? vec(r, dim, 0.1) : null,
                    matrix(r, ffn, dim), matrix(r, ffn, dim), matrix(r, dim, ffn));
        }
        return new Weights(matrix(r, c.vocabSize(), dim), layers, norm(r, dim), ln ? vec(r, dim, 0.1) : null,
                matrix(r, c.vocabSize(), dim));
    }

    static Matrix matrix(SplittableRandom r, int rows, int cols) {
        float[] v = new float[rows * cols];
        double std = 1 / Math.sqrt(cols);
        for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian(r) * std);
        return new Matrix("random", GgmlType.F32, MemorySegment.ofArray(v), rows, cols);
    }

    static float[] norm(SplittableRandom r, int n) {
        float[] v = vec(r, n, 0.1);
        for (int i = 0; i < n; i++) v[i] += 1;
        return v;
    }

    static float[] vec(SplittableRandom r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (gaussian(r) * std);
        return v;
    }

    private static double gaussian(SplittableRandom r) {
        // Box–Muller: SplittableRandom has no nextGaussian of its own before Java 17's RandomGenerator default
        double u = 1 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
