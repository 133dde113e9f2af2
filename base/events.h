/* events.h — one example's input as an event stream.
 *
 * (step, channel, value) triples sorted by step and bucketed per step in CSR
 * form: the events of step t are [off[t], off[t+1]). Binary spikes carry value
 * 1; real-valued inputs (2-sequence task, speech features) carry their value.
 * A silent step has no events and costs the engine nothing. */
#ifndef RC_EVENTS_H
#define RC_EVENTS_H

#include <stdint.h>
#include "base/status.h"

typedef struct {
    int T;          /* steps                                   */
    int nev;        /* events in use                           */
    int cap;        /* capacity of ch / val                    */
    int *off;       /* (T+1) CSR offsets                        */
    int32_t *ch;    /* (cap) channel of each event             */
    float *val;     /* (cap) value of each event               */
} rc_events;

/* Prepares ev for a new example of T steps (keeps allocations). */
rc_status rc_events_reset(rc_events *ev, int T);
/* Makes room for at least n events (keeps the ones there). */
rc_status rc_events_reserve(rc_events *ev, int n);
/* Appends an event at step t; steps must be appended in non-decreasing order. */
rc_status rc_events_push(rc_events *ev, int t, int ch, float v);
/* Closes the stream: fills off[] up to T. Must be called after the last push. */
void rc_events_finish(rc_events *ev);
void rc_events_free(rc_events *ev);

#endif
