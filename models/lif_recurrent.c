/* lif_recurrent.c — the recurrent (rfcN), adaptive (rfcNa) and leaky-integrator
 * readout (liN) variants of the fc LIF layer (equations in lif.h): their
 * recurrent event delivery, adaptive threshold, spike test and reset in the
 * forward pass, and their δu, δa and dR in the backward pass. lif_forward.c
 * and lif_backward.c call in here for layers with L->rec or L->li; the
 * feed-forward layers never reach this file, so their arithmetic is unchanged.
 *
 * An rfc layer is one group touched every step (as fc), so every neuron's
 * decay is one multiplication per step and the recurrent input, the layer's
 * own spikes of t−1, is a list of events like any other input. */
#include <cblas.h>
#include <string.h>
#include "models/lif_impl.h"
#include "base/rng.h"

void rc_lif_rec_init(float *P, const rc_lif_shape *s, const rc_lif_layer *L, uint64_t seed, int tensor)
{
    const int N = L->cout;
    if (s->learn_tau) /* κ = logit(τ_rec): every neuron starts at τ_rec */
        for (int j = 0; j < N; j++) P[L->kt + j] = (float)log((double)s->tau_rec / (1.0 - (double)s->tau_rec));
    const double bound = 1.0 / sqrt((double)N);
    for (int to = 0; to < N; to++)
        for (int from = 0; from < N; from++)
            P[L->r + (size_t)from * N + to] =
                (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tensor, (uint64_t)to * N + from) - 1.0) * bound);
}

int rc_lif_rec_alloc(lifpop *P, int T)
{
    const size_t N = (size_t)P->N;
    P->a = calloc(N, sizeof *P->a);
    P->th = calloc(N, sizeof *P->th);
    P->A = calloc((size_t)T * N, sizeof *P->A);
    P->dacar = calloc(N, sizeof *P->dacar);
    P->rv = calloc(N, sizeof *P->rv);
    P->tauv = calloc(N, sizeof *P->tauv);
    P->dk = calloc(N, sizeof *P->dk);
    return P->a && P->th && P->A && P->dacar && P->rv && P->tauv && P->dk ? 0 : -1;
}

void rc_lif_rec_free(lifpop *P)
{
    free(P->a); free(P->th); free(P->A); free(P->dacar); free(P->rv); free(P->tauv); free(P->dk);
}

void rc_lif_rec_decay(rc_lif_sim *m, int p, int t, const float *Pm)
{
    lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &m->s.L[P->layer];
    if (t == 0) {
        for (int j = 0; j < P->N; j++) P->tauv[j] = rc_lif_tau_of(Pm[L->kt + j]);
        return; /* u_{−1} = 0: nothing to decay */
    }
    for (int j = 0; j < P->N; j++) P->u[j] *= P->tauv[j];
}

void rc_lif_rec_deliver(rc_lif_sim *m, int p, int t, const float *Pm, rc_lif_result *r)
{
    const rc_lif_shape *s = &m->s;
    lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &s->L[P->layer];
    const int N = P->N, a0 = t ? P->sp_off[t - 1] : 0, a1 = t ? P->sp_off[t] : 0;
    const float *R = Pm + L->r;
    float *u = P->u;
    if (m->dense) { /* every neuron's o_{t−1}, zeros included */
        memset(P->rv, 0, (size_t)N * sizeof *P->rv);
        for (int e = a0; e < a1; e++) P->rv[P->sp_idx.a[e]] = P->sp_val.a[e];
        for (int k = 0; k < N; k++) {
            const float v = P->rv[k], *w = R + (size_t)k * N;
            for (int c = 0; c < N; c++) u[c] += v * w[c];
        }
        r->synops += (int64_t)N * N;
    } else {
        for (int e = a0; e < a1; e++) {
            const float v = P->sp_val.a[e], *w = R + (size_t)P->sp_idx.a[e] * N;
            for (int c = 0; c < N; c++) u[c] += v * w[c];
        }
        r->synops += (int64_t)(a1 - a0) * N;
    }
    if (!L->adapt) return;
    /* a_t = ρ·a_{t−1} + o_{t−1}, θ_t = V_th + β_a·a_t */
    if (t == 0) memset(P->a, 0, (size_t)N * sizeof *P->a);
    for (int j = 0; j < N; j++) P->a[j] *= s->alif_rho;
    for (int e = a0; e < a1; e++) P->a[P->sp_idx.a[e]] += P->sp_val.a[e];
    for (int j = 0; j < N; j++) P->th[j] = s->vth + s->alif_beta * P->a[j];
    memcpy(P->A + (size_t)t * N, P->a, (size_t)N * sizeof *P->a);
}

