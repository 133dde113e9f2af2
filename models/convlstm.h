/* convlstm.h — one ConvLSTM layer (Shi et al. 2015), stepped over a compacted
 * set of active examples, with event-driven input.
 *
 * Equations (gate order i, f, g, o; stride 1, "same" zero padding k/2):
 *   a = conv(x_t, W_x) + conv(h_{t-1}, W_h) + b          (4C, Hh, Ww)
 *   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
 *   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 * This is PyTorch's usual ConvLSTM cell: one Conv2d(Cin + C, 4C, k, padding=k/2)
 * over the concatenation [x, h], whose weight (4C, Cin + C, k, k) is split here
 * into W_x = weight[:, :Cin] and W_h = weight[:, Cin:], and one bias.
 *
 * Sizes: P = Hh·Ww positions per map, KK = k·k (k odd), CKK = C·KK.
 * Parameters, PyTorch layout, output rows gate-major (row o = gate·C + ch):
 *   w_x (4C, Cin, k, k)   input weights
 *   w_h (4C, C, k, k)     recurrent weights; row o is CKK contiguous floats
 *   b   (4C)              bias
 * Activations per step, n = active rows (examples):
 *   act (n, 4C, Hh, Ww)   gate activations i, f, g, o, gate-major rows
 *   c, h (n, C, Hh, Ww)   cell and hidden state
 *
 * Input: events only, never dense frames. Row r of a step reads events
 * [beg[r], end[r]) of ch[r] / val[r] (rc_step_input, models/step_input.h), with
 * channel = cin·P + y·Ww + x. The input convolution scatters each event into
 * its k×k output neighbourhood: value · W_x[o, cin, kr, kc] is added at output
 * (y + k/2 − kr, x + k/2 − kc) where that lies inside the map. Channels must
 * be in [0, Cin·P) (not checked). Repeated channels add up.
 *
 * conv(h) is im2col (CKK, P) of each row's h_{t−1} followed by cblas_sgemm.
 *
 * Threads. The forward, ∂h_{t−1} and ∂W_h work on whole rows (a thread takes
 * a contiguous range of rows and computes all 4C gate rows of each), so the
 * products have M = 4C or CKK whatever the thread count. The elementwise
 * gate backward, ∂W_x and ∂b are split by hidden channels: channels are
 * grouped in tiles of RC_CONVLSTM_TILE, a thread owns tiles [k0, k1), i.e.
 * channels [k0·TILE, min(k1·TILE, C)) and all four gates of them. ∂W_h is
 * summed per fixed chunk of rows into its own buffer, and the chunks are
 * added in chunk order (see rc_convlstm_backward_wh_rows). Every sum thus
 * runs in an order that does not depend on the thread count — results are
 * bit-identical for any number of threads. Each thread passes its own
 * scratch buffer of rc_convlstm_scratch_floats() floats (contents on entry
 * do not matter; they are clobbered). OpenBLAS's own threading should be off
 * (openblas_set_num_threads(1)), as for lstm.h.
 *
 * Backward functions accumulate into weight gradients (+=) and overwrite
 * per-step gradients. A step's backward is, per thread:
 *   rc_convlstm_backward_gates (own channels)  — barrier —
 *   rc_convlstm_backward_dh    (own rows; reads all channels of them) — barrier —
 * and after the last step rc_convlstm_backward_wx (own channels) and
 * rc_convlstm_backward_wh_rows (per chunk of rows) over all cached rows. */
#ifndef RC_CONVLSTM_H
#define RC_CONVLSTM_H

#include <stddef.h>
#include <stdint.h>
#include "models/step_input.h"

#define RC_CONVLSTM_TILE 4

typedef struct {
    int C;      /* hidden channels                    */
    int Cin;    /* input channels                     */
    int Hh, Ww; /* map height and width (in = out)    */
    int k;      /* kernel size, odd (padding k/2)     */
} rc_convlstm_shape;

static inline int rc_convlstm_ntiles(int C) { return (C + RC_CONVLSTM_TILE - 1) / RC_CONVLSTM_TILE; }
static inline int rc_convlstm_tile_c0(int kt) { return kt * RC_CONVLSTM_TILE; }
static inline int rc_convlstm_tile_w(int C, int kt)
{
    int w = C - kt * RC_CONVLSTM_TILE;
    return w < RC_CONVLSTM_TILE ? w : RC_CONVLSTM_TILE;
}

