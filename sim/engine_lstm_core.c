/* engine_lstm_core.c — what differs between the LSTM and the ConvLSTM in
 * the step loop of sim/engine_lstm.c: tiles and scratch, the forward and
 * backward kernels (models/lstm.h, models/convlstm.h), and how ∂W_h is summed
 * (LSTM: one sgemm per tile; ConvLSTM: fixed row chunks added in chunk order,
 * so the sum does not depend on the thread count). One table per core. */
#include <stdlib.h>
#include <string.h>
#include "models/convlstm.h"
#include "sim/engine_lstm.h"

void *rc_engine_xcalloc(size_t n, size_t sz, int *fail)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) *fail = 1;
    return p;
}

/* ---- the LSTM core -------------------------------------------------------- */

static int lstm_init(lstm_engine *e)
{
    int fail = 0;
    e->ntiles = rc_lstm_ntiles(e->H);
    e->tile_units = RC_LSTM_TILE;
    e->hev_macs = 4.0 * e->H;
    e->xd = rc_engine_xcalloc((size_t)e->base.B * (size_t)e->base.T * (size_t)e->nin, sizeof(float), &fail);
    e->wT = rc_engine_xcalloc((size_t)e->G4 * (size_t)e->H, sizeof(float), &fail);
    return fail;
}

static void lstm_fwd(lstm_engine *e, int ith, int nth, int r0, int n, const rc_step_input *in, int k0, int k1)
{
    (void)nth;
    const rc_net *net = e->base.net;
    const float *P = net->params;
    const int H = e->H, G4 = e->G4;
    /* r0 == 0 is step 0 (every later step starts after step 0's n > 0
     * rows), where h_{−1} = 0: NULL skips the recurrent product. */
    const float *hp = r0 == 0 ? NULL : e->hp_all + (size_t)r0 * H;
    if (e->dx_on || e->dh_on) {
        const int B = e->base.B;
        const rc_lstm_delta d = { e->mcur, e->dh_on ? e->dlt : NULL, e->evidx + (size_t)ith * B * H,
                                  e->evval + (size_t)ith * B * H, e->evcnt + (size_t)ith * B, e->dh_on && e->tdense[ith], e->whT, e->dx_on };
        rc_lstm_forward_delta(e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H, e->hcur,
                              hp, e->cp_all + (size_t)r0 * H, in, P + net->w_ih, P + net->w_hh, &d, n, H, k0, k1);
        return;
    }
    /* Step 0 (no recurrent product): this batch's w_hhᵀ, own tiles only,
     * which are all this thread reads of it. */
    if (r0 == 0) rc_lstm_transpose_w_hh(e->wT, P + net->w_hh, H, k0, k1);
    rc_lstm_forward(e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H, e->hcur,
                    hp, e->cp_all + (size_t)r0 * H, in,
                    P + net->w_ih, e->wT, P + net->b_ih, P + net->b_hh, n, H, k0, k1);
}

static void lstm_bwd_gates(lstm_engine *e, int r0, int n, int k0, int k1)
{
    const int H = e->H, G4 = e->G4;
    rc_lstm_backward_gates(e->dgate_all + (size_t)r0 * G4, e->dcp, e->dh, e->dcn,
                           e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H,
                           e->cp_all + (size_t)r0 * H, n, H, k0, k1);
}

static void lstm_bwd_dh(lstm_engine *e, int ith, int nth, int r0, int n, int k0, int k1)
{
    (void)ith, (void)nth;
    rc_lstm_backward_dh(e->dhp, e->dgate_all + (size_t)r0 * e->G4, e->base.net->params + e->base.net->w_hh,
                        n, e->H, k0, k1);
    /* dhp and dcp of own units are read by this same thread next; no barrier. */
}

static void lstm_bwd_weights(lstm_engine *e, int ith, int nth, int N, const rc_step_input *all, int k0, int k1)
{
    (void)ith, (void)nth;
    const rc_net *net = e->base.net;
    float *Gr = net->grads;
    rc_lstm_backward_weights(Gr + net->w_ih, Gr + net->w_hh, Gr + net->b_ih, Gr + net->b_hh,
                             e->dgate_all, e->hp_all, all, N, e->nrow[0], e->H, k0, k1);
}

const lstm_core rc_engine_core_lstm = { lstm_init, lstm_fwd, lstm_bwd_gates, lstm_bwd_dh, lstm_bwd_weights,
                                        rc_lstm_delta_alloc, rc_lstm_delta_start_lstm, rc_lstm_delta_step, 1, 0, "LSTM" };

/* ---- the ConvLSTM core ---------------------------------------------------- */

