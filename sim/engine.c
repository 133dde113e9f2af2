/* engine.c — the engine interface (engine.h): picks the backend for a
 * network's core type from one table, dispatches through its ops, and holds
 * what every backend shares: the per-thread error slots, example loading,
 * Adam (sim/adam.c) and the NUMA check (sim/numa.c). */
#include <stdlib.h>
#include "sim/engine_backend.h"
#include "sim/engine_test.h"

/* The backend of each core type. A new backend is one more row (engine.h). */
static const struct {
    rc_core core;
    rc_engine *(*create)(rc_net *net, const rc_dataset *ds, rc_pool *pool, int max_batch, rc_err *err);
} backends[] = {
    { RC_CORE_LSTM, rc_engine_lstm_new },
    { RC_CORE_CONVLSTM, rc_engine_lstm_new },
    { RC_CORE_LIF, rc_engine_lif_new },
};

rc_engine *rc_engine_new(rc_net *net, const rc_dataset *ds, rc_pool *pool,
                         int max_batch, rc_err *err)
{
    for (size_t k = 0; k < sizeof backends / sizeof backends[0]; k++)
        if (backends[k].core == net->s.core) return backends[k].create(net, ds, pool, max_batch, err);
    RC_ASSERT(!"rc_engine_new: no backend for this core type");
    return NULL;
}

void rc_engine_free(rc_engine *e)
{
    if (e) e->ops->free(e);
}

rc_status rc_engine_batch(rc_engine *e, rc_split split, const int64_t *idx, int n,
                          const rc_batch_opts *o, rc_example_result *res,
                          int64_t *rows_computed, rc_err *err)
{
    RC_ASSERT(n > 0 && n <= e->B);
    e->split = split;
    e->idx = idx;
    e->n = n;
    e->o = o;
    e->res = res;
    for (int i = 0; i < n; i++)
        res[i] = rc_example_result_empty(e->T);
    return e->ops->batch(e, rows_computed, err);
}

rc_status rc_engine_spikes(rc_engine *e, rc_split split, int64_t index, const rc_batch_opts *o,
                           rc_spike_fn fn, void *ud, rc_err *err)
{
    if (!e->ops->spikes)
        return rc_err_set(err, RC_ERR_USAGE, "the %s engine has no spiking populations to trace", e->ops->name);
    return e->ops->spikes(e, split, index, o, fn, ud, err);
}

rc_status rc_engine_set_dense(rc_engine *e, int dense, rc_err *err)
{
    if (!e->ops->set_dense)
        return rc_err_set(err, RC_ERR_USAGE, "the %s engine has no dense pass", e->ops->name);
    e->ops->set_dense(e, dense);
    return RC_OK;
}

double rc_engine_adam(rc_engine *e, double lr, double b1, double b2, double eps,
                      double clip, int64_t step)
{
    return rc_adam_step(e->adam, lr, b1, b2, eps, clip, step);
}

void rc_engine_set_weight_decay(rc_engine *e, double wd)
{
    rc_adam_set_decay(e->adam, wd);
}

int rc_engine_adam_fault(const rc_engine *e, size_t *index)
{
    return rc_adam_fault(e->adam, index);
}

int rc_engine_numa_check(const rc_engine *e, FILE *f)
{
    if (!e->numa) {
        fprintf(f, "NUMA check: unsupported here: the %s engine binds no memory to NUMA nodes\n", e->ops->name);
        return -1;
    }
    return rc_numa_check(e->numa, f);
}

/* ---- shared by the backends (engine_backend.h) -------------------------- */

rc_status rc_engine_init(rc_engine *e, const rc_engine_ops *ops, rc_net *net, const rc_dataset *ds,
                         rc_pool *pool, int max_batch)
{
    e->ops = ops;
    e->net = net;
    e->ds = ds;
    e->pool = pool;
    e->B = max_batch;
    e->T = ds->T;
    e->maxthreads = rc_pool_nthreads(pool);
    e->tstat = calloc((size_t)e->maxthreads, sizeof *e->tstat);
    e->terr = calloc((size_t)e->maxthreads, sizeof *e->terr);
    e->adam = rc_adam_new(net, pool);
    return e->tstat && e->terr && e->adam ? RC_OK : RC_ERR_NOMEM;
}

void rc_engine_fini(rc_engine *e)
{
    rc_adam_free(e->adam);
    rc_numa_free(e->numa);
    free(e->tstat);
    free(e->terr);
}

rc_status rc_engine_load(const rc_engine *e, rc_split split, int64_t index, rc_events *ev,
                         rc_example_info *info, rc_err *err)
{
    rc_status st = e->ds->get(e->ds, split, index, ev, info);
    if (st) rc_err_set(err, st, "loading example %lld: %s", (long long)index, rc_status_str(st));
    return st;
}

rc_status rc_engine_thread_load(rc_engine *e, int ith, rc_split split, int64_t index, rc_events *ev,
                                rc_example_info *info)
{
    /* A thread keeps the message of its first error. */
    rc_status st = rc_engine_load(e, split, index, ev, info, e->tstat[ith] ? NULL : &e->terr[ith]);
    if (st && !e->tstat[ith]) e->tstat[ith] = st;
    return st;
}

int rc_engine_failed(const rc_engine *e, int nth)
{
    for (int i = 0; i < nth; i++)
        if (e->tstat[i]) return 1;
    return 0;
}

rc_status rc_engine_run_status(const rc_engine *e, rc_err *err)
{
    for (int i = 0; i < rc_pool_nthreads(e->pool); i++)
        if (e->tstat[i]) {
            if (err) *err = e->terr[i];
            return e->tstat[i];
        }
    return RC_OK;
}