/* Parameter counts: w_x, w_h and b. */
static inline size_t rc_convlstm_nwx(const rc_convlstm_shape *s)
{
    return (size_t)4 * (size_t)s->C * (size_t)s->Cin * (size_t)s->k * (size_t)s->k;
}
static inline size_t rc_convlstm_nwh(const rc_convlstm_shape *s)
{
    return (size_t)4 * (size_t)s->C * (size_t)s->C * (size_t)s->k * (size_t)s->k;
}
static inline size_t rc_convlstm_nb(const rc_convlstm_shape *s) { return (size_t)4 * (size_t)s->C; }

/* 1 if the shape is usable (all sizes positive, k odd), else 0. */
int rc_convlstm_shape_ok(const rc_convlstm_shape *s);

/* Floats of per-thread scratch every function below needs:
 *   C·KK·P     im2col of h_{t−1} (CKK, P), or its gradient
 * + 4·C·P      one row's pre-activations
 * (C = 20, k = 5, 28×28: 454 720 floats, 1.7 MiB). */
size_t rc_convlstm_scratch_floats(const rc_convlstm_shape *s);

/* PyTorch Conv2d initialisation of the concatenated conv: every entry of w_x,
 * w_h and b is U(−1/√fan_in, 1/√fan_in) with fan_in = (Cin + C)·k·k. Entry j
 * (flat PyTorch index within its tensor) is drawn from
 * rc_uniform(seed, RC_STREAM_INIT, tensor0 + {0: w_x, 1: w_h, 2: b}, j), so
 * pick tensor0 apart from the other layers' tensor ids. */
void rc_convlstm_init(float *w_x, float *w_h, float *b, const rc_convlstm_shape *s,
                      uint64_t seed, int tensor0);

/* Forward one step for rows [r0, r1), all channels. hp, cp (n, C, Hh, Ww):
 * previous h and c of the step's rows (zeros at t = 0). Writes act, c and h
 * of those rows. */
void rc_convlstm_forward(float *act, float *c, float *h,
                         const float *hp, const float *cp, const rc_step_input *in,
                         const float *w_x, const float *w_h, const float *b,
                         int r0, int r1, const rc_convlstm_shape *s, float *scratch);

/* Input convolution of one row's events, for the contiguous output rows
 * [o0, o1) of the 4C: out (o1 − o0, Hh, Ww) += conv(x, W_x)[o0:o1], x the
 * dense frame of the nev events (ch, val). Used by rc_convlstm_forward. */
void rc_convlstm_input_conv(float *out, const int32_t *ch, const float *val, int nev,
                            const float *w_x, const rc_convlstm_shape *s, int o0, int o1);

/* Backward through the gates of one step, own tiles: given dh = ∂L/∂h_t and
 * dcn = ∂L/∂c_t arriving from step t+1 (n, C, Hh, Ww), writes
 * dgate = ∂L/∂a (n, 4C, Hh, Ww; own gate rows) and dcp = ∂L/∂c_{t−1}
 * (n, C, Hh, Ww; own channels). act, c, cp: the step's forward values. */
void rc_convlstm_backward_gates(float *dgate, float *dcp,
                                const float *dh, const float *dcn,
                                const float *act, const float *c, const float *cp,
                                int n, const rc_convlstm_shape *s, int k0, int k1);

/* dhp = ∂L/∂h_{t−1} (n, C, Hh, Ww) for rows [r0, r1), all channels: the
 * transposed convolution of dgate (n, 4C, Hh, Ww) with W_h (sgemm into an
 * im2col-shaped buffer, then col2im). Reads every channel of dgate, so all
 * threads' rc_convlstm_backward_gates must be done (barrier). */
void rc_convlstm_backward_dh(float *dhp, const float *dgate, const float *w_h,
                             int r0, int r1, const rc_convlstm_shape *s, float *scratch);

/* Gradients of W_x and b for the own tiles' output rows over all N cached
 * rows (rows in any order; each row r is one example at one step):
 *   db[o]   += Σ_r Σ_positions dgate_all[r, o]
 *   dw_x[o] += for each event of row r: value · the k×k window of
 *              dgate_all[r, o] the event was scattered into.
 * dgate_all (N, 4C, Hh, Ww), in_all: the rows' events. */
