/* dense.c — dense layers and output losses (see dense.h). The losses are
 * computed in double from the float logits: log-sum-exp for softmax and the
 * stable log σ(z) = −log(1 + e^{−z}) form for the sigmoid, so that confident
 * outputs (p near 0 or 1, where spikes happen) do not produce inf or NaN. */
#include <math.h>
#include <string.h>
#include "models/dense.h"

/* Eight outputs at a time, each its own sum over i in order: the same
 * additions as one output after the other, but eight independent chains
 * instead of one that waits on each add (a sum cannot be vectorised along i
 * without reordering it). */
void rc_dense_forward(float *out, const float *in, const float *W, const float *b,
                      int nin, int nout)
{
    int o = 0;
    for (; o + 8 <= nout; o += 8) {
        float s[8];
        for (int q = 0; q < 8; q++) s[q] = b[o + q];
        const float *w = W + (size_t)o * nin;
        for (int i = 0; i < nin; i++)
            for (int q = 0; q < 8; q++) s[q] += w[(size_t)q * nin + i] * in[i];
        for (int q = 0; q < 8; q++) out[o + q] = s[q];
    }
    for (; o < nout; o++) {
        const float *w = W + (size_t)o * nin;
        float s = b[o];
        for (int i = 0; i < nin; i++) s += w[i] * in[i];
        out[o] = s;
    }
}

/* Rows four at a time, sixteen outputs per vector: lane q of a row's
 * accumulator takes b[o+q], then + wt[i][o+q]·in[i] for i in order, each
 * product and sum rounded on its own (C11 mode: no contraction into fma),
 * exactly as rc_dense_forward. The four rows are independent chains, so
 * the adds' latency is hidden; wt's row-major (nin, npad) layout makes the
 * sixteen weights of one input one load. */
typedef float rc_v16 __attribute__((vector_size(64)));

void rc_dense_forward_rows(float *const *out, const float *const *in, int nrows, const float *wt,
                           const float *b, int nin, int nout)
{
    const int npad = rc_dense_pad(nout);
    for (int r0 = 0; r0 < nrows; r0 += 4) {
        const int nr = nrows - r0 < 4 ? nrows - r0 : 4;
        /* Missing rows of a group of four repeat its first; never stored. */
        const float *x0 = in[r0], *x1 = in[r0 + (nr > 1)], *x2 = in[r0 + 2 * (nr > 2)], *x3 = in[r0 + 3 * (nr > 3)];
        for (int ob = 0; ob < npad; ob += 16) {
            const int w = nout - ob < 16 ? nout - ob : 16;
            float bias[16] = { 0 };
            memcpy(bias, b + ob, (size_t)w * sizeof *bias);
            rc_v16 a0, a1, a2, a3;
            memcpy(&a0, bias, sizeof a0);
            a1 = a2 = a3 = a0;
            const float *wc = wt + ob;
            for (int i = 0; i < nin; i++, wc += npad) {
                rc_v16 wv;
                memcpy(&wv, wc, sizeof wv);
                a0 += wv * x0[i];
                a1 += wv * x1[i];
                a2 += wv * x2[i];
                a3 += wv * x3[i];
            }
            const rc_v16 *acc[4] = { &a0, &a1, &a2, &a3 };
            for (int r = 0; r < nr; r++) memcpy(out[r0 + r] + ob, acc[r], (size_t)w * sizeof(float));
        }
    }
}

void rc_dense_transpose(float *wt, const float *W, int nin, int nout)
{
    const int npad = rc_dense_pad(nout);
    for (int i = 0; i < nin; i++) {
        float *row = wt + (size_t)i * npad;
        for (int o = 0; o < nout; o++) row[o] = W[(size_t)o * nin + i];
        for (int o = nout; o < npad; o++) row[o] = 0.0f;
    }
}

void rc_dense_backward(float *din, float *dW, float *db, const float *dout,
                       const float *in, const float *W, int nin, int nout)
{
    if (din) memset(din, 0, (size_t)nin * sizeof *din);
    for (int o = 0; o < nout; o++) {
        const float g = dout[o];
        float *dw = dW + (size_t)o * nin;
        db[o] += g;
        for (int i = 0; i < nin; i++) dw[i] += g * in[i];
        if (din) {
            const float *w = W + (size_t)o * nin;
            for (int i = 0; i < nin; i++) din[i] += g * w[i];
        }
    }
}

void rc_relu_forward(float *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!(x[i] > 0.0f)) x[i] = 0.0f;
}

void rc_relu_backward(float *dx, const float *y, int n)
{
    for (int i = 0; i < n; i++)
        if (!(y[i] > 0.0f)) dx[i] = 0.0f;
}

void rc_output_probs(float *p, const float *z, int K)
{
    if (K == 1) {
        p[0] = (float)(1.0 / (1.0 + exp(-(double)z[0])));
        return;
    }
    double m = z[0], s = 0;
    for (int k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
    for (int k = 0; k < K; k++) s += exp(z[k] - m);
    for (int k = 0; k < K; k++) p[k] = (float)(exp(z[k] - m) / s);
}

/* log(1 + e^x) without overflow. */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

double rc_output_loss(float *dz, const float *z, int K, int label, double beta, double scale)
{
    if (K == 1) {
        const double x = z[0], p = 1.0 / (1.0 + exp(-x));
        const double lp = -softplus(-x), lq = -softplus(x); /* log p, log(1-p) */
        const double ce = label ? -lp : -lq;
        const double H = -(p * lp + (1 - p) * lq);
        dz[0] = (float)(scale * ((p - label) + beta * p * (1 - p) * x));
        return ce - beta * H;
    }
    double m = z[0], s = 0, H = 0;
    for (int k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
    for (int k = 0; k < K; k++) s += exp(z[k] - m);
    const double lse = m + log(s);
    for (int k = 0; k < K; k++) {
        const double lp = z[k] - lse, p = exp(lp);
        H -= p * lp;
    }
    for (int k = 0; k < K; k++) {
        const double lp = z[k] - lse, p = exp(lp);
        dz[k] = (float)(scale * (p - (k == label) + beta * p * (lp + H)));
    }
    return -(z[label] - lse) - beta * H;
}
