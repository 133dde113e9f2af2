/* lif_impl.h — private to models/lif_*.c: the per-example simulator's state
 * (rc_lif_sim), its growable arrays, and the small inline pieces forward and
 * backward share (surrogate, pool index, conv taps). Nothing outside models/
 * includes this; the public contract is lif.h. */
#ifndef RC_LIF_IMPL_H
#define RC_LIF_IMPL_H

#include <math.h>
#include <stdlib.h>
#include "models/lif.h"
#include "base/status.h"

/* ---- growable arrays ---------------------------------------------------------- */

typedef struct { int *a; size_t n, cap; } ivec;
typedef struct { float *a; size_t n, cap; } fvec;

/* Room for `more` elements past n in *a (capacity *cap, elements of esize
 * bytes; doubling from 1024). Scratch growth: out of memory is not
 * recoverable here, so it asserts. */
static inline void rc_lif_grow(void **a, size_t *cap, size_t n, size_t more, size_t esize)
{
    if (n + more <= *cap) return;
    size_t c = *cap ? *cap : 1024;
    while (c < n + more) c *= 2;
    void *na = realloc(*a, c * esize);
    RC_ASSERT(na != NULL);
    *a = na;
    *cap = c;
}

static inline void ivec_need(ivec *v, size_t more) { rc_lif_grow((void **)&v->a, &v->cap, v->n, more, sizeof *v->a); }
static inline void fvec_need(fvec *v, size_t more) { rc_lif_grow((void **)&v->a, &v->cap, v->n, more, sizeof *v->a); }

/* ---- the per-example simulator ------------------------------------------------ */

/* One LIF population (a conv or fc layer). Conv neurons are grouped by output
 * position (gs = Cout per group); an fc layer is one group. */
typedef struct {
    int layer;          /* index into s.L                                     */
    int pooled;         /* a pool layer sits between the previous LIF and this */
    int *pmap;          /* pooled: rc_lif_pool_index of each neuron below      */
    int N, G, gs;       /* neurons, groups, neurons per group                  */
    float *u;           /* (N) post-reset state as of tl[g]                     */
    float *upre;        /* (N) pre-reset potential of the last touched step (kept for the top two populations only) */
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
    /* rfc layers only (lif_recurrent.c; NULL otherwise): */
    float *a;           /* (N) adaptation a_t (rfcNa)                            */
    float *th;          /* (N) threshold θ_t of this step                        */
    float *A;           /* (T, N) a_t of every step (backward)                   */
    float *dacar;       /* (N) δa of the step after (backward)                   */
    float *rv;          /* (N) scratch: dense o_{t−1}; R·δu_{t+1} (backward)     */
    float *tauv;        /* (N) τ_j of learn_tau (set each forward)               */
    float *dk;          /* (N) Σ_t δu_{t+1}·r_t of learn_tau (backward)          */
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
    int generic;        /* tests: no vectorised special cases (lif_testing.h)   */
};

/* Surrogate g(x), x = u − V_th (lif.h); inline for the backward loops. */
static inline float rc_lif_sgrad(const rc_lif_shape *s, float x)
{
    const float a = s->lens;
    switch (s->surr) {
    case RC_LIF_SURR_FASTSIG: { const float d = 1.0f + fabsf(x) / a; return 1.0f / (d * d); }
    case RC_LIF_SURR_ATAN: { const float q = (float)(M_PI / 2) * x / a; return 1.0f / (1.0f + q * q); }
    default: return fabsf(x) < a ? 1.0f : 0.0f;
    }
}

/* Index in the pooled map of neuron i of the conv before the pool that feeds
 * population P (channels last, floor of y/2, x/2), or −1 if its row or column
 * is dropped. */
static inline int rc_lif_pool_index(const rc_lif_sim *m, const lifpop *P, int i)
{
    const rc_lif_layer *C = &m->s.L[P->layer - 2], *PL = &m->s.L[P->layer - 1];
    const int c = i % C->cout, pos = i / C->cout, y = pos / C->wout, x = pos % C->wout;
    if (y / 2 >= PL->hout || x / 2 >= PL->wout) return -1;
    return ((y / 2) * PL->wout + x / 2) * PL->cout + c;
}

/* ---- the conv scatter ------------------------------------------------------- */

