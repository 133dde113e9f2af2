/* convlstm.c — ConvLSTM forward/backward kernels (see convlstm.h).
 *
 * Cost per step and active row: 4C·CKK·P multiply-accumulates for conv(h)
 * (im2col, then one sgemm of M = 4C, N = P, K = CKK per row), 4C·KK per
 * input event, O(C·P) elementwise. Backward: ∂h_{t−1} is one sgemm per row
 * (M = CKK, N = P, K = 4C) plus col2im; ∂W_h one sgemm per row (M = 4C,
 * N = CKK, K = P). Same MAC count as the forward each. Rows whose h_{t−1} is
 * zero (t = 0) skip conv(h) and their ∂W_h product.
 *
 * Delta path (rc_convlstm_forward_delta): 4C·KK per hidden or input event
 * (fewer at the map's border), or, for a row with many hidden events, the
 * same im2col + sgemm as conv(h) over their changes; plus a transpose of the
 * row's gate memory into the pre-activations (4C·P).
 *
 * Each row is computed whole (all 4C gate rows) by one call, so the sgemm
 * shapes and every sum's order are fixed by the row alone: splitting rows
 * across threads changes no bit. The elementwise loops are plain C in a
 * fixed order; no -ffast-math. */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "models/convlstm.h"
#include "models/fastmath.h"
#include "models/lstm_gates.h"
#include "base/rng.h"
#include "base/status.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

int rc_convlstm_shape_ok(const rc_convlstm_shape *s)
{
    return s->C > 0 && s->Cin > 0 && s->Hh > 0 && s->Ww > 0 && s->k > 0 && (s->k & 1);
}

/* Floats of the im2col region (also holds ∂im2col). */
static size_t cols_floats(const rc_convlstm_shape *s)
{
    return (size_t)s->C * (size_t)(s->k * s->k) * (size_t)(s->Hh * s->Ww);
}

size_t rc_convlstm_scratch_floats(const rc_convlstm_shape *s)
{
    RC_ASSERT(rc_convlstm_shape_ok(s));
    return cols_floats(s) + (size_t)4 * s->C * (size_t)(s->Hh * s->Ww);
}

void rc_convlstm_init(float *w_x, float *w_h, float *b, const rc_convlstm_shape *s,
                      uint64_t seed, int tensor0)
{
    RC_ASSERT(rc_convlstm_shape_ok(s));
    const double bound = 1.0 / sqrt((double)(s->Cin + s->C) * (double)(s->k * s->k));
    const uint64_t t0 = (uint64_t)tensor0;
    const size_t nx = rc_convlstm_nwx(s), nh = rc_convlstm_nwh(s), nb = rc_convlstm_nb(s);
    for (size_t j = 0; j < nx; j++)
        w_x[j] = (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, t0, j) - 1.0) * bound);
    for (size_t j = 0; j < nh; j++)
        w_h[j] = (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, t0 + 1, j) - 1.0) * bound);
    for (size_t j = 0; j < nb; j++)
        b[j] = (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, t0 + 2, j) - 1.0) * bound);
}

/* Range [lo, hi) of x in [0, Ww) with x + dx in [0, Ww) (empty: lo == hi). */
static inline void shifted_range(int Ww, int dx, int *lo, int *hi)
{
    *lo = imin(imax(0, -dx), Ww);
    *hi = imax(imin(Ww, Ww - dx), *lo);
}

/* cols (C·KK, P): row (ci, kr, kc), column y·Ww + x holds
 * x_in[ci, y + kr − pad, x + kc − pad], zero outside the map. */
static void im2col(float *restrict cols, const float *restrict x, const rc_convlstm_shape *s, int nch)
{
    const int Hh = s->Hh, Ww = s->Ww, k = s->k, pad = k / 2, P = Hh * Ww;
    for (int ci = 0; ci < nch; ci++)
        for (int kr = 0; kr < k; kr++)
            for (int kc = 0; kc < k; kc++) {
                float *dst = cols + ((size_t)(ci * k + kr) * k + kc) * P;
                const float *src = x + (size_t)ci * P;
                const int dy = kr - pad, dx = kc - pad;
                int lo, hi;
                shifted_range(Ww, dx, &lo, &hi);
                for (int y = 0; y < Hh; y++) {
                    float *d = dst + (size_t)y * Ww;
                    const int yy = y + dy;
                    if (yy < 0 || yy >= Hh) {
                        memset(d, 0, (size_t)Ww * sizeof(float));
                        continue;
                    }
                    if (lo > 0) memset(d, 0, (size_t)lo * sizeof(float));
                    memcpy(d + lo, src + (size_t)yy * Ww + lo + dx, (size_t)(hi - lo) * sizeof(float));
                    if (hi < Ww) memset(d + hi, 0, (size_t)(Ww - hi) * sizeof(float));
                }
            }
}

