/* lif.c — event-driven LIF layers, forward and surrogate-gradient backward, one
 * example at a time (see lif.h for the dynamics, the lazy-decay rule and the
 * layouts). A thread owns one rc_lif_sim and runs whole examples through it,
 * so nothing here is shared or locked. */
#include <cblas.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/lif.h"
#include "base/rng.h"
#include "base/status.h"

/* ---- shape ---------------------------------------------------------------- */

static int parse_num(const char **p, int *v)
{
    if (!isdigit((unsigned char)**p)) return -1;
    long x = 0;
    while (isdigit((unsigned char)**p)) {
        x = x * 10 + (**p - '0');
        if (x > 1000000) return -1;
        (*p)++;
    }
    *v = (int)x;
    return 0;
}

int rc_lif_parse(rc_lif_shape *s, const char *layers, int cin, int h, int w, char *msg, size_t cap)
{
    s->nl = 0;
    int C = cin, Hh = h, Ww = w, flat = 0; /* flat: after an fc layer */
    const char *p = layers;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (!*p) break;
        const char *tok = p;
        size_t tl = strcspn(p, " ,\t");
        if (s->nl == RC_LIF_MAX_LAYERS) {
            snprintf(msg, cap, "more than %d layers", RC_LIF_MAX_LAYERS);
            return -1;
        }
        rc_lif_layer *L = &s->L[s->nl];
        memset(L, 0, sizeof *L);
        L->cin = C; L->hin = Hh; L->win = Ww;
        const char *q = p;
        int bad = 0;
        if (!strncmp(q, "conv", 4)) {
            q += 4;
            L->kind = RC_LIF_CONV;
            if (parse_num(&q, &L->cout) || *q++ != 'k' || parse_num(&q, &L->k)) bad = 1;
            if (!bad && *q == 'p') { q++; if (parse_num(&q, &L->pad)) bad = 1; }
            if (!bad && (flat || (Hh == 1 && Ww == 1))) {
                snprintf(msg, cap, "'%.*s': a conv layer needs an image-shaped input (task.name = tmnist), not after fc",
                         (int)tl, tok);
                return -1;
            }
            L->hout = Hh + 2 * L->pad - L->k + 1;
            L->wout = Ww + 2 * L->pad - L->k + 1;
            if (!bad && (L->cout < 1 || L->k < 1 || L->pad >= L->k || L->hout < 1 || L->wout < 1)) bad = 2;
        } else if (!strncmp(q, "pool", 4)) {
            q += 4;
            L->kind = RC_LIF_POOL;
            int f = 0;
            if (parse_num(&q, &f) || f != 2) bad = 1;
            if (!bad && (s->nl == 0 || s->L[s->nl - 1].kind != RC_LIF_CONV)) {
                snprintf(msg, cap, "'%.*s': pool2 must follow a conv layer", (int)tl, tok);
                return -1;
            }
            L->cout = C; L->hout = Hh / 2; L->wout = Ww / 2;
            if (!bad && (L->hout < 1 || L->wout < 1)) bad = 2;
        } else if (!strncmp(q, "fc", 2)) {
            q += 2;
            L->kind = RC_LIF_FC;
            if (parse_num(&q, &L->cout) || L->cout < 1) bad = 1;
            L->cin = C * Hh * Ww; L->hin = L->win = 1;
            L->hout = L->wout = 1;
            flat = 1;
        } else
            bad = 1;
        if (!bad && q != p + tl) bad = 1;
        if (bad) {
            snprintf(msg, cap, bad == 2 ? "'%.*s': the layer does not fit its %dx%dx%d input"
                                        : "'%.*s': expected convCkK[pP], pool2 or fcN (e.g. conv32k3p1 pool2 fc128 fc10)",
                     (int)tl, tok, Hh, Ww, C);
            return -1;
        }
        L->nin = L->cin * L->hin * L->win;
        L->nout = L->cout * L->hout * L->wout;
        C = L->cout; Hh = L->hout; Ww = L->wout;
        s->nl++;
        p += tl;
    }
    if (s->nl == 0 || s->L[s->nl - 1].kind != RC_LIF_FC) {
        snprintf(msg, cap, "the last layer must be fcN, one output neuron per class");
        return -1;
    }
    return 0;
}

size_t rc_lif_layout(rc_lif_shape *s, size_t off)
{
    for (int l = 0; l < s->nl; l++) {
        rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        L->nw = L->kind == RC_LIF_CONV ? (size_t)L->cin * L->k * L->k * L->cout : (size_t)L->nin * L->cout;
        L->w = off; off += L->nw;
        L->b = off; off += (size_t)L->cout; /* kept (zero) without model.bias: one layout */
    }
    return off;
}

