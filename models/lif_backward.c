/* lif_backward.c — the surrogate-gradient backward pass of the LIF layers
 * (BPTT over one example after a recorded forward, see lif.h for the
 * equations): δu layer by layer from the top, δo of the layer below as dense
 * sgemms, and weight gradients over the input events only. */
#include <cblas.h>
#include <string.h>
#include "models/lif_impl.h"
#include "models/lif_testing.h"

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

/* lif_testing.h: acc (nt, nin) = dI (nt, nout) × WT (nout, nin) for a few
 * rows: each output a chain of fused multiply-adds over k = 0..nout−1 from
 * +0. That is what OpenBLAS's sgemm computes for up to 3 rows when nin is a
 * multiple of 16 (bench/fc_rows.c: bit for bit with the Haswell kernel this
 * machine forces and the autodetected Cooperlake one; with other nin the
 * Cooperlake kernel rounds the last nin mod 16 columns differently, and from
 * 4 rows on both kernels differ), so the results are the sgemm's. The sgemm
 * packs the whole (nout, nin) weight panel on every call: for the 128 × 1568
 * layer of the SNN config and one row, 90 µs against 5 µs here. A zero dI
 * term is skipped: it adds an exact ±0 to a sum that is never −0 (its first
 * non-zero term is a non-zero product or it stays +0). Without hardware fma
 * (-march) the sgemm runs: fmaf would be a libm call per term. */
int rc_lif_fc_hand(int nt, int nin)
{
#ifdef __FMA__
    return nt <= 3 && nin % 16 == 0;
#else
    (void)nt, (void)nin;
    return 0;
#endif
}

void rc_lif_fc_below_rows(int nt, int nout, int nin, const float *dI, const float *WT, float *acc)
{
    memset(acc, 0, (size_t)nt * nin * sizeof *acc);
    for (int k = 0; k < nout; k++)
        for (int t = 0; t < nt; t++) {
            const float a = dI[(size_t)t * nout + k];
            if (a == 0.0f) continue;
            const float *w = WT + (size_t)k * nin;
            float *c = acc + (size_t)t * nin;
            for (int i = 0; i < nin; i++) c[i] = fmaf(a, w[i], c[i]);
        }
}

/* δo of population p−1 (Q) at steps 0..tl, from δu of population p (layer L)
 * at those steps: δx = Wᵀ·δu, through the pool (¼ of the pooled position's).
 * Dense products (serial, one call shape per layer and tl, so the sums are
 * in a fixed order):
 *  - fc: (tl+1, nout) × (nout, nin), one sgemm, or where rc_lif_fc_hand
 *    says (up to 3 rows) rc_lif_fc_below_rows: the same bits, no packing;
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
        if (rc_lif_fc_hand(nt, L->nin))
            rc_lif_fc_below_rows(nt, L->cout, L->nin, P->dIall, WT, acc);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, L->nin, L->cout, 1.0f, P->dIall,
                        L->cout, WT, L->nin, 0.0f, acc, L->nin);
        for (int t = 0; t < nt; t++) {
            const float *a = acc + (size_t)t * L->nin;
            float *D = Q->Dall + (size_t)t * Q->N;
            if (P->pooled)
                for (int q = 0; q < Q->N; q++) D[q] = P->pmap[q] < 0 ? 0.0f : 0.25f * a[P->pmap[q]];
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
            if (L->rec) memcpy(PT + L->r, P + L->r, (size_t)L->cout * L->cout * sizeof *PT);
        } else {
            const int k = L->k;
            for (int ci = 0; ci < L->cin; ci++)
                for (int dd = 0; dd < k * k; dd++)
                    for (int c = 0; c < L->cout; c++)
                        WT[((size_t)dd * L->cout + c) * L->cin + ci] = W[((size_t)ci * k * k + dd) * L->cout + c];
        }
    }
}

/* δu of population p at step t from δu at t+1 (dcar) and δo from above (D);
 * into dI (this step's row of dIall) and dcar; gnz marks the groups with a
 * non-zero δu. The top layer adds dz at tloss. */
static void pop_du(rc_lif_sim *m, int p, int t, int tloss, const float *dz)
{
    const rc_lif_shape *s = &m->s;
    lifpop *P = &m->pop[p];
    const float tau = s->tau;
    const int top = p == m->np - 1;
    const float V = top ? s->vth * m->vscale : s->vth;
    const int fast = !top && !s->smooth && s->surr == RC_LIF_SURR_RECT && s->reset == RC_RESET_MULT && !m->generic;
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
            const float sg = rc_lif_sgrad(s, x);
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
}

/* Weight and bias gradients of population p at step t: outer products of its
 * δu (groups with gnz only) with this step's input events, into G. */
static void pop_dweights(rc_lif_sim *m, int p, int t, float *Gm, const rc_events *ev)
{
    const rc_lif_shape *s = &m->s;
    lifpop *P = &m->pop[p];
    const rc_lif_layer *L = &s->L[P->layer];
    const float *dI = P->dIall + (size_t)t * P->N;
    float *dW = Gm + L->w;
    rc_lif_pop_inputs(m, p, t, ev);
    const float *vv = m->in_val.a;
    if (L->kind == RC_LIF_CONV) {
        const int co = L->cout, nin = (int)m->in_idx.n;
        const int *ii = m->in_idx.a;
        for (int e = 0; e < nin; e++) {
            const rc_lif_taps tp = rc_lif_taps_of(L, ii[e]);
            const float v = vv[e];
            for (int dy = tp.dy0; dy < tp.dy1; dy++)
                for (int dx = tp.dx0; dx < tp.dx1; dx++) {
                    const int g = tp.g0 - dy * L->wout - dx;
                    if (!P->gnz[g]) continue;
                    float *w = dW + (tp.wrow + (size_t)(dy * L->k + dx)) * (size_t)co;
                    const float *d = dI + (size_t)g * co;
                    for (int c = 0; c < co; c++) w[c] += v * d[c];
                }
        }
    } else if (P->gnz[0]) {
        const int no = L->cout, nin = (int)m->in_idx.n;
        const int *ii = m->in_idx.a;
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

void rc_lif_backward(rc_lif_sim *m, const float *PT, float *Gm, const rc_events *ev,
                     int tloss, const float *dz)
{
    rc_lif_replay(m, tloss);
    /* Layer by layer from the top: a layer's δu at every step needs only δo
     * from the layer above, so each layer's δo below is one batch of products
     * over all its steps. */
    for (int p = m->np - 1; p >= 0; p--) {
        lifpop *P = &m->pop[p];
        memset(P->dcar, 0, (size_t)P->N * sizeof *P->dcar);
        const rc_lif_layer *L = &m->s.L[P->layer];
        for (int t = tloss; t >= 0; t--) {
            if (L->rec || L->li) rc_lif_rec_du(m, p, t, tloss, dz, PT);
            else pop_du(m, p, t, tloss, dz);
            pop_dweights(m, p, t, Gm, ev);
            rc_lif_rec_dweights(m, p, t, Gm);
        }
        if (p > 0) below(m, p, tloss, PT);
    }
}
