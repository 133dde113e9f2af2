/* engine_lstm_delta.c — the delta LSTM's part of the LSTM step loop
 * (sim/engine_lstm.c; kernels in models/lstm.h, rc_lstm_forward_delta), and
 * what the ConvLSTM's delta path shares with it (options, buffers, ĥ and the
 * hidden events in the compaction, x̂, counters; the ConvLSTM's own part is
 * sim/engine_convlstm_delta.c, behind the core table's delta hooks).
 *
 * Per example (row), the engine keeps what each unit last sent: ĥ in hp_all
 * (the recurrent product sees ĥ, and ∂W_hh = Σ dgate ĥᵀ is the
 * straight-through gradient with no change to the backward pass), x̂ in xd
 * (∂W_ih = Σ dgate x̂ᵀ runs as the dense-input sgemm), and the gate memory M
 * in mcur, compacted with the rows like c. A hidden unit's event at step t is
 * decided by the thread that owns the unit, in the compaction after step t−1;
 * every thread then lists the events of all units of its rows (it needs every
 * column for its own gate rows). Which path a step takes (sparse columns or
 * one sgemm) depends on the step's event count only, never on the threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/fastmath.h"
#include "models/gemm.h"
#include "sim/engine_lstm.h"

/* A step's hidden events go as one sgemm per tile when at least this share
 * of its (row, unit) pairs sent one (bench: the sparse column loop and the
 * sgemm cost the same near it on this machine). */
#define RC_DELTA_DENSE_SHARE 0.25

rc_status rc_lstm_delta_prepare(lstm_engine *e, const rc_batch_opts *o, rc_err *err)
{
    const double tx = o->lstm.delta_x, th = o->lstm.delta_h;
    if (!(tx >= 0) || !(th >= 0) || !isfinite(tx) || !isfinite(th))
        return rc_err_set(err, RC_ERR_USAGE, "engine: delta_x = %g, delta_h = %g: expected finite numbers >= 0", tx, th);
    e->dx_on = tx > 0;
    e->dh_on = th > 0;
    e->thx = (float)tx;
    e->thh = (float)th;
    int fail = 0;
    const double l1 = o->lstm.delta_l1;
    if (!(l1 >= 0) || !isfinite(l1))
        return rc_err_set(err, RC_ERR_USAGE, "engine: delta_l1 = %g: expected a finite number >= 0", l1);
    e->l1_on = o->train && l1 > 0;
    if (e->l1_on) {
        if (e->core != &rc_engine_core_lstm)
            return rc_err_set(err, RC_ERR_USAGE, "engine: delta_l1 is for the LSTM only, not the %s", e->core->name);
        if (!e->l1acc) e->l1acc = rc_engine_xcalloc((size_t)e->base.B * (size_t)e->ntiles, sizeof(double), &fail);
        if (fail) return rc_err_set(err, RC_ERR_NOMEM, "engine: cannot allocate the delta_l1 sums");
        memset(e->l1acc, 0, (size_t)e->base.B * (size_t)e->ntiles * sizeof(double));
        e->l1_grad = (float)(l1 * rc_batch_loss_scale(o, e->base.n) / e->H);
    }
    if (!e->dx_on && !e->dh_on) return RC_OK;
    const size_t B = (size_t)e->base.B, T = (size_t)e->base.T, H = (size_t)e->H, nt = (size_t)e->base.maxthreads;
    if (!e->mcur) {
        e->mcur = rc_engine_xcalloc(B * 4 * H, sizeof(float), &fail);
        e->dlt = rc_engine_xcalloc(B * H, sizeof(float), &fail);
        e->hcnt = rc_engine_xcalloc(nt * B, sizeof(int), &fail);
        if (!fail) fail = e->core->delta_alloc(e);
    }
    if (e->dx_on && !e->dxch) {
        e->dxch = rc_engine_xcalloc(B * T * (size_t)e->nin, sizeof(int32_t), &fail);
        e->dxval = rc_engine_xcalloc(B * T * (size_t)e->nin, sizeof(float), &fail);
        e->xcur = rc_engine_xcalloc((size_t)e->nin, sizeof(float), &fail);
        /* x̂ of every cached row (the LSTM's dense-input copies hold it). */
        if (!e->xd) e->xd = rc_engine_xcalloc(B * T * (size_t)e->nin, sizeof(float), &fail);
    }
    if (fail) {
        rc_lstm_delta_free(e);
        return rc_err_set(err, RC_ERR_NOMEM, "engine: cannot allocate the delta %s's buffers",
                          e->core->name);
    }
    return RC_OK;
}

int rc_lstm_delta_alloc(lstm_engine *e)
{
    int fail = 0;
    const size_t B = (size_t)e->base.B, T = (size_t)e->base.T, H = (size_t)e->H, nt = (size_t)e->base.maxthreads;
    e->whT = rc_engine_xcalloc(4 * H * H, sizeof(float), &fail);
    e->evidx = rc_engine_xcalloc(nt * B * H, sizeof(int32_t), &fail);
    e->evval = rc_engine_xcalloc(nt * B * H, sizeof(float), &fail);
    e->evcnt = rc_engine_xcalloc(nt * B, sizeof(int), &fail);
    e->hdense = rc_engine_xcalloc(T, 1, &fail);
    e->tdense = rc_engine_xcalloc(nt, sizeof(int), &fail);
    return fail;
}