static int conv_init(lstm_engine *e)
{
    int fail = 0;
    const rc_convlstm_shape *cs = &e->base.net->s.conv;
    e->ntiles = rc_convlstm_ntiles(cs->C);
    e->tile_units = RC_CONVLSTM_TILE * cs->Hh * cs->Ww;
    e->hev_macs = 4.0 * cs->C * cs->k * cs->k;
    e->nscratch = rc_convlstm_scratch_floats(cs);
    for (int i = 0; i < e->base.maxthreads; i++) e->scratch[i] = rc_engine_xcalloc(e->nscratch, sizeof(float), &fail);
    const size_t BT = (size_t)e->base.B * (size_t)e->base.T;
    const size_t nch = (BT + RC_CONVLSTM_WH_CHUNK - 1) / RC_CONVLSTM_WH_CHUNK;
    e->nwh = rc_convlstm_nwh(cs);
    e->whpart = rc_engine_xcalloc(nch * e->nwh, sizeof(float), &fail);
    return fail;
}

static void conv_fwd(lstm_engine *e, int ith, int nth, int r0, int n, const rc_step_input *in, int k0, int k1)
{
    (void)k0, (void)k1;
    const rc_net *net = e->base.net;
    const float *P = net->params;
    const int H = e->H, G4 = e->G4;
    size_t ra, rb; /* whole rows per thread */
    rc_partition((size_t)n, ith, nth, &ra, &rb);
    if (e->dx_on || e->dh_on) {
        rc_convlstm_delta_forward(e, r0, (int)ra, (int)rb, in, e->scratch[ith]);
        return;
    }
    rc_convlstm_forward(e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H, e->hcur,
                        e->hp_all + (size_t)r0 * H, e->cp_all + (size_t)r0 * H, in,
                        P + net->w_ih, P + net->w_hh, P + net->b_ih, (int)ra, (int)rb, &net->s.conv,
                        e->scratch[ith]);
}

static void conv_bwd_gates(lstm_engine *e, int r0, int n, int k0, int k1)
{
    const int H = e->H, G4 = e->G4;
    rc_convlstm_backward_gates(e->dgate_all + (size_t)r0 * G4, e->dcp, e->dh, e->dcn,
                               e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H,
                               e->cp_all + (size_t)r0 * H, n, &e->base.net->s.conv, k0, k1);
}

static void conv_bwd_dh(lstm_engine *e, int ith, int nth, int r0, int n, int k0, int k1)
{
    (void)k0, (void)k1;
    size_t ra, rb; /* whole rows per thread */
    rc_partition((size_t)n, ith, nth, &ra, &rb);
    rc_convlstm_backward_dh(e->dhp, e->dgate_all + (size_t)r0 * e->G4, e->base.net->params + e->base.net->w_hh,
                            (int)ra, (int)rb, &e->base.net->s.conv, e->scratch[ith]);
    /* Barrier: dhp of every row is complete before step t−1 reads its own units. */
    rc_pool_barrier(e->base.pool);
}

static void conv_bwd_weights(lstm_engine *e, int ith, int nth, int N, const rc_step_input *all, int k0, int k1)
{
    const rc_net *net = e->base.net;
    const rc_convlstm_shape *cs = &net->s.conv;
    float *Gr = net->grads;
    if (e->dx_on) {
        size_t ra, rb;
        rc_partition((size_t)N, ith, nth, &ra, &rb);
        rc_convlstm_delta_xhat(e, (int)ra, (int)rb);
        /* Barrier: every cached row's x̂ is listed before ∂W_x reads all rows. */
        rc_pool_barrier(e->base.pool);
    }
    rc_convlstm_backward_wx(Gr + net->w_ih, Gr + net->b_ih, e->dgate_all, all, N, cs, k0, k1);
    /* ∂W_h: fixed chunks of rows, each into its own buffer, then the
     * buffers added in chunk order (split by parameter across threads). */
    const size_t CH = RC_CONVLSTM_WH_CHUNK, nch = ((size_t)N + CH - 1) / CH;
    size_t c0, c1;
    rc_partition(nch, ith, nth, &c0, &c1);
    for (size_t c = c0; c < c1; c++) {
        float *part = e->whpart + c * e->nwh;
        memset(part, 0, e->nwh * sizeof(float));
        const size_t ra = c * CH, rb = ra + CH < (size_t)N ? ra + CH : (size_t)N;
        rc_convlstm_backward_wh_rows(part, e->dgate_all, e->hp_all, (int)ra, (int)rb, cs, e->scratch[ith]);
    }
    /* Barrier: every chunk's ∂W_h is summed before they are added up. */
    rc_pool_barrier(e->base.pool);
    size_t j0, j1;
    rc_partition(e->nwh, ith, nth, &j0, &j1);
    float *dwh = Gr + net->w_hh;
    for (size_t c = 0; c < nch; c++) {
        const float *part = e->whpart + c * e->nwh;
        for (size_t j = j0; j < j1; j++) dwh[j] += part[j];
    }
}

const lstm_core rc_engine_core_convlstm = { conv_init, conv_fwd, conv_bwd_gates, conv_bwd_dh, conv_bwd_weights,
                                            rc_convlstm_delta_alloc, rc_convlstm_delta_start, NULL, 0, 1,
                                            "ConvLSTM" };
