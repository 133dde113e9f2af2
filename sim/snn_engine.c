/* snn_engine.c — batches of a spiking network on the thread pool (see
 * snn_engine.h for the work split and why it is thread-count invariant). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "models/dense.h"
#include "models/lif.h"
#include "sim/snn_engine.h"

struct rc_snn_engine {
    rc_net *net;
    const rc_dataset *ds;
    rc_pool *pool;
    int B, T, K, H, maxthreads, dense;
    rc_lif_sim **sim;         /* (threads) per-thread simulator scratch        */
    rc_events *ev;            /* (threads) the example being run               */
    float **uout;             /* (threads, T·K) output potentials per step     */
    float **dz;               /* (threads, K)                                  */
    float *gbuf;              /* (chunks, nparams) per-chunk gradients          */
    float *PT;                /* (nparams) transposed weights (rc_lif_transpose) */
    int *tend;                /* (B) last step computed per example            */
    rc_status *tstat;         /* (threads) per-thread status                   */
    rc_err *terr;
    atomic_int next;          /* next chunk to take                            */
    /* Current call. */
    rc_split split;
    const int64_t *idx;
    int n, nch;
    const rc_batch_opts *o;
    rc_example_result *res;
};

void rc_snn_engine_free(rc_snn_engine *e)
{
    if (!e) return;
    for (int i = 0; i < e->maxthreads; i++) {
        if (e->sim) rc_lif_sim_free(e->sim[i]);
        if (e->ev) rc_events_free(&e->ev[i]);
        if (e->uout) free(e->uout[i]);
        if (e->dz) free(e->dz[i]);
    }
    free(e->sim); free(e->ev); free(e->uout); free(e->dz);
    free(e->gbuf); free(e->PT); free(e->tend); free(e->tstat); free(e->terr);
    free(e);
}

rc_snn_engine *rc_snn_engine_new(rc_net *net, const rc_dataset *ds, rc_pool *pool,
                                 int max_batch, rc_err *err)
{
    rc_snn_engine *e = calloc(1, sizeof *e);
    if (!e) goto nomem;
    e->net = net;
    e->ds = ds;
    e->pool = pool;
    e->B = max_batch;
    e->T = ds->T;
    e->K = net->s.K;
    e->H = net->s.H;
    e->maxthreads = rc_pool_nthreads(pool);
    const size_t nt = (size_t)e->maxthreads, nch = ((size_t)max_batch + RC_SNN_CHUNK - 1) / RC_SNN_CHUNK;
    e->sim = calloc(nt, sizeof *e->sim);
    e->ev = calloc(nt, sizeof *e->ev);
    e->uout = calloc(nt, sizeof *e->uout);
    e->dz = calloc(nt, sizeof *e->dz);
    e->tstat = calloc(nt, sizeof *e->tstat);
    e->terr = calloc(nt, sizeof *e->terr);
    e->tend = calloc((size_t)max_batch, sizeof *e->tend);
    e->gbuf = malloc(nch * net->nparams * sizeof *e->gbuf);
    e->PT = calloc(net->nparams, sizeof *e->PT);
    if (!e->PT || !e->sim || !e->ev || !e->uout || !e->dz || !e->tstat || !e->terr || !e->tend || !e->gbuf) goto nomem;
    for (size_t i = 0; i < nt; i++) {
        e->sim[i] = rc_lif_sim_new(&net->s.snn, e->T);
        e->uout[i] = calloc((size_t)e->T * (size_t)e->K, sizeof(float));
        e->dz[i] = calloc((size_t)e->K, sizeof(float));
        if (!e->sim[i] || !e->uout[i] || !e->dz[i]) goto nomem;
    }
    return e;
nomem:
    rc_snn_engine_free(e);
    rc_err_set(err, RC_ERR_NOMEM, "snn engine: cannot allocate buffers for batch %d", max_batch);
    return NULL;
}

rc_status rc_snn_engine_spikes(rc_snn_engine *e, rc_split split, int64_t index, double vscale, int stop,
                               rc_spike_fn fn, void *ud, rc_err *err)
{
    rc_example_info info;
    rc_status st = e->ds->get(e->ds, split, index, &e->ev[0], &info);
    if (st) return rc_err_set(err, st, "loading example %lld: %s", (long long)index, rc_status_str(st));
    rc_lif_result r;
    rc_lif_forward(e->sim[0], e->net->params, &e->ev[0], vscale > 0 ? (float)vscale : 1.0f, stop, 0, 0,
                   NULL, NULL, &r);
    const int np = rc_lif_npops(&e->net->s.snn);
    for (int t = 0; t <= r.tend; t++)
        for (int p = 0; p < np; p++) {
            const int *nb;
            const int n = rc_lif_sim_spikes(e->sim[0], p, t, &nb);
            if (n) fn(ud, p, t, nb, n);
        }
    return RC_OK;
}

