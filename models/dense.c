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
