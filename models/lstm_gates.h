/* lstm_gates.h — the elementwise backward of the LSTM cell, shared by the LSTM
 * (models/lstm.c, one tile of one row) and ConvLSTM (models/convlstm.c, one
 * channel of one row) kernels: the same cell equations, over n contiguous
 * units or positions. */
#ifndef RC_LSTM_GATES_H
#define RC_LSTM_GATES_H

/* Backward through i, f, g, o (post-activation) and the cell, elementwise
 * over [0, n):
 *   tc = tanh(c_t),  dc = dcn + dh·o·(1 − tc²)
 *   di = dc·g·i(1 − i),  df = dc·c_{t−1}·f(1 − f),  dg = dc·i·(1 − g²),
 *   do = dh·tc·o(1 − o),  dcp = dc·f
 * ai..ao (n) activations, cr = c_t, cpr = c_{t−1}, dhr = ∂L/∂h_t,
 * dcnr = ∂L/∂c_t from step t+1; writes di..dO (n) = ∂L/∂a and dcpr (n) =
 * ∂L/∂c_{t−1}. No argument may alias another (restrict). */
void rc_lstm_gates_backward(int n, const float *restrict ai, const float *restrict af,
                            const float *restrict ag, const float *restrict ao,
                            const float *restrict cr, const float *restrict cpr,
                            const float *restrict dhr, const float *restrict dcnr,
                            float *restrict di, float *restrict df, float *restrict dg,
                            float *restrict dO, float *restrict dcpr);

#endif