void rc_snn_engine_set_dense(rc_snn_engine *e, int dense) { e->dense = dense; }

static void snn_fn(void *arg, int ith, int nth)
{
    rc_snn_engine *e = arg;
    const rc_batch_opts *o = e->o;
    const int T = e->T, K = e->K;
    const size_t np = e->net->nparams;
    const float *P = e->net->params;
    const float vscale = o->vth_scale > 0 ? (float)o->vth_scale : 1.0f;
    rc_lif_sim *sim = e->sim[ith];
    rc_events *ev = &e->ev[ith];
    float *uout = e->uout[ith], *dz = e->dz[ith];
    e->tstat[ith] = RC_OK;
    for (;;) {
        const int c = atomic_fetch_add(&e->next, 1);
        if (c >= e->nch) break;
        float *G = o->train ? e->gbuf + (size_t)c * np : NULL;
        if (G) memset(G, 0, np * sizeof *G);
        const int i0 = c * RC_SNN_CHUNK, i1 = i0 + RC_SNN_CHUNK < e->n ? i0 + RC_SNN_CHUNK : e->n;
        for (int i = i0; i < i1 && !e->tstat[ith]; i++) {
            rc_example_info info;
            rc_status st = e->ds->get(e->ds, e->split, e->idx[i], ev, &info);
            if (st) {
                e->tstat[ith] = st;
                rc_err_set(&e->terr[ith], st, "loading example %lld: %s", (long long)e->idx[i], rc_status_str(st));
                break;
            }
            rc_example_result *res = &e->res[i];
            res->label = info.label;
            res->earliest = info.earliest;
            rc_lif_result r;
            float *uh = o->rec_h ? o->rec_h + (size_t)i * T * e->H : NULL;
            rc_lif_forward(sim, P, ev, vscale, o->stop_at_spike, o->train, e->dense, uout, uh, &r);
            res->spiked = r.spiked;
            res->tsp = r.tsp;
            res->pred = r.pred;
            res->pred_end = r.pred_end;
            res->synops = r.synops;
            e->tend[i] = r.tend;
            if (o->rec_p)
                for (int t = 0; t <= r.tend; t++)
                    rc_output_probs(o->rec_p + ((size_t)i * T + t) * K, uout + (size_t)t * K, K);
            if (o->train) {
                /* Loss on the output potentials: at the first spike (RC; T−1
                 * without one) or at T−1 (EOS). */
                const int tl = o->loss_at_end ? T - 1 : r.tsp;
                const double l = rc_output_loss(dz, uout + (size_t)tl * K, K, res->label, o->beta, 1.0 / e->n);
                res->loss = (float)l;
                rc_lif_backward(sim, e->PT, G, ev, tl, dz);
            }
        }
    }
    /* Barrier: every chunk's gradient is complete before they are added up. */
    rc_pool_barrier(e->pool);
    for (int t = 0; t < nth; t++)
        if (e->tstat[t]) return;
    if (!o->train) return;
    size_t lo, hi;
    rc_partition(np, ith, nth, &lo, &hi);
    float *Gr = e->net->grads;
    for (int c = 0; c < e->nch; c++) {
        const float *g = e->gbuf + (size_t)c * np;
        for (size_t j = lo; j < hi; j++) Gr[j] += g[j];
    }
}

rc_status rc_snn_engine_batch(rc_snn_engine *e, rc_split split, const int64_t *idx, int n,
                              const rc_batch_opts *o, rc_example_result *res,
                              int64_t *rows_computed, rc_err *err)
{
    RC_ASSERT(n > 0 && n <= e->B);
    e->split = split;
    e->idx = idx;
    e->n = n;
    e->nch = (n + RC_SNN_CHUNK - 1) / RC_SNN_CHUNK;
    e->o = o;
    e->res = res;
    for (int i = 0; i < n; i++)
        res[i] = rc_example_result_empty(e->T);
    if (o->train) rc_lif_transpose(&e->net->s.snn, e->net->params, e->PT);
    atomic_store(&e->next, 0);
    rc_pool_run(e->pool, snn_fn, e);
    for (int i = 0; i < rc_pool_nthreads(e->pool); i++)
        if (e->tstat[i]) {
            if (err) *err = e->terr[i];
            return e->tstat[i];
        }
    if (rows_computed) {
        int64_t s = 0;
        for (int i = 0; i < n; i++) s += e->tend[i] + 1;
        *rows_computed = s;
    }
    return RC_OK;
}
