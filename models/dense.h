/* dense.h — fully connected layers and the output losses, one example (row)
 * at a time: the head runs on an example only at the steps where it is active
 * and is back-propagated only at its first-spike step.
 *
 *   W (nout, nin) row-major, b (nout), in (nin), out (nout)
 *
 * Losses on logits z (K outputs): K == 1 is a single sigmoid with binary
 * cross-entropy (label 1 = positive); K > 1 is softmax with cross-entropy.
 * The rank-coding regulariser subtracts β·H(p) (entropy of the output
 * distribution; for a sigmoid, of the Bernoulli(p)). Gradients at z:
 *   softmax:  p − onehot(y) + β·p_k·(log p_k + H)
 *   sigmoid:  p − y         + β·p(1−p)·z                                      */
#ifndef RC_DENSE_H
#define RC_DENSE_H

void rc_dense_forward(float *out, const float *in, const float *W, const float *b,
                      int nin, int nout);
/* The same for nrows rows at once (out[r], in[r]), from the weights
 * transposed by rc_dense_transpose: wt (nin, rc_dense_pad(nout)),
 * row-major, zero-padded. Every output is bit-identical to
 * rc_dense_forward's (same products and sums in the same order); several
 * rows and outputs run side by side. */
static inline int rc_dense_pad(int nout) { return (nout + 15) / 16 * 16; }
void rc_dense_transpose(float *wt, const float *W, int nin, int nout);
void rc_dense_forward_rows(float *const *out, const float *const *in, int nrows, const float *wt,
                           const float *b, int nin, int nout);
/* din (nin) is overwritten (may be NULL); dW, db accumulate. */
void rc_dense_backward(float *din, float *dW, float *db, const float *dout,
                       const float *in, const float *W, int nin, int nout);
void rc_relu_forward(float *x, int n);                        /* in place */
void rc_relu_backward(float *dx, const float *y, int n);      /* y = relu output */

/* Probabilities from logits: sigmoid (K == 1) or softmax (K > 1). */
void rc_output_probs(float *p, const float *z, int K);
/* Loss L = CE(p, y) − β·H(p) for one example; writes dz = scale · ∂L/∂z. */
double rc_output_loss(float *dz, const float *z, int K, int label, double beta, double scale);

#endif
