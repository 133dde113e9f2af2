/* convlstm.c — ConvLSTM forward/backward kernels over channel tiles (see
 * convlstm.h).
 *
 * Cost per step and active row: 4C·CKK·P multiply-accumulates for conv(h)
 * (im2col, then one sgemm of M = 4·w, N = P, K = CKK per tile), 4C·KK per
 * input event, O(C·P) elementwise. Backward: ∂h_{t−1} is one sgemm per tile
 * (M = w·KK, N = P, K = 4C) plus col2im; ∂W_h one sgemm per tile and row
 * (M = 4·w, N = CKK, K = P). Same MAC count as the forward each.
 *
 * Gate rows are gate-major (o = g·C + ch), so a tile's four gates are four
 * blocks of w rows, C rows apart. To keep M = 4·w (a product with M = w runs
 * at half the speed), the forward packs the tile's W_h rows into scratch once
 * per call and writes pre-activations to a (4w, P) scratch block; ∂W_h packs
 * the tile's gradient rows and accumulates into a packed (4w, CKK) block that
 * is added to dw_h at the end. The elementwise loops are plain C in a fixed
 * order; no -ffast-math. */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "models/convlstm.h"
#include "models/fastmath.h"
#include "sim/rng.h"
#include "sim/status.h"

#define TILE RC_CONVLSTM_TILE

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

int rc_convlstm_shape_ok(const rc_convlstm_shape *s)
{
    return s->C > 0 && s->Cin > 0 && s->Hh > 0 && s->Ww > 0 && s->k > 0 && (s->k & 1);
}

/* Floats of the im2col region (also holds a tile's ∂im2col). */
static size_t cols_floats(const rc_convlstm_shape *s)
{
    return (size_t)imax(s->C, TILE) * (size_t)(s->k * s->k) * (size_t)(s->Hh * s->Ww);
}

size_t rc_convlstm_scratch_floats(const rc_convlstm_shape *s)
{
    RC_ASSERT(rc_convlstm_shape_ok(s));
    return cols_floats(s) + rc_convlstm_nwh(s) + (size_t)4 * TILE * (size_t)(s->Hh * s->Ww);
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
                         int n, const rc_convlstm_shape *s, int k0, int k1,
                         float *scratch)
{
    const int C = s->C, P = s->Hh * s->Ww;
    const size_t CKK = (size_t)C * (size_t)(s->k * s->k), CP = (size_t)C * P;
    if (n <= 0 || k0 >= k1) return;
    float *cols = scratch, *wp = cols + cols_floats(s), *z = wp + rc_convlstm_nwh(s);
    const int cbase = rc_convlstm_tile_c0(k0);
    /* Pack the own tiles' W_h rows: tile kt's 4w rows, gate by gate. */
    for (int kt = k0; kt < k1; kt++) {
        const int w = rc_convlstm_tile_w(C, kt), c0 = rc_convlstm_tile_c0(kt);
        float *wt = wp + (size_t)4 * (c0 - cbase) * CKK;
        for (int g = 0; g < 4; g++)
            memcpy(wt + (size_t)g * w * CKK, w_h + ((size_t)g * C + c0) * CKK,
                   (size_t)w * CKK * sizeof(float));
    }
    for (int r = 0; r < n; r++) {
        im2col(cols, hp + (size_t)r * CP, s, C);
        const int eb = in->beg[r], nev = in->end[r] - in->beg[r];
        const int32_t *ech = in->ch[r] + eb;
        const float *eval = in->val[r] + eb;
        for (int kt = k0; kt < k1; kt++) {
            const int w = rc_convlstm_tile_w(C, kt), c0 = rc_convlstm_tile_c0(kt);
            const float *wt = wp + (size_t)4 * (c0 - cbase) * CKK;
            /* z (4w, P) = packed W_h rows (4w, CKK) × cols (CKK, P). */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 4 * w, P, (int)CKK, 1.0f,
                        wt, (int)CKK, cols, P, 0.0f, z, P);
            if (nev > 0)
                for (int g = 0; g < 4; g++)
                    rc_convlstm_input_conv(z + (size_t)g * w * P, ech, eval, nev, w_x, s,
                                           g * C + c0, g * C + c0 + w);
            for (int j = 0; j < w; j++) {
                const int ch = c0 + j;
                float *a = act + ((size_t)r * 4 * C + ch) * P;
                const size_t o = (size_t)r * CP + (size_t)ch * P;
                gates_forward(P, z + (size_t)j * P, z + (size_t)(w + j) * P,
                              z + (size_t)(2 * w + j) * P, z + (size_t)(3 * w + j) * P,
                              b[ch], b[C + ch], b[2 * C + ch], b[3 * C + ch], cp + o,
                              a, a + CP, a + 2 * CP, a + 3 * CP, c + o, h + o);
            }
        }
    }
}

