/* snn_engine.h — rc_engine_batch for spiking networks (RC_CORE_LIF).
 *
 * Examples are independent in an SNN (no batch-wide products), so each one
 * runs whole on one thread: event-driven forward until its first output spike
 * (RC) or T−1, then, in training, its surrogate-gradient BPTT (models/lif.h).
 * Threads take fixed chunks of RC_SNN_CHUNK examples from an atomic counter
 * (examples stop at different steps, so the work is irregular); each chunk's
 * gradient goes into its own buffer and the buffers are added in chunk order,
 * split by parameter across threads. A chunk's content and the order of every
 * sum are fixed, so results are bit-identical for any thread count.
 * rc_engine_new / rc_engine_batch dispatch here; Adam stays in engine.c. */
#ifndef RC_SNN_ENGINE_H
#define RC_SNN_ENGINE_H

#include "sim/engine.h"

#define RC_SNN_CHUNK 16

typedef struct rc_snn_engine rc_snn_engine;

rc_snn_engine *rc_snn_engine_new(rc_net *net, const rc_dataset *ds, rc_pool *pool,
                                 int max_batch, rc_err *err);
void rc_snn_engine_free(rc_snn_engine *e); /* NULL is a no-op */
/* As rc_engine_batch. rows_computed: Σ over examples of the steps computed.
 * res[i].synops: synaptic events of example i. o->rec_h gets the pre-reset
 * potentials of the layer before the output (n, T, H), o->rec_p the softmax
 * of the output potentials. With o->dense, every group is updated and every
 * input delivered each step (the dense step-by-step pass, for the bench). */
rc_status rc_snn_engine_batch(rc_snn_engine *e, rc_split split, const int64_t *idx, int n,
                              const rc_batch_opts *o, rc_example_result *res,
                              int64_t *rows_computed, rc_err *err);
/* As rc_engine_snn_spikes (engine.h); uses thread 0's scratch, so it must not
 * run during a batch. */
rc_status rc_snn_engine_spikes(rc_snn_engine *e, rc_split split, int64_t index, double vscale, int stop,
                               rc_spike_fn fn, void *ud, rc_err *err);
/* Bench only: 1 makes the next batches run the dense step-by-step pass. */
void rc_snn_engine_set_dense(rc_snn_engine *e, int dense);

#endif
