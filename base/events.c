/* events.c — CSR event streams (see events.h). Pushing is amortised O(1);
 * a stream is reused across examples, so steady state allocates nothing. */
#include <stdlib.h>
#include <string.h>
#include "base/events.h"

rc_status rc_events_reset(rc_events *ev, int T)
{
    if (!ev->off || ev->T < T) {
        int *o = realloc(ev->off, (size_t)(T + 1) * sizeof *o);
        if (!o) return RC_ERR_NOMEM;
        ev->off = o;
    }
    ev->T = T;
    ev->nev = 0;
    /* off[t] = -1 marks "not opened yet"; finish() fills the gaps. */
    for (int t = 0; t <= T; t++) ev->off[t] = -1;
    return RC_OK;
}

rc_status rc_events_reserve(rc_events *ev, int n)
{
    if (n <= ev->cap) return RC_OK;
    int32_t *c = realloc(ev->ch, (size_t)n * sizeof *c);
    if (!c) return RC_ERR_NOMEM;
    ev->ch = c;
    float *w = realloc(ev->val, (size_t)n * sizeof *w);
    if (!w) return RC_ERR_NOMEM;
    ev->val = w;
    ev->cap = n;
    return RC_OK;
}

rc_status rc_events_push(rc_events *ev, int t, int ch, float v)
{
    RC_ASSERT(t >= 0 && t < ev->T);
    if (ev->nev == ev->cap) {
        rc_status st = rc_events_reserve(ev, ev->cap ? 2 * ev->cap : 64);
        if (st) return st;
    }
    /* Open every step up to t that has not been opened: they start here. */
    for (int s = t; s >= 0 && ev->off[s] < 0; s--) ev->off[s] = ev->nev;
    RC_ASSERT(ev->nev == 0 || ev->off[t] >= 0);
    /* Steps after t must not have been opened already (non-decreasing order). */
    RC_ASSERT(t + 1 > ev->T - 1 || ev->off[t + 1] < 0);
    ev->ch[ev->nev] = ch;
    ev->val[ev->nev] = v;
    ev->nev++;
    return RC_OK;
}

void rc_events_finish(rc_events *ev)
{
    ev->off[ev->T] = ev->nev;
    for (int t = ev->T - 1; t >= 0; t--)
        if (ev->off[t] < 0) ev->off[t] = ev->off[t + 1];
}

void rc_events_free(rc_events *ev)
{
    free(ev->off);
    free(ev->ch);
    free(ev->val);
    memset(ev, 0, sizeof *ev);
}
