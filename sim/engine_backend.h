/* engine_backend.h — private to the engine: what a backend implements and
 * the pieces every backend shares. Only sim/engine*.c include it.
 *
 * A backend's state is a struct whose first member is an rc_engine (the
 * shared state below), so rc_engine * and the backend's pointer convert both
 * ways. Its constructor calls rc_engine_init with its ops table, allocates
 * its own scratch, and may bind memory (e->numa) and hand owned parameter
 * ranges to Adam (rc_adam_set_owned). sim/engine.c dispatches through ops;
 * when ops->batch runs, it has checked 0 < n ≤ max_batch, stored the call's
 * arguments in the rc_engine and reset res[0..n) to rc_example_result_empty. */
#ifndef RC_ENGINE_BACKEND_H
#define RC_ENGINE_BACKEND_H

#include "sim/adam.h"
#include "sim/engine.h"
#include "sim/numa.h"

typedef struct {
    const char *name;   /* for messages: "lstm", "lif"                        */
    /* Frees the backend's own state, then calls rc_engine_fini and frees e. */
    void (*free)(rc_engine *e);
    /* As rc_engine_batch, on the call's arguments in e (split ... res). */
    rc_status (*batch)(rc_engine *e, int64_t *rows_computed, rc_err *err);
    /* Optional (NULL: unsupported): as rc_engine_spikes. */
    rc_status (*spikes)(rc_engine *e, rc_split split, int64_t index, const rc_batch_opts *o,
                        rc_spike_fn fn, void *ud, rc_err *err);
    /* Optional, bench only (sim/engine_test.h). */
    void (*set_dense)(rc_engine *e, int dense);
} rc_engine_ops;

struct rc_engine {
    const rc_engine_ops *ops;
    rc_net *net;
    const rc_dataset *ds;
    rc_pool *pool;
    int B;                    /* max_batch                                  */
    int T;                    /* steps per example (ds->T)                  */
    int maxthreads;           /* rc_pool_nthreads(pool)                     */
    rc_adam *adam;            /* the optimiser (sim/adam.h)                 */
    rc_numa *numa;            /* NULL: the backend binds no memory          */
    rc_status *tstat;         /* (threads) per-thread status (NEST style)   */
    rc_err *terr;             /* (threads) its message                      */
    /* The current rc_engine_batch call. */
    rc_split split;
    const int64_t *idx;       /* (n) examples of split                      */
    int n;
    const rc_batch_opts *o;
    rc_example_result *res;   /* (n) */
};

/* Fills the shared state and allocates the per-thread error slots and Adam.
 * Returns RC_ERR_NOMEM (nothing to free but what rc_engine_fini frees) or
 * RC_OK. */
rc_status rc_engine_init(rc_engine *e, const rc_engine_ops *ops, rc_net *net, const rc_dataset *ds,
                         rc_pool *pool, int max_batch);
void rc_engine_fini(rc_engine *e); /* the shared state only; e itself stays */

/* Loads example `index` of `split` into ev and info; on failure err says
 * which example and why. */
rc_status rc_engine_load(const rc_engine *e, rc_split split, int64_t index, rc_events *ev,
                         rc_example_info *info, rc_err *err);

/* Per-thread errors, inside a pool run: rc_engine_thread_load is
 * rc_engine_load by thread ith, recording the thread's first error in its
 * slot (the caller resets tstat[ith] to RC_OK when its run starts). After a
 * barrier, rc_engine_failed says whether any of the nth threads failed, so
 * all leave together. After the run, rc_engine_run_status returns the first
 * failed thread's status and copies its message to err. */
rc_status rc_engine_thread_load(rc_engine *e, int ith, rc_split split, int64_t index, rc_events *ev,
                                rc_example_info *info);
int rc_engine_failed(const rc_engine *e, int nth);
rc_status rc_engine_run_status(const rc_engine *e, rc_err *err);

/* The backends (one row each in sim/engine.c's table). NULL, err set, on
 * allocation failure. */
rc_engine *rc_engine_lstm_new(rc_net *net, const rc_dataset *ds, rc_pool *pool, int max_batch, rc_err *err);
rc_engine *rc_engine_lif_new(rc_net *net, const rc_dataset *ds, rc_pool *pool, int max_batch, rc_err *err);

#endif