/* 1 if the m floats are all +0 or −0. A row whose h_{t−1} is zero (every
 * row at t = 0) skips conv(h) and its ∂W_h product: both would add exact
 * zeros, so skipping changes no bit of the result. */
static int all_zero(size_t m, const float *a)
{
    for (size_t j = 0; j < m; j++)
        if (a[j] != 0.0f) return 0;
    return 1;
}

static void add_to(int m, float *restrict d, const float *restrict a)
{
    for (int j = 0; j < m; j++) d[j] += a[j];
}

/* Transpose of im2col for nch channels: x (nch, P) = Σ over (kr, kc) of the
 * shifted rows of dcols (nch·KK, P), in (ci, kr, kc) order. Overwrites x. */
static void col2im(float *x, const float *dcols, const rc_convlstm_shape *s, int nch)
{
    const int Hh = s->Hh, Ww = s->Ww, k = s->k, pad = k / 2, P = Hh * Ww;
    memset(x, 0, (size_t)nch * P * sizeof(float));
    for (int ci = 0; ci < nch; ci++)
        for (int kr = 0; kr < k; kr++)
            for (int kc = 0; kc < k; kc++) {
                const float *src = dcols + ((size_t)(ci * k + kr) * k + kc) * P;
                float *dst = x + (size_t)ci * P;
                const int dy = kr - pad, dx = kc - pad;
                int lo, hi;
                shifted_range(Ww, dx, &lo, &hi);
                const int y0 = imax(0, -dy), y1 = imin(Hh, Hh - dy);
                for (int y = y0; y < y1; y++)
                    add_to(hi - lo, dst + (size_t)(y + dy) * Ww + lo + dx, src + (size_t)y * Ww + lo);
            }
}

/* Event (channel q) → input channel ci, kernel-row range [kr0, kr1) and
 * column range [kc0, kc1) that land inside the map, and base = output index
 * at kr = kc = 0: output (y0 + pad − kr, x0 + pad − kc) = base − kr·Ww − kc. */
typedef struct { int ci, kr0, kr1, kc0, kc1, base; } event_window;

static inline event_window event_decode(int q, const rc_convlstm_shape *s)
{
    const int Hh = s->Hh, Ww = s->Ww, k = s->k, pad = k / 2, P = Hh * Ww;
    event_window e;
    e.ci = q / P;
    const int rem = q - e.ci * P, y0 = rem / Ww, x0 = rem - y0 * Ww;
    /* y0 + pad − kr in [0, Hh)  ⇔  kr in (y0 + pad − Hh, y0 + pad]. */
    e.kr0 = imax(0, y0 + pad - Hh + 1);
    e.kr1 = imin(k, y0 + pad + 1);
    e.kc0 = imax(0, x0 + pad - Ww + 1);
    e.kc1 = imin(k, x0 + pad + 1);
    e.base = (y0 + pad) * Ww + x0 + pad;
    return e;
}

void rc_convlstm_input_conv(float *out, const int32_t *ch, const float *val, int nev,
                            const float *w_x, const rc_convlstm_shape *s, int o0, int o1)
{
    const int Cin = s->Cin, k = s->k, KK = k * k, Ww = s->Ww, P = s->Hh * s->Ww;
    for (int e = 0; e < nev; e++) {
        const event_window ew = event_decode(ch[e], s);
        const float v = val[e];
        for (int o = o0; o < o1; o++) {
            const float *wr = w_x + ((size_t)o * Cin + ew.ci) * KK;
            float *dst = out + (size_t)(o - o0) * P;
            for (int kr = ew.kr0; kr < ew.kr1; kr++) {
                const int base = ew.base - kr * Ww;
                const float *wk = wr + kr * k;
                for (int kc = ew.kc0; kc < ew.kc1; kc++) dst[base - kc] += v * wk[kc];
            }
        }
    }
}

