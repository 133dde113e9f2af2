/* adam.c — gradient norm and Adam step on the pool (see adam.h for why the
 * result does not depend on the thread count). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sim/adam.h"

struct rc_adam {
    rc_net *net;
    rc_pool *pool;
    double *chunk_sq;         /* (nchunks) per-chunk sums of squares        */
    size_t nchunks;
    size_t *own_lo, *own_hi;  /* (threads) owned params, absolute           */
    size_t *bad_at;           /* (threads) first non-finite param, or SIZE_MAX */
    int fault;                /* rc_adam_fault: 0, 1 grad, 2 param          */
    size_t fault_at;
    int owned;                /* rc_adam_set_owned was called               */
    /* Current step. */
    double lr, b1, b2, eps, scale, wd;
    int64_t step;
};

rc_adam *rc_adam_new(rc_net *net, rc_pool *pool)
{
    rc_adam *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->net = net;
    a->pool = pool;
    a->nchunks = (net->nparams + RC_ADAM_CHUNK - 1) / RC_ADAM_CHUNK;
    a->chunk_sq = calloc(a->nchunks ? a->nchunks : 1, sizeof *a->chunk_sq);
    const size_t nt = (size_t)rc_pool_nthreads(pool);
    a->own_lo = calloc(nt, sizeof *a->own_lo);
    a->own_hi = calloc(nt, sizeof *a->own_hi);
    a->bad_at = calloc(nt, sizeof *a->bad_at);
    if (!a->chunk_sq || !a->own_lo || !a->own_hi || !a->bad_at) {
        rc_adam_free(a);
        return NULL;
    }
    return a;
}

void rc_adam_free(rc_adam *a)
{
    if (!a) return;
    free(a->chunk_sq);
    free(a->own_lo);
    free(a->own_hi);
    free(a->bad_at);
    free(a);
}

void rc_adam_set_owned(rc_adam *a, size_t base, const size_t *lo, const size_t *hi)
{
    const size_t nt = (size_t)rc_pool_nthreads(a->pool);
    a->owned = 1;
    for (size_t i = 0; i < nt; i++) {
        a->own_lo[i] = base + lo[i];
        a->own_hi[i] = base + hi[i];
    }
}

static void sq_fn(void *arg, int ith, int nth)
{
    rc_adam *a = arg;
    size_t lo, hi;
    rc_partition(a->nchunks, ith, nth, &lo, &hi);
    const float *g = a->net->grads;
    for (size_t c = lo; c < hi; c++) {
        size_t s0 = c * RC_ADAM_CHUNK, s1 = s0 + RC_ADAM_CHUNK < a->net->nparams ? s0 + RC_ADAM_CHUNK : a->net->nparams;
        double s = 0;
        for (size_t i = s0; i < s1; i++) s += (double)g[i] * g[i];
        a->chunk_sq[c] = s;
    }
}

/* Is the float's exponent all ones (Inf or NaN)? On the bits, so the OR
 * over a span vectorises and no float arithmetic is added or reordered. */
static inline uint32_t nonfinite_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x7f800000u) == 0x7f800000u;
}

/* Without clipping only the norm's finiteness is used; it is finite exactly
 * when every gradient is (the squares of floats cannot reach DBL_MAX), so the
 * bits are checked instead: no serial double sum. */
static void finite_fn(void *arg, int ith, int nth)
{
    rc_adam *a = arg;
    size_t lo, hi;
    rc_partition(a->net->nparams, ith, nth, &lo, &hi);
    const float *g = a->net->grads;
    uint32_t bad = 0;
    for (size_t i = lo; i < hi; i++) bad |= nonfinite_bits(g[i]);
    a->bad_at[ith] = bad ? lo : SIZE_MAX;
}

static void note_bad(size_t *bad_at, const float *p, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++)
        if (nonfinite_bits(p[i])) {
            if (i < *bad_at) *bad_at = i;
            return;
        }
}

/* Adam on params [lo, hi). Elementwise: who runs it changes no result.
 * A non-finite result is noted in *bad_at (rescanned only then). */
