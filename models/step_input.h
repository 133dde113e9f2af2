/* step_input.h — the input of one recurrent step over a compacted set of
 * active rows (examples), shared by the LSTM (models/lstm.h) and ConvLSTM
 * (models/convlstm.h) kernels. The engine builds it from each row's event
 * stream; the kernels only read it.
 *
 * ConvLSTM reads the events only (never x); LSTM may also take dense rows. */
#ifndef RC_STEP_INPUT_H
#define RC_STEP_INPUT_H

#include <stdint.h>

/* Input of a step for n active rows: row r reads events [beg[r], end[r]) of
 * the arrays ch[r]/val[r] (the example's events at this step).
 *
 * Dense inputs. Where most channels carry an event at every step (speech
 * features: 420 of 420), adding one weight column per event runs far below
 * the sgemm rate. The caller may then also pass the rows' inputs as a dense
 * matrix x (n, nin) (row r = Σ of its events by channel), and xrow[r] = 1
 * for rows whose dense copy is valid: rc_lstm_forward uses one sgemm per tile
 * when x is set (all its rows must be valid), rc_lstm_backward_weights one
 * sgemm per run of consecutive valid rows. Which path runs depends on the
 * data only, never on the thread count. */
typedef struct {
    const int *beg;      /* (n) */
    const int *end;      /* (n) */
    const int32_t *const *ch;  /* (n) per-row channel arrays */
    const float *const *val;   /* (n) per-row value arrays   */
    const float *x;            /* optional (n, nin) dense inputs, or NULL */
    const unsigned char *xrow; /* (n) 1 where row r of x is valid          */
    int nin;                   /* input channels (with x)                 */
} rc_step_input;

#endif
