/* lstm_gates.c — the LSTM cell's elementwise backward (see lstm_gates.h).
 * Out of line so the restrict parameters hold (the compiler vectorises it
 * without run-time alias checks; block-scope restrict is not honoured). */
#include "models/lstm_gates.h"
#include "models/fastmath.h"

/* tanh(c) is taken first into a small buffer, per chunk of RC_GATES_CHUNK
 * elements, so both loops vectorise; every element's operations are the
 * same, in the same order, whatever the chunking. */
#define RC_GATES_CHUNK 16

void rc_lstm_gates_backward(int n, const float *restrict ai, const float *restrict af,
                            const float *restrict ag, const float *restrict ao,
                            const float *restrict cr, const float *restrict cpr,
                            const float *restrict dhr, const float *restrict dcnr,
                            float *restrict di, float *restrict df, float *restrict dg,
                            float *restrict dO, float *restrict dcpr)
{
    float tcb[RC_GATES_CHUNK];
    for (int j0 = 0; j0 < n; j0 += RC_GATES_CHUNK) {
        const int m = n - j0 < RC_GATES_CHUNK ? n - j0 : RC_GATES_CHUNK;
        for (int q = 0; q < m; q++) tcb[q] = rc_tanhf(cr[j0 + q]);
        for (int q = 0; q < m; q++) {
            const int j = j0 + q;
            const float tc = tcb[q];
            const float dc = dcnr[j] + dhr[j] * ao[j] * (1.0f - tc * tc);
            di[j] = dc * ag[j] * ai[j] * (1.0f - ai[j]);
            df[j] = dc * cpr[j] * af[j] * (1.0f - af[j]);
            dg[j] = dc * ai[j] * (1.0f - ag[j] * ag[j]);
            dO[j] = dhr[j] * tc * ao[j] * (1.0f - ao[j]);
            dcpr[j] = dc * af[j];
        }
    }
}