/* The taps of one input event of a conv layer, for the forward scatter
 * (u += v·w) and the weight gradient (dw += v·δu), which must visit them in
 * the same order: for each event (in order) the taps (dy, dx) dy-major, dx
 * ascending, exactly those whose output position (oy, ox) = (y + pad − dy,
 * x + pad − dx) lies in the map. Both callers walk
 *     for (dy = dy0; dy < dy1; dy++) for (dx = dx0; dx < dx1; dx++)
 * with output group g0 − dy·wout − dx and weight offset
 * (wrow + dy·k + dx)·Cout. (A callback-style iterator that returned one tap
 * per call made the dense bench pass 9-17 % slower: the per-tap state lived
 * in memory instead of loop counters.) */
typedef struct {
    int dy0, dy1, dx0, dx1; /* tap ranges                          */
    int g0;                 /* ry·wout + rx                        */
    size_t wrow;            /* ci·k·k                              */
} rc_lif_taps;

/* The taps of input neuron i (channels last) into layer L. */
static inline rc_lif_taps rc_lif_taps_of(const rc_lif_layer *L, int i)
{
    const int ci = i % L->cin, pos = i / L->cin;
    const int ry = pos / L->win + L->pad, rx = pos % L->win + L->pad; /* oy = ry − dy */
    return (rc_lif_taps){ .dy0 = ry - L->hout + 1 > 0 ? ry - L->hout + 1 : 0,
                          .dy1 = ry + 1 < L->k ? ry + 1 : L->k,
                          .dx0 = rx - L->wout + 1 > 0 ? rx - L->wout + 1 : 0,
                          .dx1 = rx + 1 < L->k ? rx + 1 : L->k,
                          .g0 = ry * L->wout + rx,
                          .wrow = (size_t)ci * L->k * L->k };
}

/* ---- shared between lif_forward.c and lif_backward.c ---------------------------- */

/* Inputs of population p at step t into m->in_idx / in_val: the example's
 * events (p = 0) or the previous population's spikes, pooled if a pool layer
 * is between. Dense mode: every input, zeros included. */
void rc_lif_pop_inputs(rc_lif_sim *m, int p, int t, const rc_events *ev);
/* Pre-reset potentials of steps 0..tmax into each population's U, from the
 * forward log: logged groups take their logged values, the rest τ·u of the
 * step before (they did not spike then, see lif.h). */
void rc_lif_replay(rc_lif_sim *m, int tmax);

/* ---- rfc / li layers (lif_recurrent.c) ------------------------------------------- */

/* R of rfc layer L: U(−1/√N, 1/√N), tensor id `tensor`, logical index to·N + from. */
void rc_lif_rec_init(float *P, const rc_lif_shape *s, const rc_lif_layer *L, uint64_t seed, int tensor);
/* τ_j = σ(κ_j) of a learned-τ rfc neuron, in float (the simulator and the
 * tests' reference compute it the same way). */
static inline float rc_lif_tau_of(float kappa) { return 1.0f / (1.0f + expf(-kappa)); }
/* The rfc arrays of P (T steps); 0, or −1 out of memory. rc_lif_rec_free
 * releases them. */
int rc_lif_rec_alloc(lifpop *P, int T);
void rc_lif_rec_free(lifpop *P);
/* After the input events of step t: an rfc layer's recurrent events (its
 * spikes of t−1 through R) and, for rfcNa, a_t and θ_t. */
void rc_lif_rec_deliver(rc_lif_sim *m, int p, int t, const float *Pm, rc_lif_result *r);
/* learn_tau: before step t's touch (which then decays by 1), u ← τ_j·u; at
 * t = 0 τ_j = σ(κ_j) of this forward. */
void rc_lif_rec_decay(rc_lif_sim *m, int p, int t, const float *Pm);
/* Spike test and reset of an rfc or li population at step t (li: threshold
 * V, no reset); the same logs as the fc layers' pop_fire. */
void rc_lif_rec_fire(rc_lif_sim *m, lifpop *P, int t, float V, int record);
/* δu of an rfc or li population at step t (see lif.h), into dIall, dcar, gnz;
 * PT as rc_lif_backward's. */
void rc_lif_rec_du(rc_lif_sim *m, int p, int t, int tloss, const float *dz, const float *PT);
/* dR of an rfc population at step t: its spikes of t−1 times δu_t. */
void rc_lif_rec_dweights(rc_lif_sim *m, int p, int t, float *Gm);

#endif