void rc_lif_init(float *P, const rc_lif_shape *s, uint64_t seed, int tensor0)
{
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        const int tw = tensor0 + 2 * l, tb = tw + 1;
        if (L->kind == RC_LIF_CONV) {
            const double bound = 1.0 / sqrt((double)L->cin * L->k * L->k);
            for (int co = 0; co < L->cout; co++)
                for (int ci = 0; ci < L->cin; ci++)
                    for (int dy = 0; dy < L->k; dy++)
                        for (int dx = 0; dx < L->k; dx++) {
                            size_t logical = (((size_t)co * L->cin + ci) * L->k + dy) * L->k + dx;
                            size_t at = (((size_t)ci * L->k + dy) * L->k + dx) * L->cout + co;
                            P[L->w + at] = (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tw, logical) - 1.0) * bound);
                        }
            for (int co = 0; co < L->cout; co++)
                P[L->b + co] = s->bias ? (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tb, (uint64_t)co) - 1.0) * bound) : 0.0f;
        } else {
            const double bound = 1.0 / sqrt((double)L->nin);
            for (int o = 0; o < L->cout; o++)
                for (int i = 0; i < L->nin; i++)
                    P[L->w + (size_t)i * L->cout + o] =
                        (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tw, (uint64_t)o * L->nin + i) - 1.0) * bound);
            for (int o = 0; o < L->cout; o++)
                P[L->b + o] = s->bias ? (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tb, (uint64_t)o) - 1.0) * bound) : 0.0f;
        }
    }
}

int rc_lif_last(const rc_lif_shape *s) { return s->nl - 1; }

int rc_lif_neurons(const rc_lif_shape *s, int l)
{
    return s->L[l].kind == RC_LIF_POOL ? 0 : s->L[l].nout;
}

void rc_lif_describe(const rc_lif_shape *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    for (int l = 0; l < s->nl && o < cap; l++) {
        const rc_lif_layer *L = &s->L[l];
        int n;
        if (L->kind == RC_LIF_CONV) n = snprintf(buf + o, cap - o, "%sconv%dk%dp%d", l ? " " : "", L->cout, L->k, L->pad);
        else if (L->kind == RC_LIF_POOL) n = snprintf(buf + o, cap - o, "%spool2", l ? " " : "");
        else n = snprintf(buf + o, cap - o, "%sfc%d", l ? " " : "", L->cout);
        if (n < 0) break;
        o += (size_t)n;
    }
}

int rc_lif_npops(const rc_lif_shape *s)
{
    int n = 0;
    for (int l = 0; l < s->nl; l++) n += s->L[l].kind != RC_LIF_POOL;
    return n;
}

void rc_lif_pop_name(const rc_lif_shape *s, int p, char *buf, size_t cap)
{
    int nc = 0, nf = 0, q = 0;
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        if (L->kind == RC_LIF_CONV) nc++; else nf++;
        if (q++ != p) continue;
        if (l == s->nl - 1) snprintf(buf, cap, "output");
        else snprintf(buf, cap, "%s%d", L->kind == RC_LIF_CONV ? "conv" : "fc", L->kind == RC_LIF_CONV ? nc : nf);
        return;
    }
    snprintf(buf, cap, "?");
}

/* ---- surrogates ----------------------------------------------------------- */

static inline float sgrad(const rc_lif_shape *s, float x)
{
    const float a = s->lens;
    switch (s->surr) {
    case RC_LIF_SURR_FASTSIG: { const float d = 1.0f + fabsf(x) / a; return 1.0f / (d * d); }
    case RC_LIF_SURR_ATAN: { const float q = (float)(M_PI / 2) * x / a; return 1.0f / (1.0f + q * q); }
    default: return fabsf(x) < a ? 1.0f : 0.0f;
    }
}

float rc_lif_surr_grad(const rc_lif_shape *s, float x) { return sgrad(s, x); }

double rc_lif_surr_int(const rc_lif_shape *s, double x)
{
    const double a = s->lens;
    switch (s->surr) {
    case RC_LIF_SURR_FASTSIG: return a + x / (1.0 + fabs(x) / a);
    case RC_LIF_SURR_ATAN: return a + (2.0 * a / M_PI) * atan(M_PI / 2 * x / a);
    default: return x <= -a ? 0.0 : x >= a ? 2.0 * a : x + a;
    }
}

/* ---- growable arrays -------------------------------------------------------- */

typedef struct { int *a; size_t n, cap; int fail; } ivec;
typedef struct { float *a; size_t n, cap; int fail; } fvec;

static int ivec_need(ivec *v, size_t more)
{
    if (v->n + more <= v->cap) return 1;
    size_t c = v->cap ? v->cap : 1024;
    while (c < v->n + more) c *= 2;
    int *a = realloc(v->a, c * sizeof *a);
    RC_ASSERT(a != NULL); /* scratch growth: out of memory is not recoverable here */
    v->a = a;
    v->cap = c;
    return 1;
}

static int fvec_need(fvec *v, size_t more)
{
    if (v->n + more <= v->cap) return 1;
    size_t c = v->cap ? v->cap : 1024;
    while (c < v->n + more) c *= 2;
    float *a = realloc(v->a, c * sizeof *a);
    RC_ASSERT(a != NULL);
    v->a = a;
    v->cap = c;
    return 1;
}

/* ---- the per-example simulator ------------------------------------------------ */

