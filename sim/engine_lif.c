/* engine_lif.c — the engine backend for spiking networks (RC_CORE_LIF).
 *
 * Examples are independent in an SNN (no batch-wide products), so each one
 * runs whole on one thread: event-driven forward until its first output spike
 * (RC) or T−1, then, in training, its surrogate-gradient BPTT (models/lif.h).
 * Threads take fixed chunks of RC_ENGINE_LIF_CHUNK examples from an atomic
 * counter (examples stop at different steps, so the work is irregular); each
 * chunk's gradient goes into its own buffer and the buffers are added in
 * chunk order, split by parameter across threads. A chunk's content and the
 * order of every sum are fixed, so results are bit-identical for any thread
 * count. Nothing is bound to NUMA nodes yet; Adam takes equal shares.
 *
 * rec_h receives the pre-reset potentials of the layer before the output
 * (n, T, H), rec_p the softmax of the output potentials; res[i].synops the
 * synaptic events of example i. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "models/dense.h"
#include "models/lif.h"
#include "sim/engine_backend.h"

typedef struct {
    rc_engine base;
    int K, H, dense;
    rc_lif_sim **sim;         /* (threads) per-thread simulator scratch        */
    rc_events *ev;            /* (threads) the example being run               */
    float **uout;             /* (threads, T·K) output potentials per step     */
    float **dz;               /* (threads, K)                                  */
    float *gbuf;              /* (chunks, nparams) per-chunk gradients          */
    float *PT;                /* (nparams) transposed weights (rc_lif_transpose) */
    int *tend;                /* (B) last step computed per example            */
    atomic_int next;          /* next chunk to take                            */
    int nch;                  /* chunks of the current batch                   */
} lif_engine;

/* The output layer's V_th multiplier of o (0 means 1). */
static float vth_scale(const rc_batch_opts *o)
{
    return o->lif.vth_scale > 0 ? (float)o->lif.vth_scale : 1.0f;
}

static void lif_free(rc_engine *base)
{
    lif_engine *e = (lif_engine *)base;
    for (int i = 0; i < base->maxthreads; i++) {
        if (e->sim) rc_lif_sim_free(e->sim[i]);
        if (e->ev) rc_events_free(&e->ev[i]);
        if (e->uout) free(e->uout[i]);
        if (e->dz) free(e->dz[i]);
    }
    free(e->sim); free(e->ev); free(e->uout); free(e->dz);
    free(e->gbuf); free(e->PT); free(e->tend);
    rc_engine_fini(base);
    free(e);
}

static rc_status lif_spikes(rc_engine *base, rc_split split, int64_t index, const rc_batch_opts *o,
                            rc_spike_fn fn, void *ud, rc_err *err)
{
    lif_engine *e = (lif_engine *)base;
    rc_example_info info;
    rc_status st = rc_engine_load(base, split, index, &e->ev[0], &info, err);
    if (st) return st;
    rc_lif_result r;
    /* Recording only logs the touched groups' potentials: same spikes. */
    rc_lif_forward(e->sim[0], base->net->params, &e->ev[0], vth_scale(o), o->stop_at_spike, o->lif.rec_u != NULL, 0,
                   NULL, NULL, &r);
    if (o->lif.rec_u) rc_lif_sim_potentials(e->sim[0], r.tend, o->lif.rec_u);
    const int np = rc_lif_npops(&base->net->s.snn);
    for (int t = 0; t <= r.tend; t++)
        for (int p = 0; p < np; p++) {
            const int *nb;
            const int n = rc_lif_sim_spikes(e->sim[0], p, t, &nb);
            if (n) fn(ud, p, t, nb, n);
        }
    return RC_OK;
}

static void lif_set_dense(rc_engine *base, int dense) { ((lif_engine *)base)->dense = dense; }

/* Example i of the batch on thread ith's simulator; its gradient into G. */
static void run_example(lif_engine *e, int ith, int i, float *G, const rc_example_info *info)
{
    const rc_batch_opts *o = e->base.o;
    const int T = e->base.T, K = e->K;
    rc_lif_sim *sim = e->sim[ith];
    float *uout = e->uout[ith], *dz = e->dz[ith];
    rc_example_result *res = &e->base.res[i];
    res->label = info->label;
    res->earliest = info->earliest;
    rc_lif_result r;
    float *uh = o->rec_h ? o->rec_h + (size_t)i * T * e->H : NULL;
    rc_lif_forward(sim, e->base.net->params, &e->ev[ith], vth_scale(o), o->stop_at_spike, o->train, e->dense,
                   uout, uh, &r);
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
        const double l = rc_output_loss(dz, uout + (size_t)tl * K, K, res->label, o->beta, rc_batch_loss_scale(o, e->base.n));
        res->loss = (float)l;
        rc_lif_backward(sim, e->PT, G, &e->ev[ith], tl, dz);
    }
}

