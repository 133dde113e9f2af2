/* spotting.c — the continuous sequence spotting task (paper 3.1, B.1).
 *
 * T binary steps, each 1 with probability 0.5 (Poisson rate 0.5 per step).
 * Positive iff somewhere `run` (5) consecutive steps are all 1 or all 0. The
 * step that completes the first such run is the earliest moment a correct
 * positive answer is possible; the metrics compare the first output spike to
 * it. A 1 is an event of value 1 on channel 0; a 0 is silence (no event). */
#include <stdlib.h>
#include "encoders/spotting.h"
#include "base/rng.h"

typedef struct { int run; } spotting_priv;

void rc_spotting_label(const uint8_t *bits, int T, int run, int *label, int *earliest)
{
    *label = 0;
    *earliest = -1;
    int len = 0;
    for (int t = 0; t < T; t++) {
        len = (t > 0 && bits[t] == bits[t - 1]) ? len + 1 : 1;
        if (len >= run) {
            *label = 1;
            *earliest = t;
            return;
        }
    }
}

static rc_status spotting_get(const rc_dataset *ds, rc_split split, int64_t index,
                              rc_events *ev, rc_example_info *info)
{
    const spotting_priv *p = ds->priv;
    uint8_t bits[4096];
    RC_ASSERT(ds->T <= 4096);
    rc_status st = rc_events_reset(ev, ds->T);
    if (st) return st;
    uint64_t stream = RC_STREAM_TRAIN + (uint64_t)split;
    for (int t = 0; t < ds->T; t++) {
        bits[t] = (uint8_t)(rc_rand64(ds->seed, stream, (uint64_t)index, (uint64_t)t) >> 63);
        if (bits[t] && (st = rc_events_push(ev, t, 0, 1.0f))) return st;
    }
    rc_events_finish(ev);
    rc_spotting_label(bits, ds->T, p->run, &info->label, &info->earliest);
    return RC_OK;
}

rc_dataset *rc_spotting_new(uint64_t seed, int T, int run)
{
    spotting_priv *p = calloc(1, sizeof *p);
    if (p) p->run = run;
    return rc_dataset_new("spotting", T, 1, 2, seed, spotting_get, NULL, p);
}