typedef struct {
    int layer;          /* index into s.L                                     */
    int pooled;         /* a pool layer sits between the previous LIF and this */
    int N, G, gs;       /* neurons, groups, neurons per group                  */
    float *u;           /* (N) post-reset state as of tl[g]                     */
    float *upre;        /* (N) pre-reset potential of the last touched step     */
    int *tl;            /* (G) step of the last update, −1 = never              */
    int *stamp;         /* (G) step of the current touch                        */
    int *touched;       /* (G) groups touched this step, in touch order         */
    int ntouch;
    int *spk, nspk;     /* (G) groups with a spike at the previous step         */
    int *spk2, nspk2;   /* (G) ... at this step                                 */
    int *sp_off;        /* (T+1) spikes of step t: [sp_off[t], sp_off[t+1])      */
    ivec sp_idx;        /* neuron of each spike                                 */
    fvec sp_val;        /* its value (1, or S(x) in smooth mode)                */
    int *lg_off;        /* (T+1) log of step t: groups [lg_off[t], lg_off[t+1]) */
    ivec lg_grp;
    fvec lg_u;          /* gs pre-reset potentials per logged group             */
    float *U;           /* (T, N) replayed pre-reset potentials (backward)      */
    float *dcar;        /* (N) δu of the step after                              */
    float *Dall;        /* (T, N) δo from the layer above (read where g ≠ 0)     */
    float *dIall;       /* (T, N) δu                                            */
    uint8_t *gnz;       /* (G) group has a non-zero δu at the current step       */
} lifpop;

struct rc_lif_sim {
    rc_lif_shape s;
    int T, np;
    lifpop pop[RC_LIF_MAX_LAYERS];
    ivec in_idx;        /* inputs of a layer at one step                          */
    fvec in_val;
    float *xdense;      /* (max nin) dense input vector (dense mode)             */
    float *acc;         /* (T · max conv grid or nin, Cin) δx (backward)         */
    float *grid;        /* (T · max grid + margin, Cout) padded δu (backward)    */
    int maxnin;
    float vscale;
    int dense;
    int generic;        /* tests: no vectorised special cases                   */
};

void rc_lif_sim_set_generic(rc_lif_sim *m, int on) { m->generic = on; }

/* 1 if any of u[0..n) exceeds V (u − V > 0, the spike test), branch-free so
 * it vectorises: most groups have no spike at a step. */
static inline int any_above(const float *u, int n, float V)
{
    int hit = 0;
    for (int j = 0; j < n; j++) hit |= (u[j] - V) > 0.0f;
    return hit;
}

/* δu of one hidden layer at one step for the common model (Heaviside spike,
 * rectangular surrogate of half-width a, multiplicative reset): the general
 * loop of rc_lif_backward with the same operations in the same order, as
 * selects, so it vectorises. */
static void du_rect_mult(int n, const float *U, const float *D, float *dcar, float *dI,
                         float V, float a, float tau)
{
    for (int j = 0; j < n; j++) {
        const float u = U[j], x = u - V;
        const float sg = fabsf(x) < a ? 1.0f : 0.0f;
        const float o = x > 0.0f ? 1.0f : 0.0f;
        const float dr = tau * dcar[j];
        float d = dr * (1.0f - o - u * sg);
        d = sg != 0.0f ? d + sg * D[j] : d;
        dI[j] = d;
        dcar[j] = d;
    }
}

void rc_lif_sim_free(rc_lif_sim *m)
{
    if (!m) return;
    for (int p = 0; p < m->np; p++) {
        lifpop *P = &m->pop[p];
        free(P->u); free(P->upre); free(P->tl); free(P->stamp); free(P->touched); free(P->spk);
        free(P->spk2); free(P->sp_off); free(P->sp_idx.a); free(P->sp_val.a); free(P->lg_off);
        free(P->lg_grp.a); free(P->lg_u.a); free(P->U); free(P->dcar); free(P->Dall); free(P->dIall);
        free(P->gnz);
    }
    free(m->in_idx.a);
    free(m->in_val.a);
    free(m->xdense);
    free(m->acc);
    free(m->grid);
    free(m);
}

rc_lif_sim *rc_lif_sim_new(const rc_lif_shape *s, int T)
{
    rc_lif_sim *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->s = *s;
    m->T = T;
    int fail = 0, pooled = 0;
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->nin > m->maxnin) m->maxnin = L->nin;
        if (L->kind == RC_LIF_POOL) { pooled = 1; continue; }
        lifpop *P = &m->pop[m->np++];
        P->layer = l;
        P->pooled = pooled;
        pooled = 0;
        P->N = L->nout;
        P->gs = L->kind == RC_LIF_CONV ? L->cout : L->nout;
        P->G = P->N / P->gs;
        const size_t N = (size_t)P->N, G = (size_t)P->G;