/* One channel of one row: bias, nonlinearities, c and h over P positions. */
static void gates_forward(int P, const float *restrict zi, const float *restrict zf,
                          const float *restrict zg, const float *restrict zo,
                          float bi, float bf, float bg, float bo, const float *restrict cpr,
                          float *restrict ai, float *restrict af, float *restrict ag,
                          float *restrict ao, float *restrict cr, float *restrict hr)
{
    for (int p = 0; p < P; p++) {
        const float i = rc_sigmoidf(zi[p] + bi), f = rc_sigmoidf(zf[p] + bf);
        const float g = rc_tanhf(zg[p] + bg), o = rc_sigmoidf(zo[p] + bo);
        const float cv = f * cpr[p] + i * g;
        ai[p] = i;
        af[p] = f;
        ag[p] = g;
        ao[p] = o;
        cr[p] = cv;
        hr[p] = o * rc_tanhf(cv);
    }
}

void rc_convlstm_forward(float *act, float *c, float *h,
                         const float *hp, const float *cp, const rc_step_input *in,
                         const float *w_x, const float *w_h, const float *b,
                         int r0, int r1, const rc_convlstm_shape *s, float *scratch)
{
    const int C = s->C, P = s->Hh * s->Ww;
    const size_t CKK = (size_t)C * (size_t)(s->k * s->k), CP = (size_t)C * P;
    float *cols = scratch, *z = cols + cols_floats(s);
    for (int r = r0; r < r1; r++) {
        if (all_zero(CP, hp + (size_t)r * CP)) {
            memset(z, 0, (size_t)4 * CP * sizeof(float));
        } else {
            im2col(cols, hp + (size_t)r * CP, s, C);
            /* z (4C, P) = W_h (4C, CKK) × cols (CKK, P). */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 4 * C, P, (int)CKK, 1.0f,
                        w_h, (int)CKK, cols, P, 0.0f, z, P);
        }
        const int eb = in->beg[r], nev = in->end[r] - in->beg[r];
        if (nev > 0) rc_convlstm_input_conv(z, in->ch[r] + eb, in->val[r] + eb, nev, w_x, s, 0, 4 * C);
        float *a = act + (size_t)r * 4 * CP;
        for (int ch = 0; ch < C; ch++) {
            const size_t o = (size_t)r * CP + (size_t)ch * P, zc = (size_t)ch * P;
            gates_forward(P, z + zc, z + CP + zc, z + 2 * CP + zc, z + 3 * CP + zc,
                          b[ch], b[C + ch], b[2 * C + ch], b[3 * C + ch], cp + o,
                          a + zc, a + CP + zc, a + 2 * CP + zc, a + 3 * CP + zc, c + o, h + o);
        }
    }
}

void rc_convlstm_backward_gates(float *dgate, float *dcp,
                                const float *dh, const float *dcn,
                                const float *act, const float *c, const float *cp,
                                int n, const rc_convlstm_shape *s, int k0, int k1)
{
    const int C = s->C, P = s->Hh * s->Ww;
    const size_t CP = (size_t)C * P;
    const int ch0 = imin(rc_convlstm_tile_c0(k0), C), ch1 = imin(rc_convlstm_tile_c0(k1), C);
    for (int r = 0; r < n; r++)
        for (int ch = ch0; ch < ch1; ch++) {
            const size_t ga = ((size_t)r * 4 * C + ch) * P, o = (size_t)r * CP + (size_t)ch * P;
            const float *a = act + ga;
            float *d = dgate + ga;
            rc_lstm_gates_backward(P, a, a + CP, a + 2 * CP, a + 3 * CP, c + o, cp + o, dh + o, dcn + o,
                                   d, d + CP, d + 2 * CP, d + 3 * CP, dcp + o);
        }
}

void rc_convlstm_backward_dh(float *dhp, const float *dgate, const float *w_h,
                             int r0, int r1, const rc_convlstm_shape *s, float *scratch)
{
    const int C = s->C, P = s->Hh * s->Ww, KK = s->k * s->k;
    const size_t CKK = (size_t)C * KK, CP = (size_t)C * P;
    float *dcols = scratch;
    for (int r = r0; r < r1; r++) {
        /* dcols (CKK, P) = W_hᵀ (CKK, 4C) × dgate_r (4C, P). */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CKK, P, 4 * C, 1.0f,
                    w_h, (int)CKK, dgate + (size_t)r * 4 * CP, P, 0.0f, dcols, P);
        col2im(dhp + (size_t)r * CP, dcols, s, C);
    }
}

