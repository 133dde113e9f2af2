/* engine.h — the engine: runs batches of examples of a network on the thread
 * pool (forward, and in training backward), and the optimiser step. One
 * interface, several backends; rc_engine_new picks the backend from the
 * network's core type (sim/engine.c, one table):
 *
 *   RC_CORE_LSTM, RC_CORE_CONVLSTM  sim/engine_lstm.c: the step loop. A batch
 *       of n examples starts with all n active. At every step t the LSTM is
 *       computed for the active rows only; the head decides which examples
 *       spike (single sigmoid: ŷ ≥ θ positive, ŷ ≤ 1−θ negative; softmax:
 *       max ŷ ≥ θ); in RC mode those examples leave the active set (stable
 *       compaction, not masking), so an example that has answered costs
 *       nothing more. BPTT then walks t = t_max … 0 and injects each
 *       example's output gradient at its own t_sp. In EOS mode every example
 *       runs to T−1 and its loss is taken there; the first spikes are still
 *       recorded, for RC-inference metrics of EOS models.
 *   RC_CORE_LIF  sim/engine_lif.c: a spiking network, whole examples per
 *       thread, event-driven; its answer is its first output spike.
 *
 * Every backend is bit-identical for any thread count.
 *
 * Adding a backend: write sim/engine_X.c with a constructor
 * `rc_engine *rc_engine_X_new(net, ds, pool, max_batch, err)` that fills an
 * rc_engine_ops table and calls rc_engine_init (sim/engine_backend.h, which
 * also has the shared helpers: example loading, per-thread errors, Adam in
 * sim/adam.h, NUMA binding in sim/numa.h); declare the constructor in
 * engine_backend.h and add one row to the table in sim/engine.c. If the
 * backend has options of its own, add a struct and one member to
 * rc_batch_opts below. Nothing else dispatches on the core type.
 *
 * Networks of point neurons (task.name = network) do not run examples: they
 * advance simulated time. They have their own engine, sim/network.h, which
 * shares the pool, the hwloc placement and NUMA binding, the counter-based
 * RNG and the SONATA writer with these backends; sim/app/train.c's rc_run
 * hands a network config to it before anything else. */
#ifndef RC_ENGINE_H
#define RC_ENGINE_H

#include <stdint.h>
#include <stdio.h>
#include "encoders/dataset.h"
#include "models/net.h"
#include "sim/pool.h"
#include "base/status.h"

/* Options only the LSTM / ConvLSTM backend reads. */
typedef struct {
    double threshold;   /* θ: an output spikes when its probability reaches it */
    /* Delta LSTM and ConvLSTM. 0 on a side: that side is exact as without
     * deltas (both 0: the plain LSTM or ConvLSTM, bit for bit). Θ > 0: per
     * example, a unit (ConvLSTM: a hidden map element, channel·Hh·Ww + y·Ww
     * + x, or an input channel·pixel) sends an event when its value moved by
     * at least Θ from the last value it sent, and only events update the
     * gate memory M (initialised with the biases; a ConvLSTM event adds its
     * k×k kernel taps):
     *   delta_h: hidden units, h_{t−1} against ĥ (what the recurrent product
     *            sees is ĥ);
     *   delta_x: input channels, x_t against x̂ (x_t: the step's events
     *            summed per channel; channels without events are 0).
     * Training uses the same forward and a straight-through gradient
     * (∂ĥ/∂h = 1; the weight gradients use ĥ and x̂). */
    double delta_x, delta_h;
    /* Training, LSTM only (train.delta_l1): adds delta_l1 · mean over units
     * of |h_t − h_{t−1}| (h_{−1} = 0) for every step up to the loss step to
     * each example's loss, so hidden units change less from step to step
     * and send fewer delta events. 0: none. Exact h, with or without deltas. */
    double delta_l1;
    float *rec_dh;      /* optional (n, T, H): the hidden events of every computed
                           step, Δ = h_{t−1} − ĥ_old where a unit sent one, 0
                           elsewhere (delta_h > 0 only)                      */
} rc_engine_lstm_opts;

/* Options only the LIF backend reads. θ has no meaning there: a spiking
 * network answers with its first output spike. */
typedef struct {
    double vth_scale;   /* the output layer's V_th is multiplied by this
                           (threshold sweeps); 0 means 1                   */
    float *const *rec_u; /* rc_engine_spikes only, optional: one pointer per
                           LIF population (rc_lif_npops), NULL or (T, its
                           neurons) receiving its pre-reset potentials of
                           every computed step (traces.h5 membranes)       */
} rc_engine_lif_opts;

/* Options of one batch. The common fields mean the same to every backend;
 * each backend reads its own member (lstm, lif) and ignores the others, so a
 * caller that does not know the core (a threshold sweep) sets them all.
 * Zero is the default of lif.vth_scale; lstm.threshold has none (θ = 0
 * answers at step 0). */
