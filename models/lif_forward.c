/* lif_forward.c — the per-example LIF simulator: its scratch, the event-driven
 * forward pass with lazy decay, and the replay of the forward log that the
 * backward pass (lif_backward.c) and the tests read (see lif.h for the
 * dynamics and why lazy decay is exact). A thread owns one rc_lif_sim and runs
 * whole examples through it, so nothing here is shared or locked. */
#include <string.h>
#include "models/lif_impl.h"
#include "models/lif_testing.h"

void rc_lif_sim_set_generic(rc_lif_sim *m, int on) { m->generic = on; }

/* 1 if any of u[0..n) exceeds V (u − V > 0, the spike test), branch-free so
 * it vectorises: most groups have no spike at a step. */
static inline int any_above(const float *u, int n, float V)
{
    int hit = 0;
    for (int j = 0; j < n; j++) hit |= (u[j] - V) > 0.0f;
    return hit;
}

void rc_lif_sim_free(rc_lif_sim *m)
{
    if (!m) return;
    for (int p = 0; p < m->np; p++) {
        lifpop *P = &m->pop[p];
        free(P->u); free(P->upre); free(P->tl); free(P->stamp); free(P->touched); free(P->spk);
        free(P->spk2); free(P->sp_off); free(P->sp_idx.a); free(P->sp_val.a); free(P->lg_off);
        free(P->lg_grp.a); free(P->lg_u.a); free(P->U); free(P->dcar); free(P->Dall); free(P->dIall);
        free(P->gnz); free(P->pmap);
        rc_lif_rec_free(P);
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
        if ((L->rec || L->li) && rc_lif_rec_alloc(P, T)) fail = 1;
    }
    for (int p = 1; p < m->np && !fail; p++) {
        lifpop *P = &m->pop[p];
        if (!P->pooled) continue;
        AL(P->pmap, (size_t)m->pop[p - 1].N);
        for (int i = 0; P->pmap && i < m->pop[p - 1].N; i++) P->pmap[i] = rc_lif_pool_index(m, P, i);
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

/* See lif_impl.h: population p's inputs at step t (events or spikes below). */
void rc_lif_pop_inputs(rc_lif_sim *m, int p, int t, const rc_events *ev)
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
            if (P->pooled && (i = P->pmap[i]) < 0) continue;
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
            if ((i = P->pmap[i]) < 0) continue; /* odd row/column dropped */
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

/* Start of an example: every population at rest, its logs empty. */
static void pop_reset(lifpop *P)
{
    memset(P->u, 0, (size_t)P->N * sizeof *P->u);
    for (int g = 0; g < P->G; g++) { P->tl[g] = -1; P->stamp[g] = -1; }
    P->nspk = 0;
    P->sp_idx.n = P->sp_val.n = 0;
    P->lg_grp.n = P->lg_u.n = 0;
    P->sp_off[0] = 0;
    P->lg_off[0] = 0;
}

/* Step t of population p, up to its spike test: touches the groups that must
 * be (all of them with dense/bias/smooth or for fc; else those that spiked at
 * t−1, then those the events reach) and adds the step's input events. */
static void pop_deliver(rc_lif_sim *m, int p, int t, int all, const float *Pm, const rc_events *ev,
                        rc_lif_result *r)
{
    const rc_lif_shape *s = &m->s;
    lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &s->L[P->layer];
    const float tau = L->rec ? (s->learn_tau ? 1.0f : s->tau_rec) : L->li ? s->tau_out : s->tau;
    const float *W = Pm + L->w, *bias = s->bias ? Pm + L->b : NULL;
    if (L->rec && s->learn_tau) rc_lif_rec_decay(m, p, t, Pm); /* per-neuron τ; touch's ×1 is exact */
    P->ntouch = 0;
    if (all || L->kind == RC_LIF_FC)
        for (int g = 0; g < P->G; g++) touch(P, g, t, tau, bias);
    else
        for (int i = 0; i < P->nspk; i++) touch(P, P->spk[i], t, tau, bias);
    rc_lif_pop_inputs(m, p, t, ev);
    const float *vv = m->in_val.a;
    if (L->kind == RC_LIF_CONV) {
        const int co = L->cout, nin = (int)m->in_idx.n;
        const int *ii = m->in_idx.a;
        const int wo = L->wout, k = L->k;
        int64_t syn = 0;
        for (int e = 0; e < nin; e++) {
            const rc_lif_taps tp = rc_lif_taps_of(L, ii[e]);
            const float v = vv[e];
            /* Touching a group before its first add is all the order asks
             * (a touch is done once per step); with `all` every group is. */
            if (!all)
                for (int dy = tp.dy0; dy < tp.dy1; dy++)
                    for (int dx = tp.dx0; dx < tp.dx1; dx++) touch(P, tp.g0 - dy * wo - dx, t, tau, bias);
            for (int dy = tp.dy0; dy < tp.dy1; dy++) {
                float *urow = P->u + (size_t)(tp.g0 - dy * wo) * co;
                const float *wrow = W + (tp.wrow + (size_t)dy * k) * (size_t)co;
                for (int dx = tp.dx0; dx < tp.dx1; dx++) {
                    float *u = urow - (size_t)dx * co;
                    const float *w = wrow + (size_t)dx * co;
                    for (int c = 0; c < co; c++) u[c] += v * w[c];
                }
            }
            syn += (int64_t)(tp.dy1 - tp.dy0) * (tp.dx1 - tp.dx0) * co;
        }
        r->synops += syn;
    } else {
        const int no = L->cout, nin = (int)m->in_idx.n;
        const int *ii = m->in_idx.a;
        for (int e = 0; e < nin; e++) {
            const float v = vv[e];
            const float *w = W + (size_t)ii[e] * no;
            float *u = P->u;
            for (int c = 0; c < no; c++) u[c] += v * w[c];
        }
        r->synops += (int64_t)nin * no;
        if (L->rec) rc_lif_rec_deliver(m, p, t, Pm, r);
    }
}

/* Spikes and resets of the groups population P touched at step t (threshold
 * V), logging their pre-reset potentials when recording. */
static void pop_fire(rc_lif_sim *m, lifpop *P, int t, float V, int record)
{
    const rc_lif_shape *s = &m->s;
    /* upre is read for the output layer and the one below it only
     * (rc_lif_forward, read_hidden). */
    const int keep = P >= &m->pop[m->np - 2];
    P->nspk2 = 0;
    ivec_need(&P->sp_idx, (size_t)P->ntouch * P->gs);
    fvec_need(&P->sp_val, (size_t)P->ntouch * P->gs);
    if (record) {
        ivec_need(&P->lg_grp, (size_t)P->ntouch);
        fvec_need(&P->lg_u, (size_t)P->ntouch * P->gs);
    }
    for (int q = 0; q < P->ntouch; q++) {
        const int g = P->touched[q];
        float *u = P->u + (size_t)g * P->gs;
        if (keep) memcpy(P->upre + (size_t)g * P->gs, u, (size_t)P->gs * sizeof *u);
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

/* uhid (N of population np−2) at step t: pre-reset potentials, untouched
 * groups decayed from their last update. */
static void read_hidden(const rc_lif_sim *m, int t, float *uhid)
{
    const float tau = m->s.tau;
    const lifpop *Hp = &m->pop[m->np - 2];
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

void rc_lif_forward(rc_lif_sim *m, const float *Pm, const rc_events *ev, float vscale,
                    int stop, int record, int dense, float *uout, float *uhid, rc_lif_result *r)
{
    const rc_lif_shape *s = &m->s;
    const int T = ev->T, np = m->np;
    RC_ASSERT(T <= m->T);
    const int all = dense || s->bias || s->smooth;
    m->vscale = vscale;
    m->dense = dense;
    for (int p = 0; p < np; p++) pop_reset(&m->pop[p]);
    *r = (rc_lif_result){ .tend = T - 1, .spiked = 0, .tsp = T - 1, .pred = 0, .pred_end = -1, .synops = 0 };
    const int K = m->pop[np - 1].N;
    for (int t = 0; t < T; t++) {
        for (int p = 0; p < np; p++) {
            pop_deliver(m, p, t, all, Pm, ev, r);
            lifpop *P = &m->pop[p];
            const rc_lif_layer *L = &s->L[P->layer];
            const float V = p == np - 1 ? (L->li ? s->vout : s->vth) * vscale : s->vth;
            if (L->rec || L->li) rc_lif_rec_fire(m, P, t, V, record);
            else pop_fire(m, P, t, V, record);
        }
        /* The output layer (an fc layer: touched every step, upre is current). */
        const lifpop *O = &m->pop[np - 1];
        const float *uo = O->upre;
        if (uout) memcpy(uout + (size_t)t * K, uo, (size_t)K * sizeof *uo);
        if (uhid && np >= 2) read_hidden(m, t, uhid);
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
            r->tend = t; /* backward and the spike readers look at steps ≤ tend only */
            break;
        }
    }
}

void rc_lif_replay(rc_lif_sim *m, int tmax)
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

void rc_lif_sim_potentials(rc_lif_sim *m, int tmax, float *const *U)
{
    rc_lif_replay(m, tmax);
    for (int p = 0; p < m->np; p++)
        if (U[p]) memcpy(U[p], m->pop[p].U, (size_t)(tmax + 1) * (size_t)m->pop[p].N * sizeof *U[p]);
}

void rc_lif_sim_state(rc_lif_sim *m, int tmax, float *U, uint8_t *O)
{
    rc_lif_replay(m, tmax);
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
