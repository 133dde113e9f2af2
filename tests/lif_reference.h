/* lif_reference.h — dense, step-by-step references of the LIF layers for
 * tests/test_lif.c (test code, not in the library): one layer's input current
 * and the 2×2 pool written the plain way, in double, a step of the whole
 * network built from them, and rc_lif_reference, the Heaviside network's
 * pass, including the recurrent (rfc), adaptive (rfcNa) and leaky-integrator
 * readout (li) layers. The float64 smooth networks of the finite-difference
 * tests are the same step with other neurons.
 *
 * Included by test_lif.c and test_lif_recurrent.c (the suite builds one file
 * per test). */
#ifndef RC_TEST_LIF_REFERENCE_H
#define RC_TEST_LIF_REFERENCE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "models/lif.h"

/* 2×2 average pool of layer L (a pool layer): x (hin, win, cin) → y (hout,
 * wout, cout), an odd last row/column dropped. */
static inline void lif_ref_pool(const rc_lif_layer *L, const double *x, double *y)
{
    for (int oy = 0; oy < L->hout; oy++)
        for (int ox = 0; ox < L->wout; ox++)
            for (int c = 0; c < L->cout; c++) {
                double a = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        a += x[((2 * oy + dy) * L->win + 2 * ox + dx) * L->cin + c];
                y[(oy * L->wout + ox) * L->cout + c] = 0.25 * a;
            }
}

/* Input current of neuron j of conv/fc layer L: bias (with model.bias) plus
 * Σ W·x over its receptive field, summed in double in (ci, dy, dx) / i order.
 * P is the parameter block in double. */
static inline double lif_ref_current(const rc_lif_shape *s, const rc_lif_layer *L, const double *P,
                                     const double *x, int j)
{
    const int co = j % L->cout;
    double I = s->bias ? P[L->b + co] : 0;
    if (L->kind == RC_LIF_CONV) {
        const int pos = j / L->cout, oy = pos / L->wout, ox = pos % L->wout;
        for (int ci = 0; ci < L->cin; ci++)
            for (int dy = 0; dy < L->k; dy++)
                for (int dx = 0; dx < L->k; dx++) {
                    const int iy = oy + dy - L->pad, ix = ox + dx - L->pad;
                    if (iy < 0 || iy >= L->hin || ix < 0 || ix >= L->win) continue;
                    I += P[L->w + ((size_t)(ci * L->k + dy) * L->k + dx) * L->cout + co] *
                         x[(iy * L->win + ix) * L->cin + ci];
                }
    } else
        for (int i = 0; i < L->nin; i++) I += P[L->w + (size_t)i * L->cout + co] * x[i];
    return I;
}

/* One step of the whole network in double: x (≥ max nin) holds the step's
 * input; every layer in turn pools or computes each neuron's current I and
 * asks neuron(ctx, l, j, base, I) for its output (base: the layer's first
 * neuron among all LIF neurons); outputs become the next layer's x. y is
 * scratch of the same size. */
typedef double (*lif_ref_neuron)(void *ctx, int l, int j, int base, double I);

/* The same with recurrent (rfc) layers: prev (Σ neurons, zero at step 0)
 * holds every neuron's output of the step before; an rfc layer's neuron j
 * adds Σ_k R_kj·prev_k (k ascending, in double) to its current, and prev
 * gets this step's outputs. prev = NULL: no rfc layer. */
static inline void lif_ref_step_rec(const rc_lif_shape *s, const double *P, double *x, double *y, double *prev,
                                    lif_ref_neuron neuron, void *ctx)
{
    int base = 0;
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) lif_ref_pool(L, x, y);
        else {
            for (int j = 0; j < L->nout; j++) {
                double I = lif_ref_current(s, L, P, x, j);
                if (L->rec)
                    for (int k = 0; k < L->nout; k++) I += P[L->r + (size_t)k * L->nout + j] * prev[base + k];
                y[j] = neuron(ctx, l, j, base, I);
            }
            if (prev) memcpy(prev + base, y, (size_t)L->nout * sizeof *prev);
            base += L->nout;
        }
        memcpy(x, y, (size_t)L->nout * sizeof *x);
    }
}

static inline void lif_ref_step(const rc_lif_shape *s, const double *P, double *x, double *y,
                                lif_ref_neuron neuron, void *ctx)
{
    lif_ref_step_rec(s, P, x, y, NULL, neuron, ctx);
}

/* Decay τ of neuron j of layer l: τ_rec (rfc; with learn_tau σ(κ_j) in
 * float, from the float parameters Pf), τ_out (li) or τ. */
static inline float lif_ref_tau(const rc_lif_shape *s, const float *Pf, int l, int j)
{
    const rc_lif_layer *L = &s->L[l];
    if (L->rec && s->learn_tau) return 1.0f / (1.0f + expf(-Pf[L->kt + j]));
    return L->rec ? s->tau_rec : L->li ? s->tau_out : s->tau;
}

