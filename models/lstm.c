/* lstm.c — LSTM forward/backward kernels over tiles (see lstm.h).
 *
 * Cost per step and active row: 4H·H multiply-accumulates for the recurrent
 * product (rc_gemm, models/gemm.h; none at step 0, where h_{t−1} = 0), 4H per
 * input event, O(H) elementwise. Backward doubles the dense part (dh and the
 * weight gradient; neither for step 0) and adds the events' outer products.
 * Steps with dense inputs (rc_step_input.x) run the input product and its
 * weight gradient as sgemm instead.
 * The elementwise loops are plain C in a fixed order; no -ffast-math. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "models/fastmath.h"
#include "models/gemm.h"
#include "models/lstm.h"
#include "models/lstm_gates.h"

/* One row's tile of w units: the gate pre-activations a (4w, gate-major)
 * become activations, then c and h. */
static inline __attribute__((always_inline)) void tile_cell(float *a, int w, const float *cpr, float *cr, float *hr)
{
    float *ai = a, *af = a + w, *ag = a + 2 * w, *ao = a + 3 * w;
    /* Gates i, f and o are contiguous: one sigmoid loop over 2w, one over w. */
    for (int j = 0; j < 2 * w; j++) ai[j] = rc_sigmoidf(ai[j]);
    for (int j = 0; j < w; j++) ao[j] = rc_sigmoidf(ao[j]);
    for (int j = 0; j < w; j++) ag[j] = rc_tanhf(ag[j]);
    for (int j = 0; j < w; j++) cr[j] = af[j] * cpr[j] + ai[j] * ag[j];
    for (int j = 0; j < w; j++) hr[j] = ao[j] * rc_tanhf(cr[j]);
}

/* tile_cell for a full tile (w = RC_LSTM_TILE): the same body, inlined with
 * a constant width and restrict pointers, so the loops compile to a few whole
 * vectors without run-time alias checks or remainder loops (same operations
 * on every element, so the same bits). */
static void tile_cell_full(float *restrict a, const float *restrict cpr, float *restrict cr, float *restrict hr)
{
    tile_cell(a, RC_LSTM_TILE, cpr, cr, hr);
}

static inline void cell(float *a, int w, const float *cpr, float *cr, float *hr)
{
    if (w == RC_LSTM_TILE) tile_cell_full(a, cpr, cr, hr);
    else tile_cell(a, w, cpr, cr, hr);
}

/* a[0..nr) += Σ_q val[q] · W[col[q]·ld + (0..nr)], events in order. A full
 * tile (nr = 64) keeps its 64 sums in eight 8-wide registers; each element
 * still gets the same separately rounded multiply and add in the same order
 * as the plain loop (C11 mode: no contraction into fma). */
typedef float rc_v8 __attribute__((vector_size(32)));
#define ACC8_LOAD(p)                                                                            \
    do {                                                                                        \
        memcpy(&s0, (p), 32); memcpy(&s1, (p) + 8, 32); memcpy(&s2, (p) + 16, 32);              \
        memcpy(&s3, (p) + 24, 32); memcpy(&s4, (p) + 32, 32); memcpy(&s5, (p) + 40, 32);        \
        memcpy(&s6, (p) + 48, 32); memcpy(&s7, (p) + 56, 32);                                  \
    } while (0)
#define ACC8_STORE(p)                                                                           \
    do {                                                                                        \
        memcpy((p), &s0, 32); memcpy((p) + 8, &s1, 32); memcpy((p) + 16, &s2, 32);              \
        memcpy((p) + 24, &s3, 32); memcpy((p) + 32, &s4, 32); memcpy((p) + 40, &s5, 32);        \
        memcpy((p) + 48, &s6, 32); memcpy((p) + 56, &s7, 32);                                  \
    } while (0)