void rc_lif_rec_fire(rc_lif_sim *m, lifpop *P, int t, float V, int record)
{
    const rc_lif_shape *s = &m->s;
    const rc_lif_layer *L = &s->L[P->layer];
    const int N = P->N;
    RC_ASSERT(P->G == 1 && P->ntouch == 1);
    ivec_need(&P->sp_idx, (size_t)N);
    fvec_need(&P->sp_val, (size_t)N);
    float *u = P->u;
    memcpy(P->upre, u, (size_t)N * sizeof *u);
    if (record) {
        ivec_need(&P->lg_grp, 1);
        fvec_need(&P->lg_u, (size_t)N);
        P->lg_grp.a[P->lg_grp.n++] = 0;
        memcpy(P->lg_u.a + P->lg_u.n, u, (size_t)N * sizeof *u);
        P->lg_u.n += (size_t)N;
    }
    int any = 0;
    for (int j = 0; j < N; j++) {
        const float th = L->adapt ? P->th[j] : V, x = u[j] - th;
        float o;
        if (s->smooth && !L->li) o = (float)rc_lif_surr_int(s, (double)x);
        else o = x > 0.0f ? 1.0f : 0.0f; /* li: the RC spike marker only */
        if (o == 0.0f) continue;
        P->sp_idx.a[P->sp_idx.n++] = j;
        P->sp_val.a[P->sp_val.n++] = o;
        if (!L->li) u[j] = s->reset == RC_RESET_MULT ? u[j] * (1.0f - o) : u[j] - th * o;
        any = 1;
    }
    P->nspk = any;
    if (any) P->spk[0] = 0;
    P->tl[0] = t;
    P->sp_off[t + 1] = (int)P->sp_idx.n;
    P->lg_off[t + 1] = (int)P->lg_grp.n;
}

/* δu of an liN readout at step t: the potential is never reset, so only the
 * decay carries δu back (and the loss adds ∂L/∂u at t_loss). */
static void li_du(lifpop *P, int t, int tloss, const float *dz, float tau)
{
    float *dI = P->dIall + (size_t)t * P->N;
    int nz = 0;
    for (int j = 0; j < P->N; j++) {
        float d = tau * P->dcar[j];
        if (t == tloss) d += dz[j];
        dI[j] = d;
        P->dcar[j] = d;
        nz |= d != 0.0f;
    }
    P->gnz[0] = (uint8_t)nz;
}

void rc_lif_rec_du(rc_lif_sim *m, int p, int t, int tloss, const float *dz, const float *PT)
{
    const rc_lif_shape *s = &m->s;
    lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &s->L[P->layer];
    if (L->li) { li_du(P, t, tloss, dz, s->tau_out); return; }
    const int N = P->N, mult = s->reset == RC_RESET_MULT, learn = s->learn_tau;
    const float tau = s->tau_rec, V = s->vth;
    if (t == tloss) {
        memset(P->dacar, 0, (size_t)N * sizeof *P->dacar);
        memset(P->dk, 0, (size_t)N * sizeof *P->dk);
        memset(P->rv, 0, (size_t)N * sizeof *P->rv);
    } else /* δo_k through R at t+1: Σ_j R_kj·δu_{j,t+1} (serial BLAS, fixed order) */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, N, N, 1.0f, PT + L->r, N, P->dcar, 1, 0.0f, P->rv, 1);
    const float *U = P->U + (size_t)t * N, *D = P->Dall + (size_t)t * N, *A = P->A + (size_t)t * N;
    float *dI = P->dIall + (size_t)t * N;
    int nz = 0;
    for (int j = 0; j < N; j++) {
        const float u = U[j], th = L->adapt ? V + s->alif_beta * A[j] : V, x = u - th;
        const float g = rc_lif_sgrad(s, x);
        float o;
        if (s->smooth) o = (float)rc_lif_surr_int(s, (double)x);
        else o = x > 0.0f ? 1.0f : 0.0f;
        const float dr = (learn ? P->tauv[j] : tau) * P->dcar[j];
        if (learn) P->dk[j] += P->dcar[j] * (mult ? u * (1.0f - o) : u - th * o); /* δu_{t+1}·r_t */
        float e = D[j] + P->rv[j] + (L->adapt ? P->dacar[j] : 0.0f) + dr * (mult ? -u : -th);
        float d = mult ? dr * (1.0f - o) : dr;
        if (g != 0.0f) d += g * e;
        if (L->adapt) {
            const float dth = -g * e - (mult ? 0.0f : o * dr);
            P->dacar[j] = s->alif_rho * P->dacar[j] + s->alif_beta * dth;
        }
        dI[j] = d;
        P->dcar[j] = d;
        nz |= d != 0.0f;
    }
    P->gnz[0] = (uint8_t)nz;
}

void rc_lif_rec_dweights(rc_lif_sim *m, int p, int t, float *Gm)
{
    lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &m->s.L[P->layer];
    if (L->rec && t == 0 && m->s.learn_tau) /* dκ = σ'(κ)·Σ_t δu_{t+1}·r_t, σ' = τ(1 − τ) */
        for (int j = 0; j < P->N; j++) Gm[L->kt + j] += P->tauv[j] * (1.0f - P->tauv[j]) * P->dk[j];
    if (!L->rec || t == 0 || !P->gnz[0]) return;
    const int N = P->N;
    const float *dI = P->dIall + (size_t)t * N;
    float *dR = Gm + L->r;
    for (int e = P->sp_off[t - 1]; e < P->sp_off[t]; e++) {
        const float v = P->sp_val.a[e];
        float *w = dR + (size_t)P->sp_idx.a[e] * N;
        for (int c = 0; c < N; c++) w[c] += v * dI[c];
    }
}
