/* rate.c — rate-coded images (STBP's MNIST input): at every step each pixel
 * spikes with probability v/255, independently (a Bernoulli approximation of
 * a Poisson process).
 *
 * The draw for (split, example, step, pixel) is the counter-based uniform
 * rc_uniform(seed, stream of the split, example index, step·npix + pixel), so
 * an example is the same spike train whichever thread makes it and however
 * often it is visited (a training image gets the same train every epoch).
 * Splits as the latency code (dataset.h). Cost: T·npix draws per example. */
#include <stdlib.h>
#include "encoders/dataset.h"
#include "sim/rng.h"

typedef struct {
    int T, npix;
    uint8_t *trp, *trl, *tep, *tel;
    int64_t ntrain, nval, ntest;
} rate_priv;

static rc_status rate_get(const rc_dataset *ds, rc_split split, int64_t index,
                          rc_events *ev, rc_example_info *info)
{
    const rate_priv *p = ds->priv;
    const uint8_t *pix, *lab;
    int64_t i = index;
    if (split == RC_SPLIT_TEST) {
        RC_ASSERT(index >= 0 && index < p->ntest);
        pix = p->tep;
        lab = p->tel;
    } else {
        if (split == RC_SPLIT_VAL) i += p->ntrain - p->nval;
        RC_ASSERT(i >= 0 && i < p->ntrain);
        pix = p->trp;
        lab = p->trl;
    }
    const uint8_t *img = pix + (size_t)i * (size_t)p->npix;
    const uint64_t stream = split == RC_SPLIT_TEST ? RC_STREAM_TEST : split == RC_SPLIT_VAL ? RC_STREAM_VAL : RC_STREAM_TRAIN;
    rc_status st = rc_events_reset(ev, p->T);
    if (st) return st;
    for (int t = 0; t < p->T; t++)
        for (int k = 0; k < p->npix; k++) {
            if (!img[k]) continue;
            const double u = rc_uniform(ds->seed, stream, (uint64_t)index, (uint64_t)t * (uint64_t)p->npix + (uint64_t)k);
            if (u * 255.0 < (double)img[k] && (st = rc_events_push(ev, t, k, 1.0f))) return st;
        }
    rc_events_finish(ev);
    info->label = lab[i];
    info->earliest = -1;
    return RC_OK;
}

static void rate_free(rc_dataset *ds)
{
    rate_priv *p = ds->priv;
    free(p->trp); free(p->trl); free(p->tep); free(p->tel);
}

rc_dataset *rc_rate_new(uint64_t seed, int T, int npix, int nclass,
                        uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                        uint8_t *test_pix, uint8_t *test_lab, int64_t ntest)
{
    rate_priv *p = calloc(1, sizeof *p);
    if (p) *p = (rate_priv){ T, npix, train_pix, train_lab, test_pix, test_lab, ntrain, nval, ntest };
    rc_dataset *ds = rc_dataset_new("tmnist", T, npix, nclass, seed, rate_get, rate_free, p);
    if (!ds) {
        free(train_pix); free(train_lab); free(test_pix); free(test_lab);
        return NULL;
    }
    ds->size[RC_SPLIT_TRAIN] = ntrain - nval;
    ds->size[RC_SPLIT_VAL] = nval;
    ds->size[RC_SPLIT_TEST] = ntest;
    return ds;
}
