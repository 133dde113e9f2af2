/* twoseq.c — the 2-sequence problem (paper 3.2, B.2; after Bengio et al. 1994).
 *
 * T real-valued steps, i.i.d. N(+mean, σ) for the positive class and
 * N(-mean, σ) for the negative one, σ ~ U(sigma_lo, sigma_hi) per sequence.
 * Each step is one event on channel 0 carrying the sample. The class is a
 * fair coin. Evidence accrues with every step, so accuracy trades off
 * against answer time. */
#include <stdlib.h>
#include "encoders/twoseq.h"
#include "base/rng.h"

typedef struct { double mean, lo, hi; } twoseq_priv;

static rc_status twoseq_get(const rc_dataset *ds, rc_split split, int64_t index,
                            rc_events *ev, rc_example_info *info)
{
    const twoseq_priv *p = ds->priv;
    uint64_t stream = RC_STREAM_TRAIN + (uint64_t)split;
    uint64_t ix = (uint64_t)index;
    /* Counter b: 0 = class, 1 = sigma, 2.. = steps (normal uses 2b, 2b+1). */
    int label = (int)(rc_rand64(ds->seed, stream, ix, 0) >> 63);
    double sigma = p->lo + (p->hi - p->lo) * rc_uniform(ds->seed, stream, ix, 1);
    double mu = label ? p->mean : -p->mean;
    rc_status st = rc_events_reset(ev, ds->T);
    if (st) return st;
    for (int t = 0; t < ds->T; t++) {
        double x = mu + sigma * rc_normal(ds->seed, stream, ix, 16 + (uint64_t)t);
        if ((st = rc_events_push(ev, t, 0, (float)x))) return st;
    }
    rc_events_finish(ev);
    info->label = label;
    info->earliest = -1;
    return RC_OK;
}

rc_dataset *rc_twoseq_new(uint64_t seed, int T, double mean, double lo, double hi)
{
    twoseq_priv *p = calloc(1, sizeof *p);
    if (p) *p = (twoseq_priv){ mean, lo, hi };
    return rc_dataset_new("twoseq", T, 1, 2, seed, twoseq_get, NULL, p);
}