void rc_convlstm_backward_wx(float *dw_x, float *db, const float *dgate_all,
                             const rc_step_input *in_all, int N,
                             const rc_convlstm_shape *s, int k0, int k1);

/* part (4C, C, k, k) += Σ_{r in [r0, r1)} dgate_all[r] ⋆ hp_all[r], the W_h
 * gradient of rows r0..r1−1 in row order (im2col + one sgemm per row; rows
 * with zero h_{t−1} add nothing and are skipped). hp_all (N, C, Hh, Ww) is
 * h_{t−1} of each row. For results independent of the thread count, sum
 * fixed chunks of rows into separate buffers and add the buffers in chunk
 * order (the engine uses RC_CONVLSTM_WH_CHUNK rows). */
#define RC_CONVLSTM_WH_CHUNK 8
void rc_convlstm_backward_wh_rows(float *part, const float *dgate_all, const float *hp_all,
                                  int r0, int r1, const rc_convlstm_shape *s, float *scratch);

/* Delta ConvLSTM (the ConvLSTM form of the delta LSTM, lstm.h), one step for
 * rows [r0, r1). Every example keeps a gate memory M, the biases plus every
 * event it received so far; only events update it. An event of hidden unit
 * q = ch·P + y·Ww + x (the layout of h) with difference v adds
 * v · W_h[:, ch, kr, kc] into the 4C gates at output (y + k/2 − kr,
 * x + k/2 − kc), for every tap whose output lies inside the map — the
 * scatter the exact input events take, with W_h for W_x. M is stored
 * position-major, (P, 4C) per example, so each tap adds one contiguous 4C
 * column of the transposed kernel (rc_convlstm_transpose).
 *   dlt != NULL: row r's hidden events are the non-zeros of dlt row r
 *       (h_{t−1} − ĥ where a unit sent one), added in unit order; a row with
 *       at least dense_min of them adds them instead as im2col of dlt row
 *       r and one sgemm (M += colsᵀ W_hT), and dense[r] says which it took.
 *       The choice depends on the row's event count only.
 *   dlt == NULL: the recurrent side is exact: conv(hp, W_h) as in
 *       rc_convlstm_forward (hp = h_{t−1}), added to M's.
 *   in_to_mem: the step's input events are input deltas (x_t − x̂), added
 *       to M through w_xT. Otherwise the input is exact: scattered into the
 *       pre-activations only (rc_convlstm_input_conv), as the exact path.
 * Then a = (exact recurrent part) + M (+ exact input), and the gates, c and h
 * as rc_convlstm_forward (the biases are in M). Each row is computed whole,
 * in a fixed order, by one call: the result does not depend on the threads. */
typedef struct {
    float *mem;            /* (B, P, 4C) M of every example of the batch      */
    const int *slot;       /* (n) the example (row of mem) of each step row   */
    int init;              /* 1 (step 0): M = the biases before the events    */
    const float *b;        /* (4C) the biases                                 */
    const float *dlt;      /* (n, C, Hh, Ww) hidden events, or NULL           */
    const float *w_hT;     /* (C·KK, 4C) w_h transposed (dlt != NULL)          */
    const float *w_xT;     /* (Cin·KK, 4C) w_x transposed (in_to_mem)          */
    int in_to_mem;
    int dense_min;         /* ≥ 1                                             */
    unsigned char *dense;  /* (n) out: 1 where a row's events ran as sgemm    */
} rc_convlstm_delta;

void rc_convlstm_forward_delta(float *act, float *c, float *h,
                               const float *hp, const float *cp, const rc_step_input *in,
                               const float *w_x, const float *w_h, const rc_convlstm_delta *d,
                               int r0, int r1, const rc_convlstm_shape *s, float *scratch);

/* wT (nch·KK, 4C) = wᵀ for w (4C, nch, k, k) (w_x: nch = Cin; w_h: nch = C),
 * rows [j0, j1) of wT only (threads split the rows). */
void rc_convlstm_transpose(float *wT, const float *w, int nch, int j0, int j1, const rc_convlstm_shape *s);

#endif
