/* engine_convlstm_delta.c — the ConvLSTM core's part of the delta path
 * (sim/engine_lstm_delta.c holds what the two cores share; kernel:
 * rc_convlstm_forward_delta, models/convlstm.h).
 *
 * What the two cores share: per example, ĥ in hp_all (so the recurrent
 * weight gradient Σ dgate ⋆ ĥ is the straight-through one with no change to
 * the backward pass), the hidden events decided in the compaction by the
 * thread that owns the units (here: channel tiles), x̂ in xd, and the
 * counters. What differs: the ConvLSTM's forward takes whole rows per
 * thread, so each row's hidden events are added by the thread that computes
 * the row, and the gate memory M of an example stays at its batch slot,
 * never compacted (no thread moves another's rows). A row adds its events
 * as one sgemm over the im2col of its changes when at least a quarter of
 * its units sent one (RC_CONVLSTM_DELTA_DENSE_SHARE below, measured). The
 * choice is per row, on its event count only, never on the threads. And ∂W_x, which reads input events, gets x̂ as event lists. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/convlstm.h"
#include "sim/engine_lstm.h"

/* A row's hidden events go as im2col + one sgemm when at least this share of
 * its units send one (build/bench/convdelta_switch: equal cost at 0.28 for
 * C 20, 0.25 for C 10, 28x28 maps, k 5). */
#define RC_CONVLSTM_DELTA_DENSE_SHARE 0.25

int rc_convlstm_delta_alloc(lstm_engine *e)
{
    int fail = 0;
    const rc_convlstm_shape *cs = &e->base.net->s.conv;
    e->whT = rc_engine_xcalloc(rc_convlstm_nwh(cs), sizeof(float), &fail);
    e->wxT = rc_engine_xcalloc(rc_convlstm_nwx(cs), sizeof(float), &fail);
    e->rdense = rc_engine_xcalloc((size_t)e->base.B, 1, &fail);
    return fail;
}

/* The threads' rows of w_hᵀ and w_xᵀ (M is set from the biases by each row's
 * first forward step). */
void rc_convlstm_delta_start(lstm_engine *e, int ith, int nth, size_t u0, size_t u1)
{
    (void)u0, (void)u1;
    const rc_net *net = e->base.net;
    const rc_convlstm_shape *cs = &net->s.conv;
    const int KK = cs->k * cs->k;
    size_t j0, j1;
    if (e->dh_on) {
        rc_partition((size_t)cs->C * KK, ith, nth, &j0, &j1);
        rc_convlstm_transpose(e->whT, net->params + net->w_hh, cs->C, (int)j0, (int)j1, cs);
    }
    if (e->dx_on) {
        rc_partition((size_t)cs->Cin * KK, ith, nth, &j0, &j1);
        rc_convlstm_transpose(e->wxT, net->params + net->w_ih, cs->Cin, (int)j0, (int)j1, cs);
    }
}

void rc_convlstm_delta_forward(lstm_engine *e, int r0, int ra, int rb, const rc_step_input *in, float *scratch)
{
    const rc_net *net = e->base.net;
    const float *P = net->params;
    const int H = e->H, G4 = e->G4;
    const rc_convlstm_delta d = {
        .mem = e->mcur, .slot = e->row_ex + r0, .init = r0 == 0, .b = P + net->b_ih,
        .dlt = e->dh_on ? e->dlt : NULL, .w_hT = e->whT, .w_xT = e->wxT, .in_to_mem = e->dx_on,
        .dense_min = (int)ceil(RC_CONVLSTM_DELTA_DENSE_SHARE * (double)H), .dense = e->rdense,
    };
    rc_convlstm_forward_delta(e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H, e->hcur,
                              e->hp_all + (size_t)r0 * H, e->cp_all + (size_t)r0 * H, in,
                              P + net->w_ih, P + net->w_hh, &d, ra, rb, &net->s.conv, scratch);
}

void rc_convlstm_delta_xhat(lstm_engine *e, int ra, int rb)
{
    const int nin = e->nin;
    for (int g = ra; g < rb; g++) {
        const float *xs = e->xd + (size_t)g * nin;
        int32_t *ch = e->dxch + (size_t)g * nin;
        float *val = e->dxval + (size_t)g * nin;
        int c = 0;
        for (int i = 0; i < nin; i++)
            if (xs[i] != 0.0f) { ch[c] = i; val[c++] = xs[i]; }
        e->beg[g] = 0;
        e->end[g] = c;
        e->ich[g] = ch;
        e->ival[g] = val;
    }
}
