/* lstm.h — one LSTM layer, stepped over a compacted set of active examples.
 *
 * Equations (PyTorch's nn.LSTM, gate order i, f, g, o):
 *   a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (4H)
 *   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
 *   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 *
 * Layout. Hidden units are grouped in tiles of RC_LSTM_TILE units; the 4H gate
 * rows are stored tile by tile, and within a tile gate by gate:
 *   row(u, gate) = 4·TILE·k + gate·w_k + (u − TILE·k),  k = u / TILE,
 * where w_k is the tile's width (TILE, or less for the last tile). A tile's four
 * gates are thus one contiguous block of 4·w_k rows. Tiles are the unit of
 * work: a thread owns a contiguous range of tiles. The recurrent products
 * (forward, ∂h, ∂W_h) run as one rc_gemm over the thread's tiles: rc_gemm
 * computes every element the same way whatever the call's shape
 * (models/gemm.h), which is what makes results bit-identical for any number
 * of threads. The dense-input products (speech) stay one OpenBLAS sgemm per
 * tile, a shape that does not depend on the thread count.
 *
 *   w_ih  (nin, 4H)   input weights, one contiguous 4H row per input channel,
 *                     so an event adds one contiguous column of the gates
 *   w_hh  (4H, H)     recurrent weights, rows in tiled order
 *   b_ih, b_hh (4H)   biases in tiled order
 * Activations per step, n = active rows:
 *   act (n, 4H) gate activations i,f,g,o (tiled order)   c, h (n, H)
 *
 * Every function works on the tiles [k0, k1) only. Backward functions
 * accumulate into weight gradients (+=) and overwrite per-step gradients. */
#ifndef RC_LSTM_H
#define RC_LSTM_H

#include "models/step_input.h"

#define RC_LSTM_TILE 16

static inline int rc_lstm_ntiles(int H) { return (H + RC_LSTM_TILE - 1) / RC_LSTM_TILE; }
static inline int rc_lstm_tile_u0(int k) { return k * RC_LSTM_TILE; }
static inline int rc_lstm_tile_w(int H, int k)
{
    int w = H - k * RC_LSTM_TILE;
    return w < RC_LSTM_TILE ? w : RC_LSTM_TILE;
}
/* Tiled row of gate g (0=i,1=f,2=g,3=o) of hidden unit u. */
static inline int rc_lstm_row(int H, int g, int u)
{
    int k = u / RC_LSTM_TILE;
    return 4 * RC_LSTM_TILE * k + g * rc_lstm_tile_w(H, k) + (u - k * RC_LSTM_TILE);
}

/* w_hhT (H, 4H) = w_hhᵀ for the gate rows of tiles [k0, k1) (columns of
 * w_hhT; the others are not touched). rc_lstm_forward reads it. */
void rc_lstm_transpose_w_hh(float *w_hhT, const float *w_hh, int H, int k0, int k1);

/* Forward one step. hp, cp: previous h and c of the same n rows (zeros at
 * t=0). hp = NULL means h_{t−1} = 0: the recurrent product is skipped.
 * w_hhT: w_hh transposed (rc_lstm_transpose_w_hh), own tiles' columns. */
void rc_lstm_forward(float *act, float *c, float *h,
                     const float *hp, const float *cp, const rc_step_input *in,
                     const float *w_ih, const float *w_hhT,
                     const float *b_ih, const float *b_hh,
                     int n, int H, int k0, int k1);

/* Delta LSTM (Neil et al. 2017), one step. The rows keep a gate memory M
 * (n, 4H), the biases plus every event received so far; only events update
 * it, each by its weight column times its difference:
 *   dlt != NULL: hidden events. Row r's units idx[r·H + q], q < cnt[r], send
 *       val[r·H + q] = dlt[r·H + unit] (h_{t−1} − ĥ); M += w_hh[:, unit] · dlt. w_hhT
 *       is w_hh transposed tile by tile: tile k (gate rows rb = 64k ..
 *       rb + nr) is the block at w_hhT + rb·H, (H, nr) row-major, so a
 *       unit's column within a tile is nr contiguous floats and a tile's
 *       whole block is contiguous (few pages, prefetchable).
 *       dense = 1 runs the same update as one sgemm per tile over dlt (zeros
 *       where no event; idx, cnt unused) — for steps with many events.
 *   dlt == NULL: the recurrent side is exact, act = w_hh h_{t−1} + M (hp =
 *       NULL: h_{t−1} = 0, no product).
 *   in_to_mem: the step's input events are input deltas (x_t − x̂): they are
 *       added to M. Otherwise the input is exact and added to act only
 *       (events, or the dense sgemm of in->x), as rc_lstm_forward does.
 * Then act = f(M + exact parts) as rc_lstm_forward. Own tiles only; each
 * element's sum runs in unit order (or the sgemm's order, per tile), so the
 * result does not depend on the thread count. */
typedef struct {
    float *mem;
    const float *dlt;
    const int32_t *idx;   /* (n, H) row r's event units, then ... */
    const float *val;     /* (n, H) ... their differences          */
    const int *cnt;
    int dense;
    const float *w_hhT;
    int in_to_mem;
} rc_lstm_delta;

void rc_lstm_forward_delta(float *act, float *c, float *h,
                           const float *hp, const float *cp, const rc_step_input *in,
                           const float *w_ih, const float *w_hh, const rc_lstm_delta *d,
                           int n, int H, int k0, int k1);

/* Backward through the gates of one step: given dh = ∂L/∂h_t and
 * dcn = ∂L/∂c_t arriving from step t+1, writes dgate = ∂L/∂a (n, 4H) and
 * dcp = ∂L/∂c_{t-1} (n, H), own tiles only. */
void rc_lstm_backward_gates(float *dgate, float *dcp,
                            const float *dh, const float *dcn,
                            const float *act, const float *c, const float *cp,
                            int n, int H, int k0, int k1);

/* dhp = ∂L/∂h_{t-1} for the own tiles' units: dgate (n, 4H) × w_hh[:, units].
 * Reads every row of dgate, so all threads' gates must be done (barrier). */
void rc_lstm_backward_dh(float *dhp, const float *dgate, const float *w_hh,
                         int n, int H, int k0, int k1);

/* Weight gradients over all N = Σ_t n_t cached rows at once:
 *   dw_hh += dgate_allᵀ × hp_all,  db += Σ dgate,
 * where rows [0, n0) (step 0: h_{t−1} = 0) add nothing to dw_hh and are
 * left out of its product (bit-identical: rc_gemm's chains start at +0),
 *   dw_ih[ch] += val · dgate row, for each input event of each row. */
void rc_lstm_backward_weights(float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                              const float *dgate_all, const float *hp_all,
                              const rc_step_input *in_all, int N, int n0, int H,
                              int k0, int k1);

#endif