/* Sum of m floats in a fixed order: 8 interleaved partial sums, then a
 * fixed tree (vectorises without reassociation by the compiler). */
static float sum_fixed(int m, const float *restrict a)
{
    float acc[8] = { 0 };
    int j = 0;
    for (; j + 8 <= m; j += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[j + l];
    for (int l = 0; j < m; j++, l++) acc[l] += a[j];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

void rc_convlstm_backward_wx(float *dw_x, float *db, const float *dgate_all,
                             const rc_step_input *in_all, int N,
                             const rc_convlstm_shape *s, int k0, int k1)
{
    const int C = s->C, Cin = s->Cin, k = s->k, KK = k * k, Ww = s->Ww, P = s->Hh * s->Ww;
    const size_t CP = (size_t)C * P;
    const int ch0 = imin(rc_convlstm_tile_c0(k0), C), ch1 = imin(rc_convlstm_tile_c0(k1), C);
    for (int r = 0; r < N; r++) {
        const float *dg = dgate_all + (size_t)r * 4 * CP;
        for (int g = 0; g < 4; g++)
            for (int ch = ch0; ch < ch1; ch++) {
                const int o = g * C + ch;
                db[o] += sum_fixed(P, dg + (size_t)o * P);
            }
        /* Each event's k×k window of the gate gradient. */
        for (int e = in_all->beg[r]; e < in_all->end[r]; e++) {
            const event_window ew = event_decode(in_all->ch[r][e], s);
            const float v = in_all->val[r][e];
            for (int g = 0; g < 4; g++)
                for (int ch = ch0; ch < ch1; ch++) {
                    const int o = g * C + ch;
                    float *wr = dw_x + ((size_t)o * Cin + ew.ci) * KK;
                    const float *src = dg + (size_t)o * P;
                    for (int kr = ew.kr0; kr < ew.kr1; kr++)
                        for (int kc = ew.kc0; kc < ew.kc1; kc++)
                            wr[kr * k + kc] += v * src[ew.base - kr * Ww - kc];
                }
        }
    }
}

void rc_convlstm_backward_wh_rows(float *part, const float *dgate_all, const float *hp_all,
                                  int r0, int r1, const rc_convlstm_shape *s, float *scratch)
{
    const int C = s->C, P = s->Hh * s->Ww;
    const size_t CKK = (size_t)C * (size_t)(s->k * s->k), CP = (size_t)C * P;
    float *cols = scratch;
    for (int r = r0; r < r1; r++) {
        const float *hp = hp_all + (size_t)r * CP;
        if (all_zero(CP, hp)) continue;
        im2col(cols, hp, s, C);
        /* part (4C, CKK) += dgate_r (4C, P) × colsᵀ (P, CKK). */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 4 * C, (int)CKK, P, 1.0f,
                    dgate_all + (size_t)r * 4 * CP, P, cols, P, 1.0f, part, (int)CKK);
    }
}

/* ---- delta ConvLSTM --------------------------------------------------------- */

void rc_convlstm_transpose(float *wT, const float *w, int nch, int j0, int j1, const rc_convlstm_shape *s)
{
    const int G = 4 * s->C;
    const size_t ld = (size_t)nch * (size_t)(s->k * s->k);
    for (int j = j0; j < j1; j++)
        for (int o = 0; o < G; o++) wT[(size_t)j * G + o] = w[(size_t)o * ld + j];
}

/* One event (channel q, value v) into m (P, 4C): for each tap inside the
 * map, the 4C column of wT (nch·KK, 4C) at (channel, kr, kc). Adjacent taps
 * of a kernel row touch adjacent positions: (kc1 − kc0)·4C contiguous floats. */
static void scatter_pm(float *restrict m, int q, float v, const float *restrict wT, const rc_convlstm_shape *s)
{
    const event_window ew = event_decode(q, s);
    const int G = 4 * s->C, k = s->k, Ww = s->Ww;
    const float *wc = wT + (size_t)ew.ci * (size_t)(k * k) * G;
    for (int kr = ew.kr0; kr < ew.kr1; kr++)
        for (int kc = ew.kc0; kc < ew.kc1; kc++) {
            float *restrict dst = m + (size_t)(ew.base - kr * Ww - kc) * G;
            const float *restrict w = wc + (size_t)(kr * k + kc) * G;
            for (int o = 0; o < G; o++) dst[o] += v * w[o];
        }
}

/* Row r's hidden events into m; returns 1 if they ran as one sgemm. */
static int delta_hidden_row(float *m, const float *dl, const rc_convlstm_delta *d, const rc_convlstm_shape *s,
                            float *cols)
{
    const int C = s->C, G = 4 * C, P = s->Hh * s->Ww, CP = C * P;
    int cnt = 0;
    for (int u = 0; u < CP; u++) cnt += dl[u] != 0.0f;
    if (cnt >= d->dense_min) {
        /* m (P, 4C) += colsᵀ (P, CKK) × W_hT (CKK, 4C); zeros where no event. */
        const int CKK = C * s->k * s->k;
        im2col(cols, dl, s, C);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, P, G, CKK, 1.0f, cols, P, d->w_hT, G, 1.0f, m, G);
        return 1;
    }
    for (int u = 0; u < CP; u++)
        if (dl[u] != 0.0f) scatter_pm(m, u, dl[u], d->w_hT, s);
    return 0;
}