#define AL(ptr, n) do { size_t n_ = (n); (ptr) = calloc(n_ ? n_ : 1, sizeof *(ptr)); if (!(ptr)) fail = 1; } while (0)
        AL(P->u, N); AL(P->upre, N); AL(P->tl, G); AL(P->stamp, G); AL(P->touched, G);
        AL(P->spk, G); AL(P->spk2, G); AL(P->sp_off, (size_t)T + 1); AL(P->lg_off, (size_t)T + 1);
        AL(P->U, (size_t)T * N); AL(P->dcar, N); AL(P->Dall, (size_t)T * N); AL(P->dIall, (size_t)T * N); AL(P->gnz, G);
    }
    AL(m->xdense, (size_t)m->maxnin);
    /* Backward scratch: the conv grids of below() and the fc products. */
    size_t accn = (size_t)T * m->maxnin, gridn = 1;
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind != RC_LIF_CONV) continue;
        const size_t Wp = (size_t)L->win + L->k - 1, HW = ((size_t)L->hin + L->k - 1) * Wp;
        if ((size_t)T * HW * L->cin > accn) accn = (size_t)T * HW * L->cin;
        const size_t gn = ((size_t)T * HW + (size_t)L->k * Wp + L->k) * L->cout;
        if (gn > gridn) gridn = gn;
    }
    AL(m->acc, accn);
    AL(m->grid, gridn);
#undef AL
    if (fail) {
        rc_lif_sim_free(m);
        return NULL;
    }
    return m;
}

/* Index in the pooled map of neuron i of the conv before the pool that feeds
 * population P (channels last, floor of y/2, x/2), or −1 if its row or column
 * is dropped. */
static inline int pool_index(const rc_lif_sim *m, const lifpop *P, int i)
{
    const rc_lif_layer *C = &m->s.L[P->layer - 2], *PL = &m->s.L[P->layer - 1];
    const int c = i % C->cout, pos = i / C->cout, y = pos / C->wout, x = pos % C->wout;
    if (y / 2 >= PL->hout || x / 2 >= PL->wout) return -1;
    return ((y / 2) * PL->wout + x / 2) * PL->cout + c;
}

/* Inputs of population p at step t into m->in_idx / in_val: the example's
 * events (p = 0) or the previous population's spikes, pooled if a pool layer
 * is between. Dense mode: every input, zeros included. */
static void pop_inputs(rc_lif_sim *m, int p, int t, const rc_events *ev)
{
    const lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &m->s.L[P->layer];
    m->in_idx.n = m->in_val.n = 0;
    const int *idx;
    const float *val;
    int a, b;
    if (p == 0) {
        idx = ev->ch; val = ev->val; a = ev->off[t]; b = ev->off[t + 1];
    } else {
        const lifpop *Q = &m->pop[p - 1];
        idx = Q->sp_idx.a; val = Q->sp_val.a; a = Q->sp_off[t]; b = Q->sp_off[t + 1];
    }
    const int n = b - a;
    if (m->dense) {
        float *x = m->xdense;
        memset(x, 0, (size_t)L->nin * sizeof *x);
        for (int e = a; e < b; e++) {
            int i = idx[e];
            float v = val[e];
            if (P->pooled && (i = pool_index(m, P, i)) < 0) continue;
            if (P->pooled) v *= 0.25f;
            x[i] += v;
        }
        ivec_need(&m->in_idx, (size_t)L->nin);
        fvec_need(&m->in_val, (size_t)L->nin);
        for (int i = 0; i < L->nin; i++) { m->in_idx.a[i] = i; m->in_val.a[i] = x[i]; }
        m->in_idx.n = m->in_val.n = (size_t)L->nin;
        return;
    }
    ivec_need(&m->in_idx, (size_t)n);
    fvec_need(&m->in_val, (size_t)n);
    size_t o = 0;
    for (int e = a; e < b; e++) {
        int i = idx[e];
        float v = val[e];
        if (P->pooled) {
            if ((i = pool_index(m, P, i)) < 0) continue; /* odd row/column dropped */
            v *= 0.25f;
        }
        m->in_idx.a[o] = i;
        m->in_val.a[o] = v;
        o++;
    }
    m->in_idx.n = m->in_val.n = o;
}

/* Brings group g up to step t (decay by repeated multiplication, as the dense
 * recurrence does) and lists it as touched. */
static inline void touch(lifpop *P, int g, int t, float tau, const float *bias)
{
    if (P->stamp[g] == t) return;
    P->stamp[g] = t;
    P->touched[P->ntouch++] = g;
    float *u = P->u + (size_t)g * P->gs;
    if (P->tl[g] >= 0)
        for (int s = P->tl[g]; s < t; s++)
            for (int j = 0; j < P->gs; j++) u[j] *= tau;
    if (bias)
        for (int j = 0; j < P->gs; j++) u[j] += bias[j];
}

