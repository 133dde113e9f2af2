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
} rc_metrics;

/* Accumulates results; T is the sequence length. */
typedef struct {
    int T;
    int64_t n, correct, correct_end, nend, nospike, pos, pos_earliest, early_fp;
    double sum_tsp, sum_loss, sum_events, sum_macs;
    int64_t hist[4097];    /* spike-step histogram, 0-based step */
    int spotting;
} rc_metrics_acc;

void rc_metrics_init(rc_metrics_acc *a, int T, int spotting);
void rc_metrics_add(rc_metrics_acc *a, const rc_example_result *r, int n);
void rc_metrics_finish(const rc_metrics_acc *a, rc_metrics *m);

#endif
