/* engine_lstm.h — private to the LSTM / ConvLSTM engine backend
 * (sim/engine_lstm.c: creation and the step loop; sim/engine_lstm_core.c:
 * the two cores' kernels behind one table). Nothing else includes it. */
#ifndef RC_ENGINE_LSTM_H
#define RC_ENGINE_LSTM_H

#include "models/lstm.h"
#include "sim/engine_backend.h"

typedef struct lstm_engine lstm_engine;

/* The core's kernels over the rows of one step (r0: its first cached row, n:
 * its rows) and thread ith's tiles [k0, k1). */
typedef struct {
    /* Tiles, tile width and core-specific scratch; 1 on allocation failure. */
    int (*init)(lstm_engine *e);
    void (*forward)(lstm_engine *e, int ith, int nth, int r0, int n, const rc_step_input *in, int k0, int k1);
    void (*backward_gates)(lstm_engine *e, int r0, int n, int k0, int k1);
    /* dhp = ∂L/∂h_{t−1} of step t > 0; returns with this thread's units of
     * dhp readable by it. */
    void (*backward_dh)(lstm_engine *e, int ith, int nth, int r0, int n, int k0, int k1);
    /* ∂W_ih, ∂b, ∂W_hh over all N cached rows. */
    void (*backward_weights)(lstm_engine *e, int ith, int nth, int N, const rc_step_input *all, int k0, int k1);
} lstm_core;

struct lstm_engine {
    rc_engine base;
    const lstm_core *core;
    int H, G4, ntiles;
    int tile_units;           /* state units per tile (16, or 4·Hh·Ww)      */
    size_t nscratch;          /* ConvLSTM im2col scratch floats per thread, or 0 */
    float **scratch;          /* (threads) ConvLSTM im2col scratch          */
    float *xd;                /* (B·T, nin) LSTM: dense inputs of dense steps */
    unsigned char *xrow;      /* (B·T) 1 where the row's xd copy is valid   */
    unsigned char *xstep;     /* (T)   1 where step t runs the dense path   */
    int nin;
    float *whpart;            /* (chunks, 4C·CKK) ConvLSTM ∂W_h per chunk   */
    size_t nwh;               /* 4C·CKK                                    */
    rc_events *ev;            /* (B) event streams of the batch's examples */
    rc_example_info *info;    /* (B) */
    /* Per-step bookkeeping, rows concatenated over steps (B·T rows max). */
    int *rowoff;              /* (T+1) first cached row of step t          */
    int *nrow;                /* (T)   active rows at step t               */
    int *row_ex;              /* (B·T) batch slot of each cached row       */
    int *pos;                 /* (B·T) row of the same example at step t−1 */
    int *beg, *end;           /* (B·T) event range of the row's step       */
    const int32_t **ich;      /* (B·T) channel array of the row's example  */
    const float **ival;       /* (B·T) value array of the row's example    */
    float *act_all;           /* (B·T, 4H) gate activations                */
    float *c_all;             /* (B·T, H)  c_t                             */
    float *hp_all;            /* (B·T, H)  h_{t−1} (compacted)             */
    float *cp_all;            /* (B·T, H)  c_{t−1} (compacted)             */
    float *dgate_all;         /* (B·T, 4H) ∂L/∂a                           */
    float *hcur;              /* (B, H)    h_t of the current step         */
    float *dh, *dcn, *dhp, *dcp; /* (B, H) backward scratch                */
    float *inj;               /* (B, H)    ∂L/∂h at t_sp, per batch slot   */
    int *lstep;               /* (B)       step the loss was taken, or −1  */
    float *pbuf, *dz;         /* (K)                                       */
    int hsum;                 /* Σ hidden head widths (≥ 1)                */
    float *zall;              /* (B, K)    logits of the current step      */
    float *hacts_all;         /* (B, hsum) head activations, current step  */
    float *hscratch;          /* 2·head width                              */
    int tmax;                 /* last step computed in this batch          */
    /* Partition (sim/plan.c). */
    size_t *tb;               /* (threads+1) tile bounds of each thread    */
    size_t *own_lo, *own_hi;  /* (threads) owned floats, relative to w_hh  */
    /* Current call. */
    rc_split split;
    const int64_t *idx;
    int n;
    const rc_batch_opts *o;
    rc_example_result *res;
    double loss_sum;
};

/* The two cores (sim/engine_lstm_core.c). */
extern const lstm_core rc_engine_core_lstm, rc_engine_core_convlstm;

/* calloc of max(n, 1) elements; sets *fail when it fails. */
void *rc_engine_xcalloc(size_t n, size_t sz, int *fail);

#endif