void rc_lif_forward(rc_lif_sim *m, const float *Pm, const rc_events *ev, float vscale,
                    int stop, int record, int dense, float *uout, float *uhid, rc_lif_result *r)
{
    const rc_lif_shape *s = &m->s;
    const int T = ev->T, np = m->np;
    RC_ASSERT(T <= m->T);
    const float tau = s->tau;
    const int all = dense || s->bias || s->smooth;
    m->vscale = vscale;
    m->dense = dense;
    for (int p = 0; p < np; p++) {
        lifpop *P = &m->pop[p];
        memset(P->u, 0, (size_t)P->N * sizeof *P->u);
        for (int g = 0; g < P->G; g++) { P->tl[g] = -1; P->stamp[g] = -1; }
        P->nspk = 0;
        P->sp_idx.n = P->sp_val.n = 0;
        P->lg_grp.n = P->lg_u.n = 0;
        P->sp_off[0] = 0;
        P->lg_off[0] = 0;
    }
    *r = (rc_lif_result){ .tend = T - 1, .spiked = 0, .tsp = T - 1, .pred = 0, .pred_end = -1, .synops = 0 };
    const int K = m->pop[np - 1].N;
    for (int t = 0; t < T; t++) {
        for (int p = 0; p < np; p++) {
            lifpop *P = &m->pop[p];
            const rc_lif_layer *L = &s->L[P->layer];
            const float *W = Pm + L->w, *bias = s->bias ? Pm + L->b : NULL;
            const float V = p == np - 1 ? s->vth * vscale : s->vth;
            P->ntouch = 0;
            if (all || L->kind == RC_LIF_FC)
                for (int g = 0; g < P->G; g++) touch(P, g, t, tau, bias);
            else
                for (int i = 0; i < P->nspk; i++) touch(P, P->spk[i], t, tau, bias);
            pop_inputs(m, p, t, ev);
            const int nin = (int)m->in_idx.n;
            const int *ii = m->in_idx.a;
            const float *vv = m->in_val.a;
            if (L->kind == RC_LIF_CONV) {
                const int k = L->k, pad = L->pad, co = L->cout, cin = L->cin;
                for (int e = 0; e < nin; e++) {
                    const int i = ii[e], ci = i % cin, pos = i / cin, y = pos / L->win, x = pos % L->win;
                    const float v = vv[e];
                    for (int dy = 0; dy < k; dy++) {
                        const int oy = y + pad - dy;
                        if (oy < 0 || oy >= L->hout) continue;
                        for (int dx = 0; dx < k; dx++) {
                            const int ox = x + pad - dx;
                            if (ox < 0 || ox >= L->wout) continue;
                            const int g = oy * L->wout + ox;
                            touch(P, g, t, tau, bias);
                            float *u = P->u + (size_t)g * co;
                            const float *w = W + ((size_t)(ci * k + dy) * k + dx) * co;
                            for (int c = 0; c < co; c++) u[c] += v * w[c];
                            r->synops += co;
                        }
                    }
                }
            } else {
                const int no = L->cout;
                for (int e = 0; e < nin; e++) {
                    const float v = vv[e];
                    const float *w = W + (size_t)ii[e] * no;
                    float *u = P->u;
                    for (int c = 0; c < no; c++) u[c] += v * w[c];
                }
                r->synops += (int64_t)nin * no;
            }
            /* Spikes and resets of the touched groups. */
            P->nspk2 = 0;
            ivec_need(&P->sp_idx, (size_t)P->ntouch * P->gs);
            fvec_need(&P->sp_val, (size_t)P->ntouch * P->gs);
            if (record) {
                ivec_need(&P->lg_grp, (size_t)P->ntouch);
                fvec_need(&P->lg_u, (size_t)P->ntouch * P->gs);
            }
            for (int q = 0; q < P->ntouch; q++) {
                const int g = P->touched[q];
                float *u = P->u + (size_t)g * P->gs, *up = P->upre + (size_t)g * P->gs;
                memcpy(up, u, (size_t)P->gs * sizeof *u);
                if (record) {
                    P->lg_grp.a[P->lg_grp.n++] = g;
                    memcpy(P->lg_u.a + P->lg_u.n, u, (size_t)P->gs * sizeof *u);
                    P->lg_u.n += (size_t)P->gs;
                }
                int any = 0;
                if (!s->smooth && !m->generic && !any_above(u, P->gs, V)) {
                    P->tl[g] = t;
                    continue;
                }
                for (int j = 0; j < P->gs; j++) {
                    const float x = u[j] - V;
                    float o;
                    if (s->smooth) o = (float)rc_lif_surr_int(s, (double)x);
                    else o = x > 0.0f ? 1.0f : 0.0f;
                    if (o != 0.0f) {
                        P->sp_idx.a[P->sp_idx.n++] = g * P->gs + j;
                        P->sp_val.a[P->sp_val.n++] = o;
                        u[j] = s->reset == RC_RESET_MULT ? u[j] * (1.0f - o) : u[j] - V * o;
                        any = 1;
                    }
                }
                if (any) P->spk2[P->nspk2++] = g;
                P->tl[g] = t;
            }
            { int *tmp = P->spk; P->spk = P->spk2; P->spk2 = tmp; P->nspk = P->nspk2; }
            P->sp_off[t + 1] = (int)P->sp_idx.n;
            P->lg_off[t + 1] = (int)P->lg_grp.n;
        }
        /* The output layer (an fc layer: touched every step, upre is current). */
        const lifpop *O = &m->pop[np - 1];
        const float *uo = O->upre;
        if (uout) memcpy(uout + (size_t)t * K, uo, (size_t)K * sizeof *uo);
        if (uhid && np >= 2) {
            const lifpop *Hp = &m->pop[np - 2];
            float *dst = uhid + (size_t)t * Hp->N;
            for (int g = 0; g < Hp->G; g++)
                for (int j = 0; j < Hp->gs; j++) {
                    float v;
                    if (Hp->stamp[g] == t) v = Hp->upre[(size_t)g * Hp->gs + j];
                    else {
                        v = Hp->u[(size_t)g * Hp->gs + j];
                        if (Hp->tl[g] >= 0)
                            for (int q = Hp->tl[g]; q < t; q++) v *= tau;
                    }
                    dst[(size_t)g * Hp->gs + j] = v;
                }
        }
        int cls = 0;
        for (int k = 1; k < K; k++)
            if (uo[k] > uo[cls]) cls = k;
        const int spike_now = O->sp_off[t + 1] > O->sp_off[t];
        if (spike_now && !r->spiked) {
            r->spiked = 1;
            r->tsp = t;
            r->pred = cls; /* ties between spiking outputs: the largest potential */
        }
        if (t == T - 1) {
            r->pred_end = cls;
            if (!r->spiked) r->pred = cls;
        }
        if (stop && r->spiked) {
            r->tend = t;
            /* Close the CSR offsets of the steps not run (backward reads ≤ tend). */
            break;
        }
    }
}