/* z (4C, P) (+)= mᵀ, m (P, 4C); add = 0 overwrites. Blocks of 16 positions. */
static void add_transposed(float *restrict z, const float *restrict m, int P, int G, int add)
{
    for (int p0 = 0; p0 < P; p0 += 16) {
        const int p1 = imin(P, p0 + 16);
        for (int o = 0; o < G; o++) {
            float *zr = z + (size_t)o * P;
            if (add)
                for (int p = p0; p < p1; p++) zr[p] += m[(size_t)p * G + o];
            else
                for (int p = p0; p < p1; p++) zr[p] = m[(size_t)p * G + o];
        }
    }
}

void rc_convlstm_forward_delta(float *act, float *c, float *h,
                               const float *hp, const float *cp, const rc_step_input *in,
                               const float *w_x, const float *w_h, const rc_convlstm_delta *d,
                               int r0, int r1, const rc_convlstm_shape *s, float *scratch)
{
    const int C = s->C, G = 4 * C, P = s->Hh * s->Ww;
    const size_t CKK = (size_t)C * (size_t)(s->k * s->k), CP = (size_t)C * P, PG = (size_t)P * G;
    float *cols = scratch, *z = cols + cols_floats(s);
    RC_ASSERT(d->dense_min >= 1);
    for (int r = r0; r < r1; r++) {
        float *m = d->mem + (size_t)d->slot[r] * PG;
        if (d->init)
            for (int p = 0; p < P; p++) memcpy(m + (size_t)p * G, d->b, (size_t)G * sizeof(float));
        if (d->dlt) d->dense[r] = (unsigned char)delta_hidden_row(m, d->dlt + (size_t)r * CP, d, s, cols);
        const int eb = in->beg[r], nev = in->end[r] - in->beg[r];
        if (d->in_to_mem)
            for (int e = 0; e < nev; e++) scatter_pm(m, in->ch[r][eb + e], in->val[r][eb + e], d->w_xT, s);
        /* z = the exact recurrent conv (as rc_convlstm_forward) + M. */
        const int exact_rec = !d->dlt && !all_zero(CP, hp + (size_t)r * CP);
        if (exact_rec) {
            im2col(cols, hp + (size_t)r * CP, s, C);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, G, P, (int)CKK, 1.0f,
                        w_h, (int)CKK, cols, P, 0.0f, z, P);
        }
        add_transposed(z, m, P, G, exact_rec);
        if (!d->in_to_mem && nev > 0) rc_convlstm_input_conv(z, in->ch[r] + eb, in->val[r] + eb, nev, w_x, s, 0, G);
        float *a = act + (size_t)r * 4 * CP;
        for (int ch = 0; ch < C; ch++) {
            const size_t o = (size_t)r * CP + (size_t)ch * P, zc = (size_t)ch * P;
            gates_forward(P, z + zc, z + CP + zc, z + 2 * CP + zc, z + 3 * CP + zc, 0.0f, 0.0f, 0.0f, 0.0f, cp + o,
                          a + zc, a + CP + zc, a + 2 * CP + zc, a + 3 * CP + zc, c + o, h + o);
        }
    }
}