static inline void scatter_cols(float *restrict a, int nr, int n, const int32_t *restrict col,
                                const float *restrict val, const float *restrict W, size_t ld)
{
    if (nr != 4 * RC_LSTM_TILE) {
        for (int q = 0; q < n; q++) {
            const float v = val[q], *restrict wc = W + (size_t)col[q] * ld;
            for (int j = 0; j < nr; j++) a[j] += v * wc[j];
        }
        return;
    }
    /* Eight named accumulators: as an array (acc[8] with an inner loop) gcc
     * kept them on the stack, a load-add-store per vector and event. */
    rc_v8 s0, s1, s2, s3, s4, s5, s6, s7;
    ACC8_LOAD(a);
    for (int q = 0; q < n; q++) {
        const float v = val[q], *wc = W + (size_t)col[q] * ld;
#define ADD_MUL(k) { rc_v8 w; memcpy(&w, wc + 8 * (k), sizeof w); s##k += v * w; }
        ADD_MUL(0) ADD_MUL(1) ADD_MUL(2) ADD_MUL(3) ADD_MUL(4) ADD_MUL(5) ADD_MUL(6) ADD_MUL(7)
#undef ADD_MUL
    }
    ACC8_STORE(a);
}

/* Adds row r's input events (columns of w_ih, tile rb..rb+nr) into a. */
static inline void add_input_events(float *a, const rc_step_input *in, int r, const float *w_ih, int G4, int rb, int nr)
{
    const int b = in->beg[r];
    scatter_cols(a, nr, in->end[r] - b, in->ch[r] + b, in->val[r] + b, w_ih + rb, (size_t)G4);
}

/* Gate rows [*rb, *rb + *nr) of tiles [k0, k1): one contiguous block. */
static inline void tile_rows(int H, int k0, int k1, int *rb, int *nr)
{
    *rb = 4 * RC_LSTM_TILE * k0;
    *nr = 4 * (rc_lstm_tile_u0(k1 - 1) + rc_lstm_tile_w(H, k1 - 1)) - *rb;
}

void rc_lstm_transpose_w_hh(float *w_hhT, const float *w_hh, int H, int k0, int k1)
{
    if (k1 <= k0) return;
    int RB, NR;
    tile_rows(H, k0, k1, &RB, &NR);
    rc_transpose(w_hhT + RB, (size_t)4 * H, w_hh + (size_t)RB * H, (size_t)H, (size_t)NR, (size_t)H);
}

void rc_lstm_forward(float *act, float *c, float *h,
                     const float *hp, const float *cp, const rc_step_input *in,
                     const float *w_ih, const float *w_hhT,
                     const float *b_ih, const float *b_hh,
                     int n, int H, int k0, int k1)
{
    const int G4 = 4 * H;
    if (k1 <= k0) return;
    /* Recurrent part of all the tiles at once (rc_gemm: the same bits
     * however the product is split): act[:, RB:RB+NR] = hp (n,H) ×
     * w_hhᵀ[:, RB:RB+NR]. hp == NULL (h_{t−1} = 0, step 0): the product
     * is +0 exactly (each chain starts at +0 and fma(±0, w, +0) = +0), so
     * writing +0 changes no bit and saves n·4H·H multiply-adds. */
    int RB, NR;
    tile_rows(H, k0, k1, &RB, &NR);
    if (n > 0 && hp)
        rc_gemm(n, NR, H, hp, (size_t)H, 1, w_hhT + RB, (size_t)G4, act + RB, (size_t)G4, 0);
    else
        for (int r = 0; r < n; r++) memset(act + (size_t)r * G4 + RB, 0, (size_t)NR * sizeof(float));
    for (int k = k0; k < k1; k++) {
        const int w = rc_lstm_tile_w(H, k), u0 = rc_lstm_tile_u0(k);
        const int rb = 4 * RC_LSTM_TILE * k, nr = 4 * w;
        /* Dense input: act[:, rb:rb+nr] += x (n, nin) × w_ih[:, rb:rb+nr]. */
        if (n > 0 && in->x)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, nr, in->nin, 1.0f,
                        in->x, in->nin, w_ih + rb, G4, 1.0f, act + rb, G4);
        for (int r = 0; r < n; r++) {
            float *a = act + (size_t)r * G4 + rb;
            for (int j = 0; j < nr; j++) a[j] += b_ih[rb + j] + b_hh[rb + j];
            /* Event-driven input: add the weight column of each event. */
            if (!in->x) add_input_events(a, in, r, w_ih, G4, rb, nr);
            cell(a, w, cp + (size_t)r * H + u0, c + (size_t)r * H + u0, h + (size_t)r * H + u0);
        }
    }
}