/* Pre-reset potentials of steps 0..tmax into each population's U, from the
 * forward log: logged groups take their logged values, the rest τ·u of the
 * step before (they did not spike then, see lif.h). */
static void replay(rc_lif_sim *m, int tmax)
{
    const float tau = m->s.tau;
    for (int p = 0; p < m->np; p++) {
        lifpop *P = &m->pop[p];
        const size_t N = (size_t)P->N;
        for (int t = 0; t <= tmax; t++) {
            float *U = P->U + (size_t)t * N;
            if (t == 0) memset(U, 0, N * sizeof *U);
            else {
                const float *Up = U - N;
                for (size_t j = 0; j < N; j++) U[j] = Up[j] * tau;
            }
            for (int q = P->lg_off[t]; q < P->lg_off[t + 1]; q++) {
                const int g = P->lg_grp.a[q];
                memcpy(U + (size_t)g * P->gs, P->lg_u.a + (size_t)q * P->gs, (size_t)P->gs * sizeof *U);
            }
        }
    }
}

int rc_lif_sim_spikes(const rc_lif_sim *m, int p, int t, const int **neurons)
{
    const lifpop *P = &m->pop[p];
    *neurons = P->sp_idx.a + P->sp_off[t];
    return P->sp_off[t + 1] - P->sp_off[t];
}

void rc_lif_sim_state(rc_lif_sim *m, int tmax, float *U, uint8_t *O)
{
    replay(m, tmax);
    size_t tot = 0;
    for (int p = 0; p < m->np; p++) tot += (size_t)m->pop[p].N;
    size_t base = 0;
    for (int p = 0; p < m->np; p++) {
        const lifpop *P = &m->pop[p];
        for (int t = 0; t <= tmax; t++) {
            memcpy(U + (size_t)t * tot + base, P->U + (size_t)t * P->N, (size_t)P->N * sizeof *U);
            uint8_t *o = O + (size_t)t * tot + base;
            memset(o, 0, (size_t)P->N);
            for (int e = P->sp_off[t]; e < P->sp_off[t + 1]; e++) o[P->sp_idx.a[e]] = 1;
        }
        base += (size_t)P->N;
    }
}

/* δo of population p−1 (Q) at steps 0..tl, from δu of population p (layer L)
 * at those steps: δx = Wᵀ·δu, through the pool (¼ of the pooled position's).
 * Dense products on the BLAS (serial, one call shape per layer and tl, so the
 * sums are in a fixed order):
 *  - fc: (tl+1, nout) × (nout, nin), one sgemm;
 *  - conv: δu of all steps laid out on a zero-padded grid of width
 *    Wp = win + k − 1 and height Hp = hin + k − 1 per step, so that input
 *    position (iy, ix) reads tap (dy, dx) at grid row (iy·Wp + ix) + off,
 *    off = (k−1−dy)·Wp + k−1−dx: one sgemm per tap over all steps,
 *    ((tl+1)·Hp·Wp, Cout) × (Cout, Cin); rows of the padding are discarded. */