void rc_lstm_delta_free(lstm_engine *e)
{
    free(e->mcur); free(e->dlt); free(e->whT); free(e->evidx); free(e->evval); free(e->evcnt);
    free(e->hcnt); free(e->hdense); free(e->tdense); free(e->dxch); free(e->dxval); free(e->xcur);
    free(e->wxT); free(e->rdense); free(e->l1acc);
    e->l1acc = NULL;
    e->mcur = e->dlt = e->whT = e->dxval = e->xcur = e->evval = e->wxT = NULL;
    e->evidx = NULL;
    e->evcnt = e->hcnt = e->tdense = NULL;
    e->hdense = e->rdense = NULL;
    e->dxch = NULL;
}

void rc_lstm_delta_start(lstm_engine *e, int ith, int nth, size_t u0, size_t u1)
{
    const size_t H = (size_t)e->H;
    for (int r = 0; r < e->base.n; r++) {
        memset(e->dlt + (size_t)r * H + u0, 0, (u1 - u0) * sizeof(float));
        e->hcnt[(size_t)ith * e->base.B + r] = 0;
    }
    e->core->delta_start(e, ith, nth, u0, u1);
}

void rc_lstm_delta_start_lstm(lstm_engine *e, int ith, int nth, size_t u0, size_t u1)
{
    (void)ith, (void)nth;
    const rc_net *net = e->base.net;
    const float *P = net->params, *bi = P + net->b_ih, *bh = P + net->b_hh, *whh = P + net->w_hh;
    const size_t H = (size_t)e->H, G4 = 4 * H, g0 = 4 * u0, g1 = 4 * u1;
    for (int r = 0; r < e->base.n; r++) {
        float *m = e->mcur + (size_t)r * G4;
        for (size_t g = g0; g < g1; g++) m[g] = bi[g] + bh[g];
    }
    /* w_hhᵀ of the own tiles, tile by tile (models/lstm.h): tile k's block
     * at rb·H is (H, nr). */
    if (e->dh_on)
        for (size_t rb = g0; rb < g1; rb += 4 * RC_LSTM_TILE) {
            const size_t nr = g1 - rb < 4 * RC_LSTM_TILE ? g1 - rb : 4 * RC_LSTM_TILE;
            rc_transpose(e->whT + rb * H, nr, whh + rb * H, H, nr, H);
        }
}

void rc_lstm_delta_step(lstm_engine *e, int ith, int nth, int t)
{
    if (!e->dh_on) return;
    const int n = e->nrow[t], H = e->H, B = e->base.B;
    int64_t tot = 0;
    for (int q = 0; q < nth; q++)
        for (int r = 0; r < n; r++) tot += e->hcnt[(size_t)q * B + r];
    const int dense = n > 0 && (double)tot >= RC_DELTA_DENSE_SHARE * (double)n * H;
    /* Each thread keeps its own copy: thread 0's hdense[t] (for decide) is
     * not yet written when the others start the step. */
    e->tdense[ith] = dense;
    if (ith == 0) e->hdense[t] = (unsigned char)dense;
    if (dense) return;
    int32_t *idx = e->evidx + (size_t)ith * B * H;
    float *val = e->evval + (size_t)ith * B * H;
    int *cnt = e->evcnt + (size_t)ith * B;
    for (int r = 0; r < n; r++) {
        const float *dl = e->dlt + (size_t)r * H;
        int32_t *ix = idx + (size_t)r * H;
        float *vx = val + (size_t)r * H;
        int c = 0;
        for (int j = 0; j < H; j++)
            if (dl[j] != 0.0f) { ix[c] = j; vx[c++] = dl[j]; }
        cnt[r] = c;
    }
}

void rc_lstm_delta_compact(lstm_engine *e, int ith, int t, size_t u0, size_t u1)
{
    const size_t H = (size_t)e->H, G4 = 4 * H;
    const int r0 = e->rowoff[t], r1 = e->rowoff[t + 1], n1 = e->nrow[t + 1];
    const float th = e->thh;
    for (int r = 0; r < n1; r++) {
        const int p = e->pos[r1 + r];
        const float *hn = e->hcur + (size_t)p * H, *ho = e->hp_all + (size_t)(r0 + p) * H;
        float *hs = e->hp_all + (size_t)(r1 + r) * H, *dl = e->dlt + (size_t)r * H;
        int c = 0;
        if (e->dh_on) {
            for (size_t u = u0; u < u1; u++) {
                const float d = hn[u] - ho[u];
                const int ev = fabsf(d) >= th;
                dl[u] = ev ? d : 0.0f;
                hs[u] = ev ? hn[u] : ho[u];
                c += ev;
            }
        } else {
            memcpy(hs + u0, hn + u0, (u1 - u0) * sizeof(float));
        }
        e->hcnt[(size_t)ith * e->base.B + r] = c;
        memcpy(e->cp_all + (size_t)(r1 + r) * H + u0, e->c_all + (size_t)(r0 + p) * H + u0,
               (u1 - u0) * sizeof(float));
        /* M in place: p ≥ r (compaction is stable), so row p is still intact.
         * (A ConvLSTM's M stays at the example's slot.) */
        if (p != r && !e->core->m_by_slot)
            memcpy(e->mcur + (size_t)r * G4 + 4 * u0, e->mcur + (size_t)p * G4 + 4 * u0,
                   4 * (u1 - u0) * sizeof(float));
    }
}

