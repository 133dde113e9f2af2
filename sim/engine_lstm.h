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
    /* The delta path's core-specific part (sim/engine_lstm_delta.c,
     * sim/engine_convlstm_delta.c): its buffers (1 on allocation failure),
     * called once by rc_lstm_delta_prepare; each thread's share of the
     * per-batch set-up (M, transposed weights) in rc_lstm_delta_start; and,
     * NULL where the core has none, each thread's part before step t's
     * forward. */
    int (*delta_alloc)(lstm_engine *e);
    void (*delta_start)(lstm_engine *e, int ith, int nth, size_t u0, size_t u1);
    void (*delta_step)(lstm_engine *e, int ith, int nth, int t);
    int dense_input;          /* 1: a step whose rows carry events on ≥ 1/4 of
                                 the input channels runs the input product as
                                 sgemm (rc_step_input.x; LSTM only)          */
    int m_by_slot;            /* 1: the delta path's M is indexed by batch
                                 slot, never compacted (ConvLSTM); 0: by
                                 current row (LSTM)                          */
    const char *name;         /* "LSTM", "ConvLSTM" (error messages)         */
} lstm_core;

struct lstm_engine {
    rc_engine base;
    const lstm_core *core;
    int H, G4, ntiles;
    int tile_units;           /* state units per tile (16, or 4·Hh·Ww)      */
    size_t nscratch;          /* ConvLSTM im2col scratch floats per thread, or 0 */
    float **scratch;          /* (threads) ConvLSTM im2col scratch          */
    float *xd;                /* (B·T, nin) LSTM: dense inputs of dense steps */
    float *wT;                /* (H, 4H) LSTM: w_hh transposed, this batch's  */
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
    float *headT;             /* head weights transposed, this batch's      */
    int tmax;                 /* last step computed in this batch          */
    /* Delta LSTM (rc_engine_lstm_opts.delta_x/delta_h), allocated at the
     * first batch that uses it (sim/engine_lstm_delta.c). */
    int dx_on, dh_on;         /* this batch: Θx > 0, Θh > 0               */
    float thx, thh;           /* Θx, Θh                                    */
    double hev_macs;          /* MACs of one hidden event: 4H (LSTM), 4C·k²
                                 (ConvLSTM; taps outside the map included,
                                 as for input events)                       */
    float *mcur;              /* (B, 4H)   gate memory M of the current rows
                                           (ConvLSTM: of each slot, (P, 4C)) */
    float *dlt;               /* (B, H)    hidden events of the current step
                                           (h_{t−1} − ĥ, 0: no event)      */
    float *whT;               /* (H, 4H)   w_hh transposed, own gate rows
                                           rebuilt by each thread per batch
                                           (ConvLSTM: (C·k², 4C), w_h)      */
    float *wxT;               /* ConvLSTM: (Cin·k², 4C) w_x transposed      */
    unsigned char *rdense;    /* ConvLSTM (B): 1 where the current step's row
                                 added its hidden events as sgemm           */
    int32_t *evidx;           /* (threads, B·H) each thread's list of the
                                 current rows' event units,                */
    float *evval;             /* (threads, B·H) their differences, and      */
    int *evcnt;               /* (threads, B) how many                      */
    int *hcnt;                /* (threads, B) hidden events of the current
                                 rows among each thread's units            */
    unsigned char *hdense;    /* (T) LSTM: 1: step t's hidden events as sgemm */
    int *tdense;              /* (threads) the same, each thread's copy     */
    int32_t *dxch;            /* (B·T, nin) input delta events of each row  */
    float *dxval;             /* (B·T, nin)                                 */
    float *xcur;              /* (nin) scratch: x_t of one row              */
    int nth_run;              /* threads of the current run                 */
    /* train.delta_l1 (rc_engine_lstm_opts.delta_l1), this batch. */
    int l1_on;
    float l1_grad;            /* λ · loss scale / H: ∂ of one |Δh|         */
    double *l1acc;            /* (B, ntiles) Σ|h_t − h_{t−1}| per example
                                 slot and tile; summed over tiles in order
                                 after the run (any thread count: same)   */
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

/* The delta LSTM's part of the step loop (sim/engine_lstm_delta.c). */
/* Checks the options, allocates on first use; thread 0 before the run. */
rc_status rc_lstm_delta_prepare(lstm_engine *e, const rc_batch_opts *o, rc_err *err);
/* Each thread, before step 0: no hidden events for its units [u0, u1), then
 * the core's delta_start. */
void rc_lstm_delta_start(lstm_engine *e, int ith, int nth, size_t u0, size_t u1);
/* The LSTM core's delta hooks: its buffers; M = biases and w_hhᵀ of its
 * own gate rows [4·u0, 4·u1); before step t's forward (after the barrier
 * that ends the compaction): whether the step's hidden events go as sgemm
 * (the same answer on every thread), and this thread's event lists. */
int rc_lstm_delta_alloc(lstm_engine *e);
void rc_lstm_delta_start_lstm(lstm_engine *e, int ith, int nth, size_t u0, size_t u1);
void rc_lstm_delta_step(lstm_engine *e, int ith, int nth, int t);
/* The ConvLSTM core's (sim/engine_convlstm_delta.c): its buffers; the
 * threads' rows of the transposed kernels; its delta forward of rows
 * [ra, rb) of a step; and, before ∂W_x, each thread's rows [ra, rb) of the
 * cached rows' x̂ as event lists (delta_x: the weight gradient sees x̂). */
int rc_convlstm_delta_alloc(lstm_engine *e);
void rc_convlstm_delta_start(lstm_engine *e, int ith, int nth, size_t u0, size_t u1);
void rc_convlstm_delta_forward(lstm_engine *e, int r0, int ra, int rb, const rc_step_input *in, float *scratch);
void rc_convlstm_delta_xhat(lstm_engine *e, int ra, int rb);
/* Each thread, compaction into step t+1 for its units [u0, u1): ĥ, the
 * hidden events, c_{t−1} and M (own gate rows). */
void rc_lstm_delta_compact(lstm_engine *e, int ith, int t, size_t u0, size_t u1);
/* Thread 0, delta_x: the input delta events of step t's rows (replaces the
 * plain listing in set_step_inputs). */
void rc_lstm_delta_inputs(lstm_engine *e, int t);
/* Thread 0, in decide: the row's hidden events at step t and their MACs. */
int64_t rc_lstm_delta_row_events(const lstm_engine *e, int r);
void rc_lstm_delta_free(lstm_engine *e);
/* train.delta_l1: each thread, in the backward at step t after ∂L/∂h_t of
 * its tiles [k0, k1) is assembled: adds the penalty's gradient, λ/H·(sign
 * of h_t − h_{t−1} − sign of h_{t+1} − h_t) times the loss scale, and
 * accumulates |h_t − h_{t−1}|. After the run: each example's penalty into
 * its loss and the batch's. */
void rc_lstm_l1_grad(lstm_engine *e, int t, int k0, int k1);
void rc_lstm_l1_finish(lstm_engine *e);

/* calloc of max(n, 1) elements; sets *fail when it fails. */
void *rc_engine_xcalloc(size_t n, size_t sz, int *fail);

#endif
