package org.slm4j.model;

import org.slm4j.tensor.Floats;
import org.slm4j.tensor.Kernels;
import org.slm4j.tensor.Matrix;
import org.slm4j.tensor.Parallel;

/**
 * The decoder: one forward pass for StableLM 2, TinyLlama and H2O-Danube, driven by {@link ModelConfig}.
 *
 * <p>Pre-norm blocks with a SwiGLU MLP: x += Wo·attend(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x)); x += down(silu(gate·n(x)) ⊙ up·n(x)).
 * A batch of positions goes through every matrix together (matrix × matrix, weights read once per batch),
 * so a prompt is one pass and a decoding step is a batch of one; both give the same numbers.
 *
 * <p>Not thread-safe: it owns its activation buffers. Create one per thread that runs forward passes;
 * they share the (read-only) weights.
 */
public final class Transformer {
    /**
     * Rows from which a batch's steps of one position at a time (norms, biases, RoPE, cache writes, the gate,
     * residual adds) are split across threads. Run by the calling thread alone they left the other waiting through a
     * long prompt (the worker busy 93 % of a TinyLlama Q4_0 pp512, 97 % split; 2-4 % faster, near this machine's
     * noise); a few rows are not worth a dispatch (split: pp4 18.1 vs 19.3 tok/s, pp16 71.5 vs 77.8 in one set of
     * pairs, even in another). Below it no task object is made: a generated token allocates nothing.
     */
    private static final int SPLIT_ROWS = 32;

    private final ModelConfig cfg;
    private final Weights w;
    private final Kernels kernels;
    private final int maxBatch;
    private final Attention attention;
    private final Matrix[][] qkv, gateUp;   // [layer] matrices that read the same input, multiplied together
    private final float thetaScale;      // base^(-2/rotaryDims): pair j turns by pos · thetaScale^j

    // activations, [rows, width] row-major, allocated once for maxBatch rows
    private final float[] x;      // [batch, dim] the residual stream
    private final float[] xb;     // [batch, dim] normed input of a sub-block
    private final float[] q;      // [batch, qDim]
    private final float[] k;      // [batch, kvDim]
    private final float[] v;      // [batch, kvDim]
    private final float[] att;    // [batch, qDim] attention output before Wo
    private final float[] hb;     // [batch, ffnDim] gate, then silu(gate) ⊙ up
    private final float[] hb2;    // [batch, ffnDim] up
    private final float[] out;    // [batch, dim] output of a projection back to dim
    private final float[][] qkvOut, gateUpOut;
    private float[] logits = new float[0];  // [rows wanting logits, vocab]
    private float[] spill = new float[0];   // [rows, vocab] a later chunk's logits, before they join `logits`

    public Transformer(ModelConfig cfg, Weights w, Kernels kernels, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch " + maxBatch + " < 1");
        this.cfg = cfg;
        this.w = w;
        this.kernels = kernels;
        this.maxBatch = maxBatch;
        this.attention = new Attention(cfg, maxBatch);
        this.thetaScale = (float) Math.pow(cfg.ropeTheta(), -2.0f / Math.max(1, cfg.rotaryDims()));
        x = new float[maxBatch * cfg.dim()];
        xb = new float[maxBatch * cfg.dim()];
        q = new float[maxBatch * cfg.qDim()];
        k = new float[maxBatch * cfg.kvDim()];
        v = new float[maxBatch * cfg.kvDim()];
        att = new float[maxBatch * cfg.qDim()];
        hb = new float[maxBatch * cfg.ffnDim()];
        hb2 = new float[maxBatch * cfg.ffnDim()];
        out = new float[maxBatch * cfg.dim()];
        qkv = new Matrix[cfg.layers()][];
        gateUp = new Matrix[cfg.layers()][];
        for (int l = 0; l < cfg.layers(); l++) {
            LayerWeights lw = w.layers()[l];
            qkv[l] = new Matrix[] {lw.attnQ(), lw.attnK(), lw.attnV()};
            gateUp[l] = new Matrix[] {lw.ffnGate(), lw.ffnUp()};
        }
        qkvOut = new float[][] {q, k, v};
        gateUpOut = new float[][] {hb, hb2};
    }

    public ModelConfig config() { return cfg; }

    /** Most rows evaluated together; larger batches are split into pieces of this size. */
    public int maxBatch() { return maxBatch; }

    /**
     * Evaluates a batch and returns the logits of the rows that asked for them, [rows, vocab] row-major.
     * The returned array is reused by the next call.
     */
    public float[] forward(Batch batch) {
        int n = batch.size();
        validate(batch);
        int vocab = cfg.vocabSize();
        int wanted = batch.logitRows();
        if (logits.length < wanted * vocab) logits = new float[wanted * vocab];
        int written = 0;
        for (int start = 0; start < n; start += maxBatch) {
            int end = Math.min(n, start + maxBatch);
            written = forwardChunk(batch, start, end, written);
        }
        return logits;
    }