void rc_lstm_backward_gates(float *dgate, float *dcp,
                            const float *dh, const float *dcn,
                            const float *act, const float *c, const float *cp,
                            int n, int H, int k0, int k1)
{
    const int G4 = 4 * H;
    for (int k = k0; k < k1; k++) {
        const int w = rc_lstm_tile_w(H, k), u0 = rc_lstm_tile_u0(k);
        const int rb = 4 * RC_LSTM_TILE * k;
        for (int r = 0; r < n; r++) {
            const float *a = act + (size_t)r * G4 + rb;
            float *d = dgate + (size_t)r * G4 + rb;
            const size_t o = (size_t)r * H + u0;
            rc_lstm_gates_backward(w, a, a + w, a + 2 * w, a + 3 * w, c + o, cp + o, dh + o, dcn + o,
                                   d, d + w, d + 2 * w, d + 3 * w, dcp + o);
        }
    }
}

void rc_lstm_backward_dh(float *dhp, const float *dgate, const float *w_hh,
                         int n, int H, int k0, int k1)
{
    if (n <= 0 || k1 <= k0) return;
    /* Units [U0, U1) of all the tiles in one rc_gemm. */
    const int U0 = rc_lstm_tile_u0(k0), U1 = rc_lstm_tile_u0(k1 - 1) + rc_lstm_tile_w(H, k1 - 1);
    rc_gemm(n, U1 - U0, 4 * H, dgate, (size_t)4 * H, 1, w_hh + U0, (size_t)H, dhp + U0, (size_t)H, 0);
}

/* The input events of rows [0, N), grouped by channel: channel c's events
 * are (row[q], val[q]) for q in [off[c], off[c+1]), in (row, event) order. */
typedef struct {
    int *off;   /* (nin + 1) */
    int *row;   /* (events)  */
    float *val; /* (events)  */
} ev_by_channel;

static int group_events(ev_by_channel *g, const rc_step_input *in, int N)
{
    const int nin = in->nin;
    int64_t ne = 0;
    for (int r = 0; r < N; r++) ne += in->end[r] - in->beg[r];
    if (nin <= 0 || ne > INT32_MAX) return 0;
    g->off = calloc((size_t)nin + 1, sizeof *g->off);
    g->row = malloc((size_t)(ne ? ne : 1) * sizeof *g->row);
    g->val = malloc((size_t)(ne ? ne : 1) * sizeof *g->val);
    if (!g->off || !g->row || !g->val) goto fail;
    for (int r = 0; r < N; r++)
        for (int e = in->beg[r]; e < in->end[r]; e++) {
            const int32_t c = in->ch[r][e];
            if (c < 0 || c >= nin) goto fail;
            g->off[c + 1]++;
        }
    for (int c = 0; c < nin; c++) g->off[c + 1] += g->off[c];
    int *fill = malloc((size_t)nin * sizeof *fill);
    if (!fill) goto fail;
    memcpy(fill, g->off, (size_t)nin * sizeof *fill);
    for (int r = 0; r < N; r++)
        for (int e = in->beg[r]; e < in->end[r]; e++) {
            const int q = fill[in->ch[r][e]]++;
            g->row[q] = r;
            g->val[q] = in->val[r][e];
        }
    free(fill);
    return 1;
fail:
    free(g->off), free(g->row), free(g->val);
    return 0;
}

/* dw_ih[c, rb..rb+nr) += Σ val · dgate[row, rb..rb+nr) over channel c's
 * events. Each element gets the same separately rounded products and sums in
 * the same (row, event) order as one event at a time; a full tile (nr = 64)
 * keeps its 64 sums in registers instead of a load and store per event. */