/* One channel of one row (as gates_row_backward in lstm.c, over P positions). */
static void gates_backward(int P, const float *restrict ai, const float *restrict af,
                           const float *restrict ag, const float *restrict ao,
                           const float *restrict cr, const float *restrict cpr,
                           const float *restrict dhr, const float *restrict dcnr,
                           float *restrict di, float *restrict df, float *restrict dg,
                           float *restrict dO, float *restrict dcpr)
{
    for (int p = 0; p < P; p++) {
        const float tc = rc_tanhf(cr[p]);
        const float dc = dcnr[p] + dhr[p] * ao[p] * (1.0f - tc * tc);
        di[p] = dc * ag[p] * ai[p] * (1.0f - ai[p]);
        df[p] = dc * cpr[p] * af[p] * (1.0f - af[p]);
        dg[p] = dc * ai[p] * (1.0f - ag[p] * ag[p]);
        dO[p] = dhr[p] * tc * ao[p] * (1.0f - ao[p]);
        dcpr[p] = dc * af[p];
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
            gates_backward(P, a, a + CP, a + 2 * CP, a + 3 * CP, c + o, cp + o, dh + o, dcn + o,
                           d, d + CP, d + 2 * CP, d + 3 * CP, dcp + o);
        }
}

void rc_convlstm_backward_dh(float *dhp, const float *dgate, const float *w_h,
                             int n, const rc_convlstm_shape *s, int k0, int k1,
                             float *scratch)
{
    const int C = s->C, P = s->Hh * s->Ww, KK = s->k * s->k;
    const size_t CKK = (size_t)C * KK, CP = (size_t)C * P;
    float *dcols = scratch;
    for (int r = 0; r < n; r++)
        for (int kt = k0; kt < k1; kt++) {
            const int w = rc_convlstm_tile_w(C, kt), c0 = rc_convlstm_tile_c0(kt);
            /* dcols (w·KK, P) = W_h[:, c0·KK : (c0+w)·KK]ᵀ × dgate_r (4C, P). */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w * KK, P, 4 * C, 1.0f,
                        w_h + (size_t)c0 * KK, (int)CKK, dgate + (size_t)r * 4 * CP, P,
                        0.0f, dcols, P);
            col2im(dhp + (size_t)r * CP + (size_t)c0 * P, dcols, s, w);
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

void rc_convlstm_backward_weights(float *dw_x, float *dw_h, float *db,
                                  const float *dgate_all, const float *hp_all,
                                  const rc_step_input *in_all, int N,
                                  const rc_convlstm_shape *s, int k0, int k1,
                                  float *scratch)
{
    const int C = s->C, Cin = s->Cin, k = s->k, KK = k * k, Ww = s->Ww, P = s->Hh * s->Ww;
    const size_t CKK = (size_t)C * KK, CP = (size_t)C * P;
    if (N <= 0 || k0 >= k1) return;
    float *cols = scratch, *acc = cols + cols_floats(s), *dgp = acc + rc_convlstm_nwh(s);
    const int cbase = rc_convlstm_tile_c0(k0), ch1 = imin(rc_convlstm_tile_c0(k1), C);
    memset(acc, 0, (size_t)4 * (ch1 - cbase) * CKK * sizeof(float));
    for (int r = 0; r < N; r++) {
        const float *dg = dgate_all + (size_t)r * 4 * CP;
        im2col(cols, hp_all + (size_t)r * CP, s, C);
        const int eb = in_all->beg[r], ee = in_all->end[r];
        for (int kt = k0; kt < k1; kt++) {
            const int w = rc_convlstm_tile_w(C, kt), c0 = rc_convlstm_tile_c0(kt);
            for (int g = 0; g < 4; g++)
                memcpy(dgp + (size_t)g * w * P, dg + ((size_t)g * C + c0) * P,
                       (size_t)w * P * sizeof(float));
            /* acc_tile (4w, CKK) += dgate tile (4w, P) × colsᵀ (P, CKK). */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 4 * w, (int)CKK, P, 1.0f,
                        dgp, P, cols, P, 1.0f, acc + (size_t)4 * (c0 - cbase) * CKK, (int)CKK);
            for (int g = 0; g < 4; g++)
                for (int j = 0; j < w; j++) {
                    const int o = g * C + c0 + j;
                    db[o] += sum_fixed(P, dg + (size_t)o * P);
                }
            /* ∂W_x: each event's k×k window of the gate gradient, per row. */
            for (int e = eb; e < ee; e++) {
                const event_window ew = event_decode(in_all->ch[r][e], s);
                const float v = in_all->val[r][e];
                for (int g = 0; g < 4; g++)
                    for (int j = 0; j < w; j++) {
                        const int o = g * C + c0 + j;
                        float *wr = dw_x + ((size_t)o * Cin + ew.ci) * KK;
                        const float *src = dg + (size_t)o * P;
                        for (int kr = ew.kr0; kr < ew.kr1; kr++)
                            for (int kc = ew.kc0; kc < ew.kc1; kc++)
                                wr[kr * k + kc] += v * src[ew.base - kr * Ww - kc];
                    }
            }
        }
    }
    for (int kt = k0; kt < k1; kt++) {
        const int w = rc_convlstm_tile_w(C, kt), c0 = rc_convlstm_tile_c0(kt);
        const float *at = acc + (size_t)4 * (c0 - cbase) * CKK;
        for (int g = 0; g < 4; g++)
            add_to((int)((size_t)w * CKK), dw_h + ((size_t)g * C + c0) * CKK, at + (size_t)g * w * CKK);
    }
}