    /** Checks every row before anything is written, so a bad batch leaves the caches as they were. */
    private void validate(Batch batch) {
        int vocab = cfg.vocabSize();
        for (int i = 0; i < batch.size(); i++) {
            int t = batch.tokens()[i];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token id " + t + " at batch row " + i + " is outside the vocabulary [0, " + vocab + ")");
            }
            KvCache c = batch.caches()[i];
            int expected = c.length();
            for (int j = i - 1; j >= 0; j--) {
                if (batch.caches()[j] == c) {
                    expected = batch.positions()[j] + 1;
                    break;
                }
            }
            int pos = batch.positions()[i];
            if (pos != expected) {
                throw new IllegalArgumentException("batch row " + i + " is at position " + pos
                        + ", but its sequence's next position is " + expected);
            }
            if (pos >= c.maxPositions()) {
                throw new IllegalArgumentException("batch row " + i + ": position " + pos
                        + " is past this sequence's context of " + c.maxPositions());
            }
        }
    }

    /** Rows [start, end) of the batch, at most maxBatch; returns the logit rows written so far. */
    private int forwardChunk(Batch batch, int start, int end, int logitRow) {
        int n = end - start, dim = cfg.dim(), last = cfg.layers() - 1;
        for (int i = start; i < end; i++) batch.caches()[i].append();
        for (int b = 0; b < n; b++) w.tokenEmbd().dequantizeRow(batch.tokens()[start + b], x, b * dim);

        for (int l = 0; l <= last; l++) {
            LayerWeights lw = w.layers()[l];
            // attention
            norm(x, xb, n, lw.attnNorm(), lw.attnNormBias());
            kernels.matmul(qkv[l], xb, n, qkvOut);
            int layer = l;
            if (n < SPLIT_ROWS) positions(batch, start, layer, 0, n);
            else Parallel.forRange(n, (b0, b1) -> positions(batch, start, layer, b0, b1));
            attention.attend(batch, start, n, l, q, att);
            // with its keys and values cached, the last layer goes on only for the rows whose logits are wanted
            if (l == last && (n = logitRows(batch, start, n)) == 0) return logitRow;
            kernels.matmul(lw.attnOutput(), att, n, out);
            addRows(x, out, n);
            // feed-forward, on a second norm of the stream, or with a parallel residual on the attention's own input
            if (lw.ffnNorm() != null) norm(x, xb, n, lw.ffnNorm(), lw.ffnNormBias());
            kernels.matmul(gateUp[l], xb, n, gateUpOut);
            int ffn = cfg.ffnDim();   // the SwiGLU gate: hb = silu(hb) ⊙ hb2
            if (n < SPLIT_ROWS) Floats.siluMul(hb, hb2, 0, n * ffn);
            else Parallel.forRange(n, (b0, b1) -> Floats.siluMul(hb, hb2, b0 * ffn, b1 * ffn));
            kernels.matmul(lw.ffnDown(), hb, n, out);
            addRows(x, out, n);
        }

        // final norm and output head; n is now the rows whose logits are wanted (see logitRows)
        norm(x, xb, n, w.outputNorm(), w.outputNormBias());
        // the kernels write from index 0, so a later chunk's rows land in a reused buffer first
        if (logitRow > 0 && spill.length < n * cfg.vocabSize()) spill = new float[maxBatch * cfg.vocabSize()];
        float[] dst = logitRow == 0 ? logits : spill;
        kernels.matmul(w.output(), xb, n, dst);
        if (dst != logits) System.arraycopy(dst, 0, logits, logitRow * cfg.vocabSize(), n * cfg.vocabSize());
        return logitRow + n;
    }

    /**
     * Moves the rows of x, att and xb (a parallel residual's feed-forward input) whose logits are wanted, of the
     * chunk's n from batch row start, to the front in order, and returns their count. llama.cpp does the same: a
     * prompt's last layer then runs its output projection and feed-forward for one row instead of all (TinyLlama: 4 %
     * of a prompt's multiply-adds).
     */
    private int logitRows(Batch batch, int start, int n) {
        int dim = cfg.dim(), qDim = cfg.qDim(), rows = 0;
        for (int b = 0; b < n; b++) {
            if (!batch.logits()[start + b]) continue;
            if (rows < b) {
                System.arraycopy(x, b * dim, x, rows * dim, dim);
                System.arraycopy(att, b * qDim, att, rows * qDim, qDim);
                System.arraycopy(xb, b * dim, xb, rows * dim, dim);
            }
            rows++;
        }
        return rows;
    }

    /**
     * Rows [b0, b1) of the batch after Q, K and V: biases, head norms, RoPE, and K and V into the caches (distinct
     * slots: a cache holds a batch's positions side by side).
     */
    private void positions(Batch batch, int start, int layer, int b0, int b1) {
        LayerWeights lw = w.layers()[layer];
        int qDim = cfg.qDim(), kvDim = cfg.kvDim();
        for (int b = b0; b < b1; b++) {
            addBias(q, b * qDim, qDim, lw.attnQBias());
            addBias(k, b * kvDim, kvDim, lw.attnKBias());
            addBias(v, b * kvDim, kvDim, lw.attnVBias());
            if (lw.attnQNorm() != null) {
                headNorm(q, b * cfg.heads(), lw.attnQNorm(), cfg.heads());
                headNorm(k, b * cfg.kvHeads(), lw.attnKNorm(), cfg.kvHeads());
            }
            int pos = batch.positions()[start + b];
            rope(q, b * qDim, cfg.heads(), pos);
            rope(k, b * kvDim, cfg.kvHeads(), pos);
            KvCache c = batch.caches()[start + b];
            c.put(layer, pos, k, b * kvDim, v, b * kvDim);
        }
    }

    /** Adds bias, when there is one, to the row of {@code width} at o in dst. */
    private static void addBias(float[] dst, int o, int width, float[] bias) {
        if (bias == null) return;
        for (int i = 0; i < width; i++) dst[o + i] += bias[i];
    }

    /** RMSNorm or LayerNorm of n rows of src into dst (see {@link #SPLIT_ROWS}). */
    private void norm(float[] src, float[] dst, int n, float[] weight, float[] bias) {
        if (n < SPLIT_ROWS) normRows(src, dst, 0, n, weight, bias);
        else Parallel.forRange(n, (b0, b1) -> normRows(src, dst, b0, b1, weight, bias));
    }

    private void normRows(float[] src, float[] dst, int b0, int b1, float[] weight, float[] bias) {
        int dim = cfg.dim();
        for (int b = b0; b < b1; b++) normRow(src, dst, b * dim, dim, cfg.norm(), weight, 0, bias);
    }

    /** LayerNorm (no bias) in place of one position's heads, from head row {@code first}, head h weighted by row h of weight. */
    private void headNorm(float[] vec, int first, float[] weight, int heads) {
        int hd = cfg.headDim();
        for (int h = 0; h < heads; h++) normRow(vec, vec, (first + h) * hd, hd, NormKind.LAYER, weight, h * hd, null);
    }

    /** One row of {@code width} at {@code o}; sums in double as ggml does (ggml_float). */
    private void normRow(float[] src, float[] dst, int o, int width, NormKind kind, float[] weight, int wo, float[] bias) {
        float mean = 0;
        if (kind == NormKind.LAYER) {
            double sum = 0;
            for (int i = 0; i < width; i++) sum += src[o + i];
            mean = (float) (sum / width);
        }
        double sumSq = 0;
        for (int i = 0; i < width; i++) {
            float d = src[o + i] - mean;
            sumSq += d * d;
        }
        float scale = (float) (1.0 / Math.sqrt((float) (sumSq / width) + cfg.normEps()));
        for (int i = 0; i < width; i++) {
            float y = (src[o + i] - mean) * scale * weight[wo + i];
            dst[o + i] = bias == null ? y : y + bias[i];
        }
    }

    /** Rotates the first rotaryDims dims of each of {@code heads} heads at {@code off} by position {@code pos}. */
    private void rope(float[] vec, int off, int heads, int pos) {
        int hd = cfg.headDim(), half = cfg.rotaryDims() / 2;
        boolean adjacent = cfg.ropeLayout() == RopeLayout.ADJACENT;
        float theta = pos;  // ggml multiplies by thetaScale once per pair, in float: doing the same keeps RoPE bit-close
        for (int j = 0; j < half; j++, theta *= thetaScale) {
            float angle = cfg.ropeFreqScale() * theta;  // linear rope scaling, applied last as ggml does (1 leaves theta exact)
            float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int i0 = off + h * hd + (adjacent ? 2 * j : j);
                int i1 = i0 + (adjacent ? 1 : half);
                float a = vec[i0], b = vec[i1];
                vec[i0] = a * cos - b * sin;
                vec[i1] = a * sin + b * cos;
            }
        }
    }

    /** dst += src over n rows of dim. */
    private void addRows(float[] dst, float[] src, int n) {
        int dim = cfg.dim();
        if (n < SPLIT_ROWS) addInPlace(dst, src, 0, n * dim);
        else Parallel.forRange(n, (b0, b1) -> addInPlace(dst, src, b0 * dim, b1 * dim));
    }

    private static void addInPlace(float[] dst, float[] src, int from, int to) {
        for (int i = from; i < to; i++) dst[i] += src[i];
    }
}