static void batch_fn(void *arg, int ith, int nth)
{
    lif_engine *e = arg;
    rc_engine *b = &e->base;
    const size_t np = b->net->nparams;
    b->tstat[ith] = RC_OK;
    for (;;) {
        const int c = atomic_fetch_add(&e->next, 1);
        if (c >= e->nch) break;
        float *G = e->base.o->train ? e->gbuf + (size_t)c * np : NULL;
        if (G) memset(G, 0, np * sizeof *G);
        const int i0 = c * RC_ENGINE_LIF_CHUNK;
        const int i1 = i0 + RC_ENGINE_LIF_CHUNK < e->base.n ? i0 + RC_ENGINE_LIF_CHUNK : e->base.n;
        for (int i = i0; i < i1 && !b->tstat[ith]; i++) {
            rc_example_info info;
            if (rc_engine_thread_load(b, ith, e->base.split, e->base.idx[i], &e->ev[ith], &info)) break;
            run_example(e, ith, i, G, &info);
        }
    }
    /* Barrier: every chunk's gradient is complete before they are added up. */
    rc_pool_barrier(b->pool);
    if (rc_engine_failed(b, nth) || !e->base.o->train) return;
    size_t lo, hi;
    rc_partition(np, ith, nth, &lo, &hi);
    float *Gr = b->net->grads;
    for (int c = 0; c < e->nch; c++) {
        const float *g = e->gbuf + (size_t)c * np;
        for (size_t j = lo; j < hi; j++) Gr[j] += g[j];
    }
}

static rc_status lif_batch(rc_engine *base, int64_t *rows_computed, rc_err *err)
{
    lif_engine *e = (lif_engine *)base;
    const int n = base->n;
    e->nch = (n + RC_ENGINE_LIF_CHUNK - 1) / RC_ENGINE_LIF_CHUNK;
    if (base->o->train) rc_lif_transpose(&base->net->s.snn, base->net->params, e->PT);
    atomic_store(&e->next, 0);
    rc_pool_run(base->pool, batch_fn, e);
    rc_status st = rc_engine_run_status(base, err);
    if (st) return st;
    if (rows_computed) {
        int64_t s = 0;
        for (int i = 0; i < n; i++) s += e->tend[i] + 1;
        *rows_computed = s;
    }
    return RC_OK;
}

static const rc_engine_ops lif_ops = {
    .name = "lif", .free = lif_free, .batch = lif_batch, .spikes = lif_spikes, .set_dense = lif_set_dense,
};

rc_engine *rc_engine_lif_new(rc_net *net, const rc_dataset *ds, rc_pool *pool, int max_batch, rc_err *err)
{
    lif_engine *e = calloc(1, sizeof *e);
    if (!e) goto nomem;
    if (rc_engine_init(&e->base, &lif_ops, net, ds, pool, max_batch)) goto nomem;
    e->K = net->s.K;
    e->H = net->s.H;
    const int T = e->base.T;
    const size_t nt = (size_t)e->base.maxthreads;
    const size_t nch = ((size_t)max_batch + RC_ENGINE_LIF_CHUNK - 1) / RC_ENGINE_LIF_CHUNK;
    e->sim = calloc(nt, sizeof *e->sim);
    e->ev = calloc(nt, sizeof *e->ev);
    e->uout = calloc(nt, sizeof *e->uout);
    e->dz = calloc(nt, sizeof *e->dz);
    e->tend = calloc((size_t)max_batch, sizeof *e->tend);
    e->gbuf = malloc(nch * net->nparams * sizeof *e->gbuf);
    e->PT = calloc(net->nparams, sizeof *e->PT);
    if (!e->PT || !e->sim || !e->ev || !e->uout || !e->dz || !e->tend || !e->gbuf) goto nomem;
    for (size_t i = 0; i < nt; i++) {
        e->sim[i] = rc_lif_sim_new(&net->s.snn, T);
        e->uout[i] = calloc((size_t)T * (size_t)e->K, sizeof(float));
        e->dz[i] = calloc((size_t)e->K, sizeof(float));
        if (!e->sim[i] || !e->uout[i] || !e->dz[i]) goto nomem;
    }
    return &e->base;
nomem:
    if (e) lif_free(&e->base);
    rc_err_set(err, RC_ERR_NOMEM, "lif engine: cannot allocate buffers for batch %d", max_batch);
    return NULL;
}