/* The step's input events, summed by channel, into x (nin of layer 0). */
static inline void lif_ref_input(const rc_lif_shape *s, const rc_events *ev, int t, double *x)
{
    memset(x, 0, (size_t)s->L[0].nin * sizeof *x);
    for (int e = ev->off[t]; e < ev->off[t + 1]; e++) x[ev->ch[e]] += ev->val[e];
}

/* Scratch sizes of a reference pass: *width ≥ every layer's nin and nout
 * (x and y of lif_ref_step), *tot the LIF neurons of all layers (r, prev). */
static inline void lif_ref_sizes(const rc_lif_shape *s, int *width, int *tot)
{
    *width = 1;
    *tot = 0;
    for (int l = 0; l < s->nl; l++) {
        if (s->L[l].nin > *width) *width = s->L[l].nin;
        if (s->L[l].nout > *width) *width = s->L[l].nout;
        *tot += rc_lif_neurons(s, l);
    }
}

/* The Heaviside network's neurons (rc_lif_reference). */
typedef struct {
    const rc_lif_shape *s;
    const float *Pf;       /* the float parameters (learned τ)            */
    float vscale, *r, *U;  /* r (tot) post-reset state; U, O rows of step t */
    uint8_t *O;
    float *a;              /* (tot) ALIF adaptation a_t; o_{t−1} in lastO  */
    uint8_t *lastO;
} lif_ref_heaviside;

/* rfcNa: θ_t = V_th + β_a·a_t, a_t = ρ·a_{t−1} + o_{t−1}; li: no reset. */
static double lif_ref_heaviside_neuron(void *ctx, int l, int j, int base, double I)
{
    lif_ref_heaviside *h = ctx;
    const rc_lif_shape *s = h->s;
    const rc_lif_layer *L = &s->L[l];
    float V = l == s->nl - 1 ? (L->li ? s->vout : s->vth) * h->vscale : s->vth;
    if (L->adapt) {
        h->a[base + j] = s->alif_rho * h->a[base + j] + (float)h->lastO[base + j];
        V = s->vth + s->alif_beta * h->a[base + j];
    }
    const float u = lif_ref_tau(s, h->Pf, l, j) * h->r[base + j] + (float)I;
    const int o = u > V;
    h->U[base + j] = u;
    h->O[base + j] = (uint8_t)o;
    h->r[base + j] = o && !L->li ? (s->reset == RC_RESET_MULT ? 0.0f : u - V) : u;
    return (double)o;
}

/* Independent dense reference: a straightforward step-by-step pass of all T
 * steps with Heaviside spikes (no smooth mode). U (T, Σ neurons, layers in
 * order) gets every pre-reset potential, O the spikes; vscale multiplies the
 * output layer's V_th. Currents are summed in double and rounded to float
 * once, unlike the simulator's float sums: compare with a tolerance. */
static void rc_lif_reference(const rc_lif_shape *s, const float *Pf, const rc_events *ev, int T,
                             float vscale, float *U, uint8_t *O)
{
    int maxn, tot;
    size_t np = 0;
    lif_ref_sizes(s, &maxn, &tot);
    for (int l = 0; l < s->nl; l++) {
        if (s->L[l].kind != RC_LIF_POOL) np = s->L[l].b + (size_t)s->L[l].cout;
        if (s->L[l].rec) np = s->L[l].r + (size_t)s->L[l].cout * s->L[l].cout;
        if (s->L[l].rec && s->learn_tau) np = s->L[l].kt + (size_t)s->L[l].cout;
    }
    double *x = calloc((size_t)maxn, sizeof *x), *y = calloc((size_t)maxn, sizeof *y);
    double *P = malloc((np ? np : 1) * sizeof *P), *prev = calloc((size_t)tot, sizeof *prev);
    float *r = calloc((size_t)tot, sizeof *r), *a = calloc((size_t)tot, sizeof *a);
    uint8_t *none = calloc((size_t)tot, 1);
    if (!x || !y || !P || !r || !prev || !a || !none) abort();
    for (size_t i = 0; i < np; i++) P[i] = Pf[i];
    lif_ref_heaviside h = { s, Pf, vscale, r, NULL, NULL, a, none };
    for (int t = 0; t < T; t++) {
        h.U = U + (size_t)t * tot;
        h.O = O + (size_t)t * tot;
        h.lastO = t ? O + (size_t)(t - 1) * tot : none;
        lif_ref_input(s, ev, t, x);
        lif_ref_step_rec(s, P, x, y, prev, lif_ref_heaviside_neuron, &h);
    }
    free(x);
    free(y);
    free(P);
    free(prev);
    free(r);
    free(a);
    free(none);
}

#endif