static void adam_span(rc_adam *a, size_t lo, size_t hi, size_t *bad_at)
{
    rc_net *net = a->net;
    const float b1 = (float)a->b1, b2 = (float)a->b2, sc = (float)a->scale;
    const double bc1 = 1.0 - pow(a->b1, (double)a->step);
    const double bc2 = 1.0 - pow(a->b2, (double)a->step);
    const float lr_t = (float)(a->lr / bc1), isq = (float)(1.0 / sqrt(bc2));
    const float eps = (float)a->eps;
    float *p = net->params, *g = net->grads, *m = net->m, *v = net->v;
    uint32_t bad = 0;
    if (a->wd > 0) { /* AdamW: p ·= 1 − lr·wd before the Adam step */
        const float keep = (float)(1.0 - a->lr * a->wd);
        for (size_t i = lo; i < hi; i++) p[i] *= keep;
    }
    for (size_t i = lo; i < hi; i++) {
        const float gi = g[i] * sc;
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        /* PyTorch's form: p −= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps). */
        p[i] -= lr_t * m[i] / (sqrtf(v[i]) * isq + eps);
        bad |= nonfinite_bits(p[i]);
    }
    if (bad) note_bad(bad_at, p, lo, hi);
}

/* Each thread updates the params it owns (pages on its node), plus an equal
 * share of the parameters nobody owns: [0, A) and [B, nparams). */
static void adam_fn(void *arg, int ith, int nth)
{
    rc_adam *a = arg;
    rc_net *net = a->net;
    size_t *bad = &a->bad_at[ith];
    *bad = SIZE_MAX;
    if (!a->owned) { /* nothing owned: an equal share each */
        size_t lo, hi;
        rc_partition(net->nparams, ith, nth, &lo, &hi);
        adam_span(a, lo, hi, bad);
        return;
    }
    const size_t A = a->own_lo[0], B = a->own_hi[nth - 1];
    adam_span(a, a->own_lo[ith], a->own_hi[ith], bad);
    size_t lo, hi;
    rc_partition(net->nparams - (B - A), ith, nth, &lo, &hi);
    if (lo < A) adam_span(a, lo, hi < A ? hi : A, bad);
    if (hi > A) adam_span(a, (lo > A ? lo : A) + (B - A), hi + (B - A), bad);
}

void rc_adam_set_decay(rc_adam *a, double wd)
{
    a->wd = wd;
}

double rc_adam_step(rc_adam *a, double lr, double b1, double b2, double eps,
                    double clip, int64_t step)
{
    double norm = 0;
    if (clip > 0) {
        rc_pool_run(a->pool, sq_fn, a);
        double s = 0;
        for (size_t c = 0; c < a->nchunks; c++) s += a->chunk_sq[c];
        norm = sqrt(s);
    } else {
        rc_pool_run(a->pool, finite_fn, a);
        for (int i = 0; i < rc_pool_nthreads(a->pool); i++)
            if (a->bad_at[i] != SIZE_MAX) norm = INFINITY;
    }
    a->fault = 0;
    if (!isfinite(norm)) { /* a NaN/Inf gradient (or squares past DBL_MAX): no update */
        a->fault = 1;
        a->fault_at = SIZE_MAX;
        note_bad(&a->fault_at, a->net->grads, 0, a->net->nparams);
        return norm;
    }
    a->scale = (clip > 0 && norm > clip) ? clip / (norm + 1e-6) : 1.0;
    a->lr = lr;
    a->b1 = b1;
    a->b2 = b2;
    a->eps = eps;
    a->step = step;
    rc_pool_run(a->pool, adam_fn, a);
    const size_t nt = (size_t)rc_pool_nthreads(a->pool);
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < nt; i++)
        if (a->bad_at[i] < first) first = a->bad_at[i];
    if (first != SIZE_MAX) {
        a->fault = 2;
        a->fault_at = first;
    }
    return norm;
}

int rc_adam_fault(const rc_adam *a, size_t *index)
{
    if (a->fault && index) *index = a->fault_at;
    return a->fault;
}
