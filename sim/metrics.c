/* metrics.c — see metrics.h. Integer counts, one division at the end, so the
 * numbers are exact functions of the per-example results. */
#include <string.h>
#include "sim/metrics.h"

void rc_metrics_init(rc_metrics_acc *a, int T, int spotting)
{
    memset(a, 0, sizeof *a);
    a->T = T;
    a->spotting = spotting;
}

void rc_metrics_add(rc_metrics_acc *a, const rc_example_result *r, int n)
{
    for (int i = 0; i < n; i++) {
        const rc_example_result *x = &r[i];
        a->n++;
        a->correct += x->pred == x->label;
        a->nospike += !x->spiked;
        a->sum_tsp += x->tsp + 1;
        a->sum_loss += x->loss;
        a->sum_events += (double)x->events;
        a->sum_macs += x->macs;
        a->sum_macs_dense += x->macs_dense;
        a->sum_hevents += (double)x->hevents;
        a->sum_hslots += (double)x->hslots;
        if (x->tsp >= 0 && x->tsp <= 4096) a->hist[x->tsp]++;
        if (x->label >= 0 && x->label < RC_METRICS_MAX_CLASS) {
            a->cls_n[x->label]++;
            a->cls_correct[x->label] += x->pred == x->label;
            a->cls_sum_tsp[x->label] += x->tsp + 1;
            if (x->pred >= 0 && x->pred < RC_METRICS_MAX_CLASS) a->confusion[x->label][x->pred]++;
        }
        if (x->pred_end >= 0) {
            a->nend++;
            a->correct_end += x->pred_end == x->label;
        }
        if (a->spotting) {
            if (x->label == 1) {
                a->pos++;
                a->pos_earliest += x->spiked && x->pred == 1 && x->tsp == x->earliest;
            }
            /* A positive answer before any run of equal values completed. */
            if (x->spiked && x->pred == 1 && (x->earliest < 0 || x->tsp < x->earliest))
                a->early_fp++;
        }
    }
}

static double quantile(const rc_metrics_acc *a, double q)
{
    int64_t want = (int64_t)(q * (double)a->n), c = 0;
    for (int t = 0; t < a->T && t <= 4096; t++) {
        c += a->hist[t];
        if (c > want) return t + 1;
    }
    return a->T;
}

void rc_metrics_finish(const rc_metrics_acc *a, rc_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n = a->n;
    if (!a->n) return;
    const double n = (double)a->n;
    m->accuracy = a->correct / n;
    m->mean_spike_step = a->sum_tsp / n;
    m->mean_spike_fraction = m->mean_spike_step / a->T;
    m->no_spike_fraction = a->nospike / n;
    m->mean_loss = a->sum_loss / n;
    m->events_per_example = a->sum_events / n;
    m->macs_per_example = a->sum_macs / n;
    m->macs_dense_per_example = a->sum_macs_dense / n;
    m->hevents_per_example = a->sum_hevents / n;
    m->hevents_per_unit_step = a->sum_hslots > 0 ? a->sum_hevents / a->sum_hslots : 0;
    m->has_end = a->nend == a->n;
    m->accuracy_at_end = m->has_end ? a->correct_end / n : 0;
    m->tsp_p10 = quantile(a, 0.1);
    m->tsp_p50 = quantile(a, 0.5);
    m->tsp_p90 = quantile(a, 0.9);
    int64_t most = 0;
    for (int c = 0; c < RC_METRICS_MAX_CLASS; c++)
        if (a->cls_n[c] > most) most = a->cls_n[c];
    m->majority_fraction = most / n;
    m->has_earliest = a->spotting;
    if (a->spotting) {
        m->earliest_fraction = a->pos ? (double)a->pos_earliest / (double)a->pos : 0;
        m->early_false_positive_fraction = a->early_fp / n;
    }
}

int rc_stop_below_majority(int have_kept, double kept_acc, double val_acc, double majority)
{
    return have_kept && kept_acc >= majority && val_acc < majority;
}
