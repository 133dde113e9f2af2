/* dataset.h — where examples come from.
 *
 * A dataset hands out examples as event streams by (split, index). Synthetic
 * tasks (spotting, twoseq) are generators: every index of every split is a
 * fresh sequence drawn from counter-based random numbers keyed by
 * (seed, split, index), so the same index always gives the same sequence and
 * nothing depends on thread count or visiting order. Finite data sets (MNIST,
 * speech) report their split sizes.
 *
 * This header is only the interface every dataset implements; each encoder's
 * constructor is in its own header: encoders/spotting.h, twoseq.h, images.h
 * (latency and rate coded), speech.h. */
#ifndef RC_DATASET_H
#define RC_DATASET_H

#include <stdint.h>
#include "base/events.h"
#include "base/status.h"

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
    /* Optional (NULL / 0 unless a task sets them): */
    const char *const *class_names; /* (nclass) names for per-class metrics      */
    float *norm;             /* (nnorm) feature normalisation the examples are
                                encoded with (speech: mean (nin), then 1/std
                                (nin)); owned by the task, read by get(). The
                                driver stores it in model.h5 and overwrites it
                                from there on eval and resume, so a model is
                                always fed as it was trained.                 */
    size_t nnorm;
    int train_pass_index;    /* TRAIN get() takes index = pass·size[TRAIN] + i
                                (example i of that pass over the training set),
                                so per-example augmentation differs by pass   */
};

void rc_dataset_free(rc_dataset *ds); /* NULL is a no-op */

/* A dataset with the given fields and sizes -1 (a generator) that owns priv
 * (freed with free() after fr, if fr is not NULL). On allocation failure
 * frees priv and returns NULL. */
rc_dataset *rc_dataset_new(const char *name, int T, int nin, int nclass, uint64_t seed,
                           rc_status (*get)(const rc_dataset *, rc_split, int64_t, rc_events *, rc_example_info *),
                           void (*fr)(rc_dataset *), void *priv);

#endif
