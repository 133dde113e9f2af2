/* metrics.h — rank-coding metrics over a set of example results. */
#ifndef RC_METRICS_H
#define RC_METRICS_H

#include <stdint.h>
#include "sim/engine.h"

typedef struct {
    int64_t n;
    double accuracy;               /* at the first spike (no spike: argmax at T−1) */
    double mean_spike_step;        /* 1-based; no spike counts T                   */
    double mean_spike_fraction;    /* mean_spike_step / T                          */
    double no_spike_fraction;
    double accuracy_at_end;        /* argmax at T−1 (needs full-length results)    */
    int has_end;
    double tsp_p10, tsp_p50, tsp_p90;  /* spike-step quantiles (1-based)           */
    /* spotting only (has_earliest) */
    int has_earliest;
    double earliest_fraction;           /* positives answered positive exactly at
                                           the earliest possible step              */
    double early_false_positive_fraction; /* answered positive before any run      */
    double mean_loss;
    double events_per_example;      /* input events read over the steps computed  */
    double macs_per_example;        /* forward multiply-accumulates executed      */
    double macs_dense_per_example;  /* ... with a dense recurrent product (no
                                       delta_h; equals macs_per_example then)     */
    double hevents_per_example;     /* hidden delta events sent (delta_h > 0)     */
    double hevents_per_unit_step;   /* ... per hidden unit and computed step      */
    double majority_fraction;      /* share of the most frequent label             */
} rc_metrics;

#define RC_METRICS_MAX_CLASS 64

/* Accumulates results; T is the sequence length. */
typedef struct {
    int T;
    int64_t n, correct, correct_end, nend, nospike, pos, pos_earliest, early_fp;
    double sum_tsp, sum_loss, sum_events, sum_macs, sum_macs_dense, sum_hevents, sum_hslots;
    int64_t hist[4097];    /* spike-step histogram, 0-based step */
    int spotting;
    /* Per class (labels and predictions below RC_METRICS_MAX_CLASS): */
    int64_t cls_n[RC_METRICS_MAX_CLASS];        /* examples with this label     */
    int64_t cls_correct[RC_METRICS_MAX_CLASS];  /* ... answered right (1st spike) */
    double cls_sum_tsp[RC_METRICS_MAX_CLASS];   /* ... sum of 1-based spike steps */
    int64_t confusion[RC_METRICS_MAX_CLASS][RC_METRICS_MAX_CLASS]; /* [label][pred] */
} rc_metrics_acc;

void rc_metrics_init(rc_metrics_acc *a, int T, int spotting);
void rc_metrics_add(rc_metrics_acc *a, const rc_example_result *r, int n);
void rc_metrics_finish(const rc_metrics_acc *a, rc_metrics *m);

/* Early stopping (paper B.4, train.stop_below_majority): 1 when the
 * validation RC accuracy val_acc fell below the majority-class fraction
 * after the kept model (if any: have_kept) had been at or above it. */
int rc_stop_below_majority(int have_kept, double kept_acc, double val_acc, double majority);

#endif