typedef struct {
    int train;          /* run backward, accumulate gradients into net->grads    */
    int stop_at_spike;  /* drop an example from the active set at its 1st spike  */
    int loss_at_end;    /* training loss at T−1 (EOS) instead of at t_sp (RC)     */
    double beta;        /* entropy regulariser weight β                           */
    int mean_over;      /* train: the loss is the mean over this many examples
                           (a shard of a batch: the whole batch's size); 0: n   */
    float *rec_h;       /* optional (n, T, H): the hidden state of every computed
                           step (LSTM: h_t; LIF: the pre-reset potentials of the
                           layer before the output)                             */
    float *rec_p;       /* optional (n, T, K): output probabilities of every step  */
                        /* (steps not computed are left as the caller set them)  */
    rc_engine_lstm_opts lstm;
    rc_engine_lif_opts lif;
} rc_batch_opts;

typedef struct {
    int label;          /* true class                                            */
    int earliest;       /* spotting: earliest correct step (0-based), else −1    */
    int spiked;         /* 1 if an output spiked                                 */
    int tsp;            /* 0-based step of the first spike; T−1 if none          */
    int pred;           /* class of the first spike (argmax at T−1 if none)      */
    int pred_end;       /* class at T−1 (−1 if the example stopped earlier)      */
    float loss;         /* training loss of this example (train only)            */
    int64_t events;     /* input events read over the steps computed (delta_x >
                           0: input delta events sent)                           */
    int64_t hevents;    /* delta_h > 0: hidden delta events sent (0 otherwise)   */
    int64_t hslots;     /* delta_h > 0: unit-steps that could send one (H per
                           computed step after step 0)                           */
    double macs;        /* forward multiply-accumulates executed (rc_net_step_macs) */
    double macs_dense;  /* what the same steps cost with the dense recurrent
                           product (= macs without deltas)                       */
    int64_t synops;     /* LIF: synaptic events delivered (0 for the ANN cores)  */
} rc_example_result;

/* A result before its example runs: no spike yet, answer at the last step. */
static inline rc_example_result rc_example_result_empty(int T)
{
    return (rc_example_result){ .earliest = -1, .tsp = T - 1, .pred_end = -1 };
}

typedef struct rc_engine rc_engine;

/* The engine for net's core type, with scratch for batches of up to
 * max_batch examples. NULL (err set) on allocation failure. */
rc_engine *rc_engine_new(rc_net *net, const rc_dataset *ds, rc_pool *pool,
                         int max_batch, rc_err *err);
void rc_engine_free(rc_engine *e); /* NULL is a no-op */

/* Runs examples idx[0..n) of `split`, 0 < n ≤ max_batch. Fills res[0..n).
 * With o->train, the gradients of the mean loss over the n examples (over
 * o->mean_over examples when set) are added to net->grads. *rows_computed (optional) receives the steps computed,
 * summed over the examples (Σ_t active rows). */
rc_status rc_engine_batch(rc_engine *e, rc_split split, const int64_t *idx, int n,
                          const rc_batch_opts *o, rc_example_result *res,
                          int64_t *rows_computed, rc_err *err);

/* Runs example `index` of `split` alone on the calling thread (not during a
 * batch; o->train is ignored) and calls fn(ud, population, step, neurons, n)
 * for every population's spikes at every computed step (LIF: populations as
 * rc_lif_pop_name). For traces.h5. A backend without spiking populations
 * returns RC_ERR_USAGE with a message naming it. */
typedef void (*rc_spike_fn)(void *ud, int pop, int t, const int *neurons, int n);
rc_status rc_engine_spikes(rc_engine *e, rc_split split, int64_t index, const rc_batch_opts *o,
                           rc_spike_fn fn, void *ud, rc_err *err);

/* Decoupled weight decay in every later rc_engine_adam step (AdamW: each
 * parameter first multiplied by 1 − lr·wd); 0 = none (the default). */
void rc_engine_set_weight_decay(rc_engine *e, double wd);

/* Global L2 norm of net->grads, summed in fixed chunks in a fixed order so the
 * value does not depend on the thread count; then, if clip > 0 and the norm
 * exceeds it, scales the gradients by clip/norm; then one Adam step (step
 * counter `step` ≥ 1, bias-corrected). Returns the pre-clip norm. The same
 * for every backend (sim/adam.h). */
double rc_engine_adam(rc_engine *e, double lr, double b1, double b2, double eps,
                      double clip, int64_t step);

/* After rc_engine_adam: rc_adam_fault of the engine's optimiser (0: all
 * finite; 1: a non-finite gradient, no update; 2: a parameter became
 * non-finite), *index the first bad element (sim/adam.h). */
int rc_engine_adam_fault(const rc_engine *e, size_t *index);

/* `rcsim info --check`: for each thread, on which NUMA node the pages of
 * what it owns landed, against the node it runs on; one line each to f
 * (sim/numa.h). Returns the number of mismatches, or -1 when this engine or
 * system cannot tell (the line printed says why: a backend that binds no
 * memory, no memory binding or page query support, e.g. in a container). */
int rc_engine_numa_check(const rc_engine *e, FILE *f);

/* Examples per work chunk of the LIF backend (rcsim info prints it). */
#define RC_ENGINE_LIF_CHUNK 16

/* 1 / the number of examples the training loss is the mean over (engine
 * backends). */
static inline double rc_batch_loss_scale(const rc_batch_opts *o, int n)
{
    return 1.0 / (o->mean_over > 0 ? o->mean_over : n);
}

#endif