static void scatter_grouped(float *dw_ih, const ev_by_channel *g, int nin, const float *dgate,
                            int G4, int rb, int nr)
{
    for (int c = 0; c < nin; c++) {
        const int q0 = g->off[c], q1 = g->off[c + 1];
        if (q0 == q1) continue;
        float *wc = dw_ih + (size_t)c * G4 + rb;
        if (nr != 4 * RC_LSTM_TILE) {
            for (int q = q0; q < q1; q++) {
                const float v = g->val[q], *d = dgate + (size_t)g->row[q] * G4 + rb;
                for (int j = 0; j < nr; j++) wc[j] += v * d[j];
            }
            continue;
        }
        rc_v8 s0, s1, s2, s3, s4, s5, s6, s7;
        ACC8_LOAD(wc);
        for (int q = q0; q < q1; q++) {
            const float v = g->val[q], *d = dgate + (size_t)g->row[q] * G4 + rb;
#define ADD_MUL(k) { rc_v8 w; memcpy(&w, d + 8 * (k), sizeof w); s##k += v * w; }
            ADD_MUL(0) ADD_MUL(1) ADD_MUL(2) ADD_MUL(3) ADD_MUL(4) ADD_MUL(5) ADD_MUL(6) ADD_MUL(7)
#undef ADD_MUL
        }
        ACC8_STORE(wc);
    }
}

void rc_lstm_backward_weights(float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                              const float *dgate_all, const float *hp_all,
                              const rc_step_input *in_all, int N, int n0, int H,
                              int k0, int k1)
{
    const int G4 = 4 * H;
    /* Without dense rows, the events are grouped by channel once for all
     * tiles (if that fails, the loop below adds them one at a time: same
     * result). */
    int any_dense = 0;
    if (in_all->x)
        for (int r = 0; r < N && !any_dense; r++) any_dense = in_all->xrow[r];
    ev_by_channel g = { 0 };
    const int grouped = !any_dense && k1 > k0 && N > 0 && group_events(&g, in_all, N);
    /* dw_hh of all the tiles' gate rows in one rc_gemm: += dgateᵀ × hp,
     * without the rows [0, n0) whose h_{t−1} is 0: in each element's chain
     * their terms are fma(d, 0, s) = s (s starts at +0), so leaving them out
     * changes no bit and saves n0·4H·H multiply-adds. */
    if (N > n0 && k1 > k0) {
        int RB, NR;
        tile_rows(H, k0, k1, &RB, &NR);
        rc_gemm(NR, H, N - n0, dgate_all + (size_t)n0 * G4 + RB, 1, (size_t)G4, hp_all + (size_t)n0 * H,
                (size_t)H, dw_hh + (size_t)RB * H, (size_t)H, 1);
    }
    for (int k = k0; k < k1; k++) {
        const int w = rc_lstm_tile_w(H, k);
        const int rb = 4 * RC_LSTM_TILE * k, nr = 4 * w;
        for (int r = 0; r < N; r++) {
            const float *d = dgate_all + (size_t)r * G4 + rb;
            for (int j = 0; j < nr; j++) {
                db_ih[rb + j] += d[j];
                db_hh[rb + j] += d[j];
            }
        }
        if (grouped) {
            scatter_grouped(dw_ih, &g, in_all->nin, dgate_all, G4, rb, nr);
            continue;
        }
        for (int r = 0; r < N; r++) {
            const float *d = dgate_all + (size_t)r * G4 + rb;
            if (in_all->x && in_all->xrow[r]) {
                /* A run of rows with dense inputs: dw_ih[:, tile] += xᵀ × dgate. */
                int r1 = r + 1;
                while (r1 < N && in_all->xrow[r1]) r1++;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in_all->nin, nr, r1 - r, 1.0f,
                            in_all->x + (size_t)r * in_all->nin, in_all->nin, d, G4, 1.0f,
                            dw_ih + rb, G4);
                r = r1 - 1;
                continue;
            }
            for (int e = in_all->beg[r]; e < in_all->end[r]; e++) {
                const float v = in_all->val[r][e];
                float *wc = dw_ih + (size_t)in_all->ch[r][e] * G4 + rb;
                for (int j = 0; j < nr; j++) wc[j] += v * d[j];
            }
        }
    }
    if (grouped) free(g.off), free(g.row), free(g.val);
}

/* scatter_cols with fused multiply-adds where the CPU has them (-march):
 * the hidden events' path is new, with no earlier results to keep bit for
 * bit; an fma halves its arithmetic. Same order of events. (Tried, when the
 * sums still lived on the stack: two independent sums, even and odd
 * events: no faster.) */