static void below(rc_lif_sim *m, int p, int tl, const float *PT)
{
    const rc_lif_shape *s = &m->s;
    lifpop *P = &m->pop[p], *Q = &m->pop[p - 1];
    const rc_lif_layer *L = &s->L[P->layer];
    const float *WT = PT + L->w;
    const int nt = tl + 1;
    float *acc = m->acc;
    if (L->kind == RC_LIF_FC) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, L->nin, L->cout, 1.0f, P->dIall,
                    L->cout, WT, L->nin, 0.0f, acc, L->nin);
        for (int t = 0; t < nt; t++) {
            const float *a = acc + (size_t)t * L->nin;
            float *D = Q->Dall + (size_t)t * Q->N;
            if (P->pooled)
                for (int q = 0; q < Q->N; q++) {
                    const int i = pool_index(m, P, q);
                    D[q] = i < 0 ? 0.0f : 0.25f * a[i];
                }
            else
                memcpy(D, a, (size_t)Q->N * sizeof *D);
        }
        return;
    }
    const int k = L->k, pad = L->pad, co = L->cout, cin = L->cin;
    const int Wp = L->win + k - 1, Hp = L->hin + k - 1, HW = Hp * Wp;
    float *grid = m->grid;
    memset(grid, 0, ((size_t)nt * HW + (size_t)(k * Wp + k)) * co * sizeof *grid);
    for (int t = 0; t < nt; t++)
        for (int oy = 0; oy < L->hout; oy++)
            memcpy(grid + ((size_t)t * HW + (size_t)(oy + k - 1 - pad) * Wp + (k - 1 - pad)) * co,
                   P->dIall + ((size_t)t * P->N + (size_t)oy * L->wout * co), (size_t)L->wout * co * sizeof *grid);
    for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++) {
            const size_t off = (size_t)(k - 1 - dy) * Wp + (size_t)(k - 1 - dx);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt * HW, cin, co, 1.0f, grid + off * co, co,
                        WT + (size_t)(dy * k + dx) * co * cin, cin, dy || dx ? 1.0f : 0.0f, acc, cin);
        }
    const rc_lif_layer *QL = &s->L[Q->layer];
    for (int t = 0; t < nt; t++) {
        const float *a = acc + (size_t)t * HW * cin;
        float *D = Q->Dall + (size_t)t * Q->N;
        if (P->pooled) {
            for (int y = 0; y < QL->hout; y++)
                for (int x = 0; x < QL->wout; x++) {
                    float *d = D + (size_t)(y * QL->wout + x) * cin;
                    if (y / 2 >= L->hin || x / 2 >= L->win) { memset(d, 0, (size_t)cin * sizeof *d); continue; }
                    const float *src = a + (size_t)((y / 2) * Wp + x / 2) * cin;
                    for (int c = 0; c < cin; c++) d[c] = 0.25f * src[c];
                }
        } else
            for (int iy = 0; iy < L->hin; iy++)
                memcpy(D + (size_t)iy * L->win * cin, a + (size_t)iy * Wp * cin, (size_t)L->win * cin * sizeof *D);
    }
}

void rc_lif_transpose(const rc_lif_shape *s, const float *P, float *PT)
{
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        const float *W = P + L->w;
        float *WT = PT + L->w;
        if (L->kind == RC_LIF_FC) {
            for (int i = 0; i < L->nin; i++)
                for (int c = 0; c < L->cout; c++) WT[(size_t)c * L->nin + i] = W[(size_t)i * L->cout + c];
        } else {
            const int k = L->k;
            for (int ci = 0; ci < L->cin; ci++)
                for (int dd = 0; dd < k * k; dd++)
                    for (int c = 0; c < L->cout; c++)
                        WT[((size_t)dd * L->cout + c) * L->cin + ci] = W[((size_t)ci * k * k + dd) * L->cout + c];
        }
    }
}

void rc_lif_backward(rc_lif_sim *m, const float *PT, float *Gm, const rc_events *ev,
                     int tloss, const float *dz)
{
    const rc_lif_shape *s = &m->s;
    const int np = m->np;
    const float tau = s->tau, vth = s->vth;
    replay(m, tloss);
    /* Layer by layer from the top: a layer's δu at every step needs only δo
     * from the layer above, so each layer's δo below is one batch of products
     * over all its steps. */
    for (int p = np - 1; p >= 0; p--) {
        lifpop *P = &m->pop[p];
        const rc_lif_layer *L = &s->L[P->layer];
        const float V = p == np - 1 ? vth * m->vscale : vth;
        const int top = p == np - 1;
        memset(P->dcar, 0, (size_t)P->N * sizeof *P->dcar);
        const int fast = !top && !s->smooth && s->surr == RC_LIF_SURR_RECT && s->reset == RC_RESET_MULT && !m->generic;
        for (int t = tloss; t >= 0; t--) {
            const float *U = P->U + (size_t)t * P->N, *D = P->Dall + (size_t)t * P->N;
            float *dI = P->dIall + (size_t)t * P->N;
            if (fast) du_rect_mult(P->N, U, D, P->dcar, dI, V, s->lens, tau);
            for (int g = 0; g < P->G && fast; g++) {
                int nz = 0;
                for (int jj = 0; jj < P->gs; jj++) nz |= dI[(size_t)g * P->gs + jj] != 0.0f;
                P->gnz[g] = (uint8_t)nz;
            }
            for (int g = 0; g < P->G && !fast; g++) {
                int nz = 0;
                for (int jj = 0; jj < P->gs; jj++) {
                    const int j = g * P->gs + jj;
                    const float u = U[j], x = u - V;
                    const float sg = sgrad(s, x);
                    float o;
                    if (s->smooth) o = (float)rc_lif_surr_int(s, (double)x);
                    else o = x > 0.0f ? 1.0f : 0.0f;
                    const float dr = tau * P->dcar[j];
                    float d = s->reset == RC_RESET_MULT ? dr * (1.0f - o - u * sg) : dr * (1.0f - V * sg);
                    if (!top && sg != 0.0f) d += sg * D[j];
                    if (top && t == tloss) d += dz[j];
                    dI[j] = d;
                    P->dcar[j] = d;
                    nz |= d != 0.0f;
                }
                P->gnz[g] = (uint8_t)nz;
            }
            /* Weight gradients: outer products over this step's input events. */
            pop_inputs(m, p, t, ev);
            float *dW = Gm + L->w;
            const int nin = (int)m->in_idx.n;
            const int *ii = m->in_idx.a;
            const float *vv = m->in_val.a;
            if (L->kind == RC_LIF_CONV) {
                const int k = L->k, pad = L->pad, co = L->cout, cin = L->cin;
                for (int e = 0; e < nin; e++) {
                    const int i = ii[e], ci = i % cin, pos = i / cin, y = pos / L->win, x = pos % L->win;
                    const float v = vv[e];
                    for (int dy = 0; dy < k; dy++) {
                        const int oy = y + pad - dy;
                        if (oy < 0 || oy >= L->hout) continue;
                        for (int dx = 0; dx < k; dx++) {
                            const int ox = x + pad - dx;
                            if (ox < 0 || ox >= L->wout) continue;
                            const int g = oy * L->wout + ox;
                            if (!P->gnz[g]) continue;
                            float *w = dW + ((size_t)(ci * k + dy) * k + dx) * co;
                            const float *d = dI + (size_t)g * co;
                            for (int c = 0; c < co; c++) w[c] += v * d[c];
                        }
                    }
                }
            } else if (P->gnz[0]) {
                const int no = L->cout;
                for (int e = 0; e < nin; e++) {
                    const float v = vv[e];
                    float *w = dW + (size_t)ii[e] * no;
                    for (int c = 0; c < no; c++) w[c] += v * dI[c];
                }
            }
            if (s->bias) {
                float *db = Gm + L->b;
                for (int g = 0; g < P->G; g++)
                    if (P->gnz[g])
                        for (int c = 0; c < P->gs; c++) db[c] += dI[(size_t)g * P->gs + c];
            }
        }
        if (p > 0) below(m, p, tloss, PT);
    }
}