void rc_lstm_delta_inputs(lstm_engine *e, int t)
{
    const int r0 = e->rowoff[t], n = e->nrow[t], nin = e->nin;
    const float th = e->thx;
    float *x = e->xcur;
    for (int r = 0; r < n; r++) {
        const int g = r0 + r;
        const rc_events *ev = &e->ev[e->row_ex[g]];
        /* x̂ of the same example at t−1 (x̂_{−1} = 0). */
        const float *xo = t > 0 ? e->xd + (size_t)(e->rowoff[t - 1] + e->pos[g]) * nin : NULL;
        float *xs = e->xd + (size_t)g * nin, *val = e->dxval + (size_t)g * nin;
        int32_t *ch = e->dxch + (size_t)g * nin;
        memset(x, 0, (size_t)nin * sizeof *x);
        for (int q = ev->off[t]; q < ev->off[t + 1]; q++) x[ev->ch[q]] += ev->val[q];
        int c = 0;
        for (int i = 0; i < nin; i++) {
            const float old = xo ? xo[i] : 0.0f, d = x[i] - old;
            if (fabsf(d) >= th) {
                ch[c] = i;
                val[c++] = d;
                xs[i] = x[i];
            } else {
                xs[i] = old;
            }
        }
        e->beg[g] = 0;
        e->end[g] = c;
        e->ich[g] = ch;
        e->ival[g] = val;
        e->xrow[g] = 1; /* the backward's ∂W_ih reads x̂ as dense rows */
    }
    e->xstep[t] = 0;    /* the forward adds the delta events to M */
}

int64_t rc_lstm_delta_row_events(const lstm_engine *e, int r)
{
    int64_t s = 0;
    for (int q = 0; q < e->nth_run; q++) s += e->hcnt[(size_t)q * e->base.B + r];
    return s;
}

/* ---- train.delta_l1 ------------------------------------------------------ */

/* h of unit u0 + j (tile at gate row rb, width w) of global row g, as the
 * forward's tile_cell computed it: o · tanh(c). */
static inline float l1_h(const lstm_engine *e, int g, int rb, int w, int u0, int j)
{
    return e->act_all[(size_t)g * e->G4 + (size_t)rb + 3 * (size_t)w + (size_t)j] *
           rc_tanhf(e->c_all[(size_t)g * e->H + (size_t)u0 + (size_t)j]);
}

static inline float l1_sign(float d, float s) { return d > 0 ? s : d < 0 ? -s : 0.0f; }

void rc_lstm_l1_grad(lstm_engine *e, int t, int k0, int k1)
{
    const int H = e->H, r0 = e->rowoff[t], n = e->nrow[t];
    const float s = e->l1_grad;
    for (int k = k0; k < k1; k++) {
        const int w = rc_lstm_tile_w(H, k), u0 = rc_lstm_tile_u0(k), rb = 4 * RC_LSTM_TILE * k;
        /* Step t's own difference, h_t − h_{t−1} (row p of step t−1). */
        for (int r = 0; r < n; r++) {
            const int g = r0 + r, gp = t > 0 ? e->rowoff[t - 1] + e->pos[g] : -1;
            float *dh = e->dh + (size_t)r * H + u0;
            double acc = 0;
            for (int j = 0; j < w; j++) {
                const float d = l1_h(e, g, rb, w, u0, j) - (gp >= 0 ? l1_h(e, gp, rb, w, u0, j) : 0.0f);
                dh[j] += l1_sign(d, s);
                acc += fabsf(d);
            }
            e->l1acc[(size_t)e->row_ex[g] * e->ntiles + k] += acc;
        }
        /* Step t+1's, h_{t+1} − h_t, for the rows that went on: −sign into h_t. */
        if (t < e->tmax)
            for (int r = 0; r < e->nrow[t + 1]; r++) {
                const int g = e->rowoff[t + 1] + r, p = e->pos[g];
                float *dh = e->dh + (size_t)p * H + u0;
                for (int j = 0; j < w; j++)
                    dh[j] -= l1_sign(l1_h(e, g, rb, w, u0, j) - l1_h(e, r0 + p, rb, w, u0, j), s);
            }
    }
}

void rc_lstm_l1_finish(lstm_engine *e)
{
    const double lam = e->base.o->lstm.delta_l1 / e->H;
    for (int i = 0; i < e->base.n; i++) {
        double sum = 0;
        for (int k = 0; k < e->ntiles; k++) sum += e->l1acc[(size_t)i * e->ntiles + k];
        e->base.res[i].loss += (float)(lam * sum);
        e->loss_sum += lam * sum;
    }
}
