/* dataset.h — where examples come from.
 *
 * A dataset hands out examples as event streams by (split, index). Synthetic
 * tasks (spotting, twoseq) are generators: every index of every split is a
 * fresh sequence drawn from counter-based random numbers keyed by
 * (seed, split, index), so the same index always gives the same sequence and
 * nothing depends on thread count or visiting order. Finite data sets (MNIST,
 * speech) report their split sizes. */
#ifndef RC_DATASET_H
#define RC_DATASET_H

#include <stdint.h>
#include "encoders/events.h"
#include "sim/status.h"

typedef enum { RC_SPLIT_TRAIN = 0, RC_SPLIT_VAL = 1, RC_SPLIT_TEST = 2 } rc_split;

/* Per-example facts besides the label that some metrics need. */
typedef struct {
    int label;      /* class index (binary tasks: 1 = positive)             */
    int earliest;   /* spotting: 0-based step completing the first 5-run,
                       -1 when there is none; other tasks: -1               */
} rc_example_info;

typedef struct rc_dataset rc_dataset;
struct rc_dataset {
    const char *name;        /* "spotting", "twoseq", ...                    */
    int T;                   /* steps per example                            */
    int nin;                 /* input channels                               */
    int nclass;              /* classes (2 for the binary tasks)             */
    int rows, cols;          /* image tasks: channel = row·cols + col; else 0 */
    int64_t size[3];         /* examples per split; -1 = generator (any)     */
    uint64_t seed;
    /* Fills ev (reset + pushes + finish) and info for example `index` of `split`.
     * Must be thread-safe (called concurrently with different ev). */
    rc_status (*get)(const rc_dataset *ds, rc_split split, int64_t index,
                     rc_events *ev, rc_example_info *info);
    void (*free)(rc_dataset *ds);
    void *priv;
};

/* Synthetic tasks (encoders/spotting.c, encoders/twoseq.c). */
rc_dataset *rc_spotting_new(uint64_t seed, int T, int run);
rc_dataset *rc_twoseq_new(uint64_t seed, int T, double mean, double sigma_lo, double sigma_hi);

/* Latency-coded images (temporal MNIST, paper 3.3): T steps; a pixel of value
 * v > 0 spikes once, at step ((255 − v)·T) / 255 clipped to T − 1 (integer
 * arithmetic: brighter = earlier, exact at every boundary); v = 0 never spikes
 * (zero_last = 0) or spikes at T − 1 (zero_last = 1, as the paper's public
 * code does). Channel = pixel index (row-major). Splits: TRAIN = the first
 * ntrain − nval training images, VAL = the last nval training images, TEST =
 * the test images. Takes ownership of the pixel and label arrays (free()d).
 * Returns NULL on allocation failure. */
rc_dataset *rc_latency_new(uint64_t seed, int T, int zero_last, int npix, int nclass,
                           uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                           uint8_t *test_pix, uint8_t *test_lab, int64_t ntest);
/* Rate-coded images (encoders/rate.c): at every step each pixel of value v
 * spikes with probability v/255 (counter-based draws keyed by split, example,
 * step and pixel). Splits and ownership as rc_latency_new. */
rc_dataset *rc_rate_new(uint64_t seed, int T, int npix, int nclass,
                        uint8_t *train_pix, uint8_t *train_lab, int64_t ntrain, int64_t nval,
                        uint8_t *test_pix, uint8_t *test_lab, int64_t ntest);
/* Latency step of a pixel value (−1 = no spike). */
int rc_latency_step(int v, int T, int zero_last);

/* Brute-force label and earliest step for a binary sequence (tests use it). */
void rc_spotting_label(const uint8_t *bits, int T, int run, int *label, int *earliest);

void rc_dataset_free(rc_dataset *ds); /* NULL is a no-op */

/* A dataset with the given fields and sizes -1 (a generator) that owns priv
 * (freed with free() after fr, if fr is not NULL). On allocation failure
 * frees priv and returns NULL. */
rc_dataset *rc_dataset_new(const char *name, int T, int nin, int nclass, uint64_t seed,
                           rc_status (*get)(const rc_dataset *, rc_split, int64_t, rc_events *, rc_example_info *),
                           void (*fr)(rc_dataset *), void *priv);

#endif