/* ---- dense reference -------------------------------------------------------- */

void rc_lif_reference(const rc_lif_shape *s, const float *Pm, const rc_events *ev, int T,
                      float vscale, float *U, uint8_t *O)
{
    int maxn = 1, tot = 0, last = s->nl - 1;
    for (int l = 0; l < s->nl; l++) {
        if (s->L[l].nin > maxn) maxn = s->L[l].nin;
        if (s->L[l].nout > maxn) maxn = s->L[l].nout;
        tot += rc_lif_neurons(s, l);
    }
    float *x = calloc((size_t)maxn, sizeof *x), *y = calloc((size_t)maxn, sizeof *y);
    float *r = calloc((size_t)tot, sizeof *r);
    RC_ASSERT(x && y && r);
    for (int t = 0; t < T; t++) {
        memset(x, 0, (size_t)s->L[0].nin * sizeof *x);
        for (int e = ev->off[t]; e < ev->off[t + 1]; e++) x[ev->ch[e]] += ev->val[e];
        int base = 0;
        for (int l = 0; l < s->nl; l++) {
            const rc_lif_layer *L = &s->L[l];
            if (L->kind == RC_LIF_POOL) {
                for (int oy = 0; oy < L->hout; oy++)
                    for (int ox = 0; ox < L->wout; ox++)
                        for (int c = 0; c < L->cout; c++) {
                            float a = 0;
                            for (int dy = 0; dy < 2; dy++)
                                for (int dx = 0; dx < 2; dx++)
                                    a += x[((2 * oy + dy) * L->win + 2 * ox + dx) * L->cin + c];
                            y[(oy * L->wout + ox) * L->cout + c] = 0.25f * a;
                        }
                memcpy(x, y, (size_t)L->nout * sizeof *x);
                continue;
            }
            const float *W = Pm + L->w, *b = Pm + L->b;
            const float V = l == last ? s->vth * vscale : s->vth;
            for (int j = 0; j < L->nout; j++) {
                const int co = j % L->cout;
                double cur = s->bias ? b[co] : 0.0;
                if (L->kind == RC_LIF_CONV) {
                    const int pos = j / L->cout, oy = pos / L->wout, ox = pos % L->wout;
                    for (int ci = 0; ci < L->cin; ci++)
                        for (int dy = 0; dy < L->k; dy++)
                            for (int dx = 0; dx < L->k; dx++) {
                                const int iy = oy + dy - L->pad, ix = ox + dx - L->pad;
                                if (iy < 0 || iy >= L->hin || ix < 0 || ix >= L->win) continue;
                                cur += (double)W[((size_t)(ci * L->k + dy) * L->k + dx) * L->cout + co] *
                                     x[(iy * L->win + ix) * L->cin + ci];
                            }
                } else {
                    for (int i = 0; i < L->nin; i++) cur += (double)W[(size_t)i * L->cout + co] * x[i];
                }
                const float u = s->tau * r[base + j] + (float)cur;
                const int o = u > V;
                U[(size_t)t * tot + base + j] = u;
                O[(size_t)t * tot + base + j] = (uint8_t)o;
                r[base + j] = o ? (s->reset == RC_RESET_MULT ? 0.0f : u - V) : u;
                y[j] = (float)o;
            }
            memcpy(x, y, (size_t)L->nout * sizeof *x);
            base += L->nout;
        }
    }
    free(x);
    free(y);
    free(r);
}
