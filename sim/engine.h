/* engine.h — the step loop: one batch forward (and backward) with per-example
 * first spikes and active-set compaction, on the thread pool.
 *
 * A batch of n examples starts with all n active. At every step t the LSTM is
 * computed for the active rows only; the head decides which examples spike
 * (single sigmoid: ŷ ≥ θ positive, ŷ ≤ 1−θ negative; softmax: max ŷ ≥ θ);
 * in RC mode those examples leave the active set (stable compaction, not
 * masking), so an example that has answered costs nothing more. BPTT then
 * walks t = t_max … 0 and injects each example's output gradient at its own
 * t_sp. In EOS mode every example runs to T−1 and its loss is taken there; the
 * first spikes are still recorded, for RC-inference metrics of EOS models.
 *
 * A spiking network (model.type = snn, RC_CORE_LIF) runs behind the same
 * interface in sim/snn_engine.c: whole examples per thread, event-driven. */
#ifndef RC_ENGINE_H
#define RC_ENGINE_H

#include <stdint.h>
#include <stdio.h>
#include "encoders/dataset.h"
#include "models/net.h"
#include "sim/pool.h"
#include "base/status.h"

typedef struct {
    int train;          /* run backward, accumulate gradients into net->grads    */
    int stop_at_spike;  /* drop an example from the active set at its 1st spike  */
    int loss_at_end;    /* training loss at T−1 (EOS) instead of at t_sp (RC)     */
    double threshold;   /* θ                                                      */
    double beta;        /* entropy regulariser weight β                           */
    float *rec_h;       /* optional (n, T, H): h_t of every computed step          */
    float *rec_p;       /* optional (n, T, K): output probabilities of every step  */
                        /* (steps not computed are left as the caller set them)  */
    double vth_scale;   /* SNN: the output layer's V_th is multiplied by this
                           (threshold sweeps); 0 means 1. θ is unused there: an
                           SNN answers with its first output spike.            */
} rc_batch_opts;

typedef struct {
    int label;          /* true class                                            */
    int earliest;       /* spotting: earliest correct step (0-based), else −1    */
    int spiked;         /* 1 if an output crossed θ                              */
    int tsp;            /* 0-based step of the first spike; T−1 if none          */
    int pred;           /* class of the first spike (argmax at T−1 if none)      */
    int pred_end;       /* class at T−1 (−1 if the example stopped earlier)      */
    float loss;         /* training loss of this example (train only)            */
    int64_t events;     /* input events read over the steps computed             */
    double macs;        /* forward multiply-accumulates executed (rc_net_step_macs) */
    int64_t synops;     /* SNN: synaptic events delivered (0 for the ANN cores)  */
} rc_example_result;

/* A result before its example runs: no spike yet, answer at the last step. */
static inline rc_example_result rc_example_result_empty(int T)
{
    return (rc_example_result){ .earliest = -1, .tsp = T - 1, .pred_end = -1 };
}

typedef struct rc_engine rc_engine;

/* The engine keeps scratch for batches of up to max_batch examples. */
rc_engine *rc_engine_new(rc_net *net, const rc_dataset *ds, rc_pool *pool,
                         int max_batch, rc_err *err);
void rc_engine_free(rc_engine *e); /* NULL is a no-op */

/* Runs examples idx[0..n) of `split`. Fills res[0..n). With o->train, the
 * gradients of the mean loss over the n examples are added to net->grads.
 * *rows_computed (optional) receives Σ_t active rows (the steps computed). */
rc_status rc_engine_batch(rc_engine *e, rc_split split, const int64_t *idx, int n,
                          const rc_batch_opts *o, rc_example_result *res,
                          int64_t *rows_computed, rc_err *err);

/* Spiking networks only: runs example `index` of `split` alone on the calling
 * thread (RC-inference if stop; output V_th × vscale) and calls
 * fn(ud, population, step, neurons, n) for every LIF population's spikes at
 * every computed step (populations as rc_lif_pop_name). For traces.h5. */
typedef void (*rc_spike_fn)(void *ud, int pop, int t, const int *neurons, int n);
rc_status rc_engine_snn_spikes(rc_engine *e, rc_split split, int64_t index, double vscale, int stop,
                               rc_spike_fn fn, void *ud, rc_err *err);

/* Global L2 norm of net->grads, summed in fixed chunks in a fixed order so the
 * value does not depend on the thread count; then, if clip > 0 and the norm
 * exceeds it, scales the gradients by clip/norm; then one Adam step (step
 * counter `step` ≥ 1, bias-corrected). Returns the pre-clip norm. */
double rc_engine_adam(rc_engine *e, double lr, double b1, double b2, double eps,
                      double clip, int64_t step);

/* `rcsim info --check`: for each thread, on which NUMA node the pages of
 * what it owns landed (its w_hh rows in params, grads and Adam moments; its
 * ConvLSTM scratch), against the node it runs on; one line each to f.
 * Returns the number of mismatches, or -1 when this system cannot tell (the
 * line printed says why: no memory binding or page query support, e.g. in a
 * container). Areas under a page are skipped. */
int rc_engine_numa_check(const rc_engine *e, FILE *f);

#endif