#ifdef __FMA__
#include <immintrin.h>
static inline void scatter_cols_fma(float *restrict a, int nr, int n, const int32_t *restrict col,
                                    const float *restrict val, const float *restrict W, size_t ld)
{
    if (nr != 4 * RC_LSTM_TILE) {
        for (int q = 0; q < n; q++) {
            const float v = val[q], *restrict wc = W + (size_t)col[q] * ld;
            for (int j = 0; j < nr; j++) a[j] = fmaf(v, wc[j], a[j]);
        }
        return;
    }
    rc_v8 s0, s1, s2, s3, s4, s5, s6, s7; /* named, as in scatter_cols */
    ACC8_LOAD(a);
    for (int q = 0; q < n; q++) {
        const __m256 v = _mm256_set1_ps(val[q]);
        const float *wc = W + (size_t)col[q] * ld;
#define FMA(k) s##k = (rc_v8)_mm256_fmadd_ps(v, _mm256_loadu_ps(wc + 8 * (k)), (__m256)s##k);
        FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7)
#undef FMA
    }
    ACC8_STORE(a);
}
#else
#define scatter_cols_fma scatter_cols
#endif

/* M += the hidden events of every row (tile rb..rb+nr). */
static void delta_hidden(const rc_lstm_delta *d, const float *w_hh, int n, int H, int rb, int nr)
{
    const int G4 = 4 * H;
    if (d->dense) {
        if (n > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, nr, H, 1.0f,
                        d->dlt, H, w_hh + (size_t)rb * H, H, 1.0f, d->mem + rb, G4);
        return;
    }
    /* Tile k's columns are one contiguous (H, nr) block of w_hhT. */
    const float *Wt = d->w_hhT + (size_t)rb * H;
    for (int r = 0; r < n; r++)
        scatter_cols_fma(d->mem + (size_t)r * G4 + rb, nr, d->cnt[r], d->idx + (size_t)r * H,
                         d->val + (size_t)r * H, Wt, (size_t)nr);
}

void rc_lstm_forward_delta(float *act, float *c, float *h,
                           const float *hp, const float *cp, const rc_step_input *in,
                           const float *w_ih, const float *w_hh, const rc_lstm_delta *d,
                           int n, int H, int k0, int k1)
{
    const int G4 = 4 * H;
    for (int k = k0; k < k1; k++) {
        const int w = rc_lstm_tile_w(H, k), u0 = rc_lstm_tile_u0(k);
        const int rb = 4 * RC_LSTM_TILE * k, nr = 4 * w;
        if (d->dlt) delta_hidden(d, w_hh, n, H, rb, nr);
        if (d->in_to_mem)
            for (int r = 0; r < n; r++) add_input_events(d->mem + (size_t)r * G4 + rb, in, r, w_ih, G4, rb, nr);
        /* act = exact recurrent product (if any) + M. */
        const int exact_rec = !d->dlt && hp && n > 0;
        if (exact_rec)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, nr, H, 1.0f,
                        hp, H, w_hh + (size_t)rb * H, H, 0.0f, act + rb, G4);
        for (int r = 0; r < n; r++) {
            float *a = act + (size_t)r * G4 + rb;
            const float *m = d->mem + (size_t)r * G4 + rb;
            if (exact_rec) for (int j = 0; j < nr; j++) a[j] += m[j];
            else memcpy(a, m, (size_t)nr * sizeof *a);
        }
        /* The exact input, as rc_lstm_forward adds it. */
        if (!d->in_to_mem && n > 0 && in->x)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, nr, in->nin, 1.0f,
                        in->x, in->nin, w_ih + rb, G4, 1.0f, act + rb, G4);
        for (int r = 0; r < n; r++) {
            float *a = act + (size_t)r * G4 + rb;
            if (!d->in_to_mem && !in->x) add_input_events(a, in, r, w_ih, G4, rb, nr);
            cell(a, w, cp + (size_t)r * H + u0, c + (size_t)r * H + u0, h + (size_t)r * H + u0);
        }
    }
}
