/* engine.c — batch forward/backward with first spikes and active sets.
 *
 * Work split (all threads run batch_fn; see the barrier comments):
 *  - loading events:         examples partitioned across threads
 *  - LSTM forward/backward:  hidden-unit tiles partitioned (models/lstm.h)
 *  - head, spike decisions,
 *    loss, head backward:    thread 0, serially, in row order (the head is
 *                            ≤ 1 % of the work; serial keeps sums in a fixed
 *                            order without per-thread gradient copies)
 * Per-step caches are stored for the rows actually computed, concatenated
 * over steps (rowoff[t] .. rowoff[t] + nrow[t]), so the recurrent weight
 * gradient is one sgemm per tile over all Σ_t n_t rows.
 *
 * Which tiles a thread owns comes from sim/plan.c (contiguous, weighted by
 * cost). At creation each thread binds the pages of what it owns (its w_hh
 * rows in params, grads and Adam moments; its ConvLSTM scratch) to its NUMA
 * node, and the Adam update of its w_hh rows runs on it; shared buffers are
 * interleaved over the threads' nodes. Binding only moves pages: a failure
 * costs speed, never a result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/dense.h"
#include "models/convlstm.h"
#include "models/lstm.h"
#include "sim/engine.h"
#include "sim/plan.h"
#include "sim/topo.h"
#include "sim/snn_engine.h"

struct rc_engine {
    rc_snn_engine *snn;       /* RC_CORE_LIF: everything but Adam is there  */
    rc_net *net;
    const rc_dataset *ds;
    rc_pool *pool;
    int B, T, H, G4, ntiles;
    int conv;                 /* RC_CORE_CONVLSTM: the ConvLSTM kernels     */
    int tile_units;           /* state units per tile (16, or 4·Hh·Ww)      */
    float **scratch;          /* (threads) ConvLSTM im2col scratch          */
    float *xd;                /* (B·T, nin) LSTM: dense inputs of dense steps */
    unsigned char *xrow;      /* (B·T) 1 where the row's xd copy is valid   */
    unsigned char *xstep;     /* (T)   1 where step t runs the dense path   */
    int nin;
    float *whpart;            /* (chunks, 4C·CKK) ConvLSTM ∂W_h per chunk   */
    size_t nwh;               /* 4C·CKK                                    */
    rc_events *ev;            /* (B) event streams of the batch's examples */
    rc_example_info *info;    /* (B) */
    /* Per-step bookkeeping, rows concatenated over steps (B·T rows max). */
    int *rowoff;              /* (T+1) first cached row of step t          */
    int *nrow;                /* (T)   active rows at step t               */
    int *row_ex;              /* (B·T) batch slot of each cached row       */
    int *pos;                 /* (B·T) row of the same example at step t−1 */
    int *beg, *end;           /* (B·T) event range of the row's step       */
    const int32_t **ich;      /* (B·T) channel array of the row's example  */
    const float **ival;       /* (B·T) value array of the row's example    */
    float *act_all;           /* (B·T, 4H) gate activations                */
    float *c_all;             /* (B·T, H)  c_t                             */
    float *hp_all;            /* (B·T, H)  h_{t−1} (compacted)             */
    float *cp_all;            /* (B·T, H)  c_{t−1} (compacted)             */
    float *dgate_all;         /* (B·T, 4H) ∂L/∂a                           */
    float *hcur;              /* (B, H)    h_t of the current step         */
    float *dh, *dcn, *dhp, *dcp; /* (B, H) backward scratch                */
    float *inj;               /* (B, H)    ∂L/∂h at t_sp, per batch slot   */
    int *lstep;               /* (B)       step the loss was taken, or −1  */
    float *pbuf, *dz;         /* (K)                                       */
    int hsum;                 /* Σ hidden head widths (≥ 1)                */
    float *zall;              /* (B, K)    logits of the current step      */
    float *hacts_all;         /* (B, hsum) head activations, current step  */
    float *hscratch;          /* 2·head width                              */
    int tmax;                 /* last step computed in this batch          */
    /* Current call. */
    rc_split split;
    const int64_t *idx;
    int n;
    const rc_batch_opts *o;
    rc_example_result *res;
    double loss_sum;
    rc_status *tstat;         /* per-thread status (NEST style)            */
    rc_err *terr;
    int maxthreads;
    /* Adam call. */
    double a_lr, a_b1, a_b2, a_eps, a_scale;
    int64_t a_step;
    double *chunk_sq;         /* per-chunk sums of squares                 */
    size_t nchunks;
    /* Partition (sim/plan.c) and NUMA binding. */
    size_t *tb;               /* (threads+1) tile bounds of each thread    */
    size_t *own_lo, *own_hi;  /* (threads) owned floats, relative to w_hh  */
    int *bind_err;            /* (threads) errno of a failed bind, or 0    */
    int shared_bind_err;      /* errno of a failed interleave, or 0        */
    const char *bind_why;     /* why nothing was bound (static), or NULL   */
};

#define CHUNK 4096

static void *xcalloc(size_t n, size_t sz, int *fail)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) *fail = 1;
    return p;
}

/* ---- NUMA binding ---------------------------------------------------------- */

/* Each thread binds the pages it owns to its node, then touches its scratch
 * (first touch places fresh pages by the policy just set). */
static void bind_fn(void *arg, int ith, int nth)
{
    (void)nth;
    rc_engine *e = arg;
    rc_net *net = e->net;
    const rc_topo *topo = rc_pool_topo(e->pool);
    const int node = rc_pool_thread_numa(e->pool, ith);
    if (node < 0) return;
    float *blocks[4] = { net->params, net->grads, net->m, net->v };
    const size_t len = (e->own_hi[ith] - e->own_lo[ith]) * sizeof(float);
    for (int b = 0; b < 4 && len; b++) {
        int rc = rc_topo_membind(topo, blocks[b] + net->w_hh + e->own_lo[ith], len, node, 0);
        if (rc && !e->bind_err[ith]) e->bind_err[ith] = rc;
    }
    if (e->conv) {
        const size_t n = rc_convlstm_scratch_floats(&net->s.conv) * sizeof(float);
        int rc = rc_topo_membind(topo, e->scratch[ith], n, node, 0);
        if (rc && !e->bind_err[ith]) e->bind_err[ith] = rc;
        memset(e->scratch[ith], 0, n);
    }
}

/* Shared buffers interleaved over the threads' nodes (on one node: bound to
 * it), then every thread binds its own. */
static void engine_bind(rc_engine *e)
{
    const rc_topo *topo = rc_pool_topo(e->pool);
    if (!topo) {
        e->bind_why = "hwloc could not load this machine's topology";
        return;
    }
    if (!rc_topo_can_membind(topo, &e->bind_why)) return;
    unsigned long long mask = 0;
    for (int i = 0; i < e->maxthreads; i++) {
        const int k = rc_pool_thread_numa(e->pool, i);
        if (k >= 0 && k < 64) mask |= 1ull << k;
    }
    if (!mask) {
        e->bind_why = "the threads' NUMA nodes are unknown";
        return;
    }
    rc_net *net = e->net;
    const size_t B = (size_t)e->B, T = (size_t)e->T, H = (size_t)e->H, BT = B * T;
    struct { void *p; size_t bytes; } sh[] = {
        { net->params, net->nparams * sizeof(float) }, { net->grads, net->nparams * sizeof(float) },
        { net->m, net->nparams * sizeof(float) },      { net->v, net->nparams * sizeof(float) },
        { e->act_all, BT * 4 * H * sizeof(float) },    { e->dgate_all, BT * 4 * H * sizeof(float) },
        { e->c_all, BT * H * sizeof(float) },          { e->hp_all, BT * H * sizeof(float) },
        { e->cp_all, BT * H * sizeof(float) },
    };
    for (size_t k = 0; k < sizeof sh / sizeof sh[0]; k++) {
        int rc = rc_topo_membind(topo, sh[k].p, sh[k].bytes, -1, mask);
        if (rc && !e->shared_bind_err) e->shared_bind_err = rc;
    }
    rc_pool_run(e->pool, bind_fn, e);
}

int rc_engine_numa_check(const rc_engine *e, FILE *f)
{
    const rc_topo *topo = rc_pool_topo(e->pool);
    const char *why = NULL;
    if (!topo) why = "hwloc could not load this machine's topology";
    else if (!rc_topo_can_memlocate(topo, &why)) {
    } else if (e->bind_why) why = e->bind_why;
    if (why) {
        fprintf(f, "NUMA check: unsupported here: %s\n", why);
        return -1;
    }
    if (e->shared_bind_err)
        fprintf(f, "NUMA check: interleaving the shared buffers failed: %s\n", strerror(e->shared_bind_err));
    const rc_net *net = e->net;
    const char *names[4] = { "params", "grads", "adam_m", "adam_v" };
    const float *blocks[4] = { net->params, net->grads, net->m, net->v };
    int bad = 0, checked = 0, unknown = 0;
    for (int i = 0; i < e->maxthreads; i++) {
        const int node = rc_pool_thread_numa(e->pool, i);
        if (e->bind_err[i])
            fprintf(f, "  thread %d: binding to NUMA %d failed: %s\n", i, node, strerror(e->bind_err[i]));
        const size_t len = (e->own_hi[i] - e->own_lo[i]) * sizeof(float);
        for (int b = 0; b < 5; b++) {
            const void *p;
            size_t n;
            if (b < 4) {
                p = blocks[b] + net->w_hh + e->own_lo[i];
                n = len;
            } else if (e->conv) {
                p = e->scratch[i];
                n = rc_convlstm_scratch_floats(&net->s.conv) * sizeof(float);
            } else
                continue;
            if (n < rc_topo_pagesize()) continue;
            unsigned long long mask = 0;
            const int at = rc_topo_memlocation(topo, p, n, &mask);
            const char *what = b < 4 ? names[b] : "scratch";
            if (at == -3) {
                fprintf(f, "NUMA check: unsupported here: hwloc_get_area_memlocation failed\n");
                return -1;
            }
            if (at == -2) {
                unknown++;
                fprintf(f, "  thread %d %s: no page allocated yet\n", i, what);
                continue;
            }
            checked++;
            if (at != node) {
                bad++;
                fprintf(f, "  MISMATCH thread %d %s (%zu KiB): expected NUMA %d, pages on node mask 0x%llx\n", i,
                        what, n >> 10, node, mask);
            } else
                fprintf(f, "  thread %d %s (%zu KiB): NUMA %d, ok\n", i, what, n >> 10, at);
        }
    }
    fprintf(f, "NUMA check: %d partition area%s checked, %d mismatch%s%s\n", checked, checked == 1 ? "" : "s", bad,
            bad == 1 ? "" : "es", unknown ? " (some areas not yet touched)" : "");
    return bad;
}

rc_engine *rc_engine_new(rc_net *net, const rc_dataset *ds, rc_pool *pool,
                         int max_batch, rc_err *err)
{
    rc_engine *e = calloc(1, sizeof *e);
    if (!e) goto nomem;
    int fail = 0;
    e->net = net;
    e->ds = ds;
    e->pool = pool;
    e->B = max_batch;
    e->T = ds->T;
    e->H = net->s.H;
    e->G4 = 4 * e->H;
    if (net->s.core == RC_CORE_LIF) {
        e->nchunks = (net->nparams + CHUNK - 1) / CHUNK;
        e->chunk_sq = xcalloc(e->nchunks, sizeof(double), &fail);
        if (fail) goto nomem;
        if (!(e->snn = rc_snn_engine_new(net, ds, pool, max_batch, err))) {
            rc_engine_free(e);
            return NULL;
        }
        return e;
    }
    e->conv = net->s.core == RC_CORE_CONVLSTM;
    if (e->conv) {
        const rc_convlstm_shape *cs = &net->s.conv;
        e->ntiles = rc_convlstm_ntiles(cs->C);
        e->tile_units = RC_CONVLSTM_TILE * cs->Hh * cs->Ww;
    } else {
        e->ntiles = rc_lstm_ntiles(e->H);
        e->tile_units = RC_LSTM_TILE;
    }
    const size_t B = (size_t)max_batch, T = (size_t)ds->T, H = (size_t)e->H, BT = B * T;
    e->ev = xcalloc(B, sizeof *e->ev, &fail);
    e->info = xcalloc(B, sizeof *e->info, &fail);
    e->rowoff = xcalloc(T + 1, sizeof(int), &fail);
    e->nrow = xcalloc(T, sizeof(int), &fail);
    e->row_ex = xcalloc(BT, sizeof(int), &fail);
    e->pos = xcalloc(BT, sizeof(int), &fail);
    e->beg = xcalloc(BT, sizeof(int), &fail);
    e->end = xcalloc(BT, sizeof(int), &fail);
    e->ich = xcalloc(BT, sizeof(*e->ich), &fail);
    e->ival = xcalloc(BT, sizeof(*e->ival), &fail);
    e->nin = net->s.nin;
    e->xrow = xcalloc(BT, 1, &fail);
    e->xstep = xcalloc(T, 1, &fail);
    if (!e->conv) e->xd = xcalloc(BT * (size_t)e->nin, sizeof(float), &fail);
    e->act_all = xcalloc(BT * 4 * H, sizeof(float), &fail);
    e->c_all = xcalloc(BT * H, sizeof(float), &fail);
    e->hp_all = xcalloc(BT * H, sizeof(float), &fail);
    e->cp_all = xcalloc(BT * H, sizeof(float), &fail);
    e->dgate_all = xcalloc(BT * 4 * H, sizeof(float), &fail);
    e->hcur = xcalloc(B * H, sizeof(float), &fail);
    e->dh = xcalloc(B * H, sizeof(float), &fail);
    e->dcn = xcalloc(B * H, sizeof(float), &fail);
    e->dhp = xcalloc(B * H, sizeof(float), &fail);
    e->dcp = xcalloc(B * H, sizeof(float), &fail);
    e->inj = xcalloc(B * H, sizeof(float), &fail);
    e->lstep = xcalloc(B, sizeof(int), &fail);
    const int K = net->s.K, W = rc_net_head_width(net);
    e->pbuf = xcalloc((size_t)K, sizeof(float), &fail);
    e->dz = xcalloc((size_t)K, sizeof(float), &fail);
    e->hsum = 1;
    for (int l = 0; l < net->s.nhead; l++) e->hsum += net->s.head[l];
    e->zall = xcalloc(B * (size_t)K, sizeof(float), &fail);
    e->hacts_all = xcalloc(B * (size_t)e->hsum, sizeof(float), &fail);
    e->hscratch = xcalloc(2 * (size_t)W, sizeof(float), &fail);
    e->maxthreads = rc_pool_nthreads(pool);
    e->tstat = xcalloc((size_t)e->maxthreads, sizeof(rc_status), &fail);
    e->terr = xcalloc((size_t)e->maxthreads, sizeof(rc_err), &fail);
    e->scratch = xcalloc((size_t)e->maxthreads, sizeof(float *), &fail);
    if (e->conv && e->scratch)
        for (int i = 0; i < e->maxthreads; i++)
            e->scratch[i] = xcalloc(rc_convlstm_scratch_floats(&net->s.conv), sizeof(float), &fail);
    if (e->conv) {
        const size_t nch = (BT + RC_CONVLSTM_WH_CHUNK - 1) / RC_CONVLSTM_WH_CHUNK;
        e->nwh = rc_convlstm_nwh(&net->s.conv);
        e->whpart = xcalloc(nch * e->nwh, sizeof(float), &fail);
    }
    e->nchunks = (net->nparams + CHUNK - 1) / CHUNK;
    e->chunk_sq = xcalloc(e->nchunks, sizeof(double), &fail);
    e->tb = xcalloc((size_t)e->maxthreads + 1, sizeof(size_t), &fail);
    e->own_lo = xcalloc((size_t)e->maxthreads, sizeof(size_t), &fail);
    e->own_hi = xcalloc((size_t)e->maxthreads, sizeof(size_t), &fail);
    e->bind_err = xcalloc((size_t)e->maxthreads, sizeof(int), &fail);
    if (fail) goto nomem;
    {
        rc_plan *plan = rc_plan_new(&net->s, max_batch, e->maxthreads, NULL, err);
        if (!plan) goto nomem;
        RC_ASSERT(plan->tiles_layer >= 0 && plan->layer[plan->tiles_layer].nitems == (size_t)e->ntiles);
        memcpy(e->tb, plan->layer[plan->tiles_layer].bounds, ((size_t)e->maxthreads + 1) * sizeof(size_t));
        memcpy(e->own_lo, plan->own_lo, (size_t)e->maxthreads * sizeof(size_t));
        memcpy(e->own_hi, plan->own_hi, (size_t)e->maxthreads * sizeof(size_t));
        rc_plan_free(plan);
    }
    engine_bind(e);
    return e;
nomem:
    rc_engine_free(e);
    rc_err_set(err, RC_ERR_NOMEM, "engine: cannot allocate buffers for batch %d", max_batch);
    return NULL;
}

void rc_engine_free(rc_engine *e)
{
    if (!e) return;
    rc_snn_engine_free(e->snn);
    if (e->ev)
        for (int i = 0; i < e->B; i++) rc_events_free(&e->ev[i]);
    free(e->ev); free(e->info); free(e->rowoff); free(e->nrow); free(e->row_ex);
    free(e->pos); free(e->beg); free(e->end); free(e->ich); free(e->ival);
    free(e->act_all); free(e->c_all); free(e->hp_all); free(e->cp_all);
    free(e->dgate_all); free(e->hcur); free(e->dh); free(e->dcn); free(e->dhp);
    free(e->dcp); free(e->inj); free(e->lstep); free(e->pbuf); free(e->dz);
    free(e->zall); free(e->hacts_all); free(e->hscratch); free(e->tstat); free(e->terr); free(e->chunk_sq);
    if (e->scratch)
        for (int i = 0; i < e->maxthreads; i++) free(e->scratch[i]);
    free(e->scratch);
    free(e->whpart);
    free(e->xd); free(e->xrow); free(e->xstep);
    free(e->tb); free(e->own_lo); free(e->own_hi); free(e->bind_err);
    free(e);
}

/* Fills the input ranges of the rows of step t (rows already listed). An
 * LSTM step whose rows carry events on at least a quarter of the input
 * channels (speech features: all of them) also gets dense copies of its
 * inputs, so the input products run as sgemm (see rc_step_input). The
 * choice depends on the data only. */
static void set_step_inputs(rc_engine *e, int t)
{
    const int r0 = e->rowoff[t], n = e->nrow[t];
    int64_t nev = 0;
    for (int r = 0; r < n; r++) {
        const rc_events *ev = &e->ev[e->row_ex[r0 + r]];
        e->beg[r0 + r] = ev->off[t];
        e->end[r0 + r] = ev->off[t + 1];
        e->ich[r0 + r] = ev->ch;
        e->ival[r0 + r] = ev->val;
        nev += ev->off[t + 1] - ev->off[t];
    }
    const int dense = e->xd && n > 0 && e->nin >= 32 && 4 * nev >= (int64_t)n * e->nin;
    e->xstep[t] = (unsigned char)dense;
    for (int r = 0; r < n; r++) {
        e->xrow[r0 + r] = (unsigned char)dense;
        if (!dense) continue;
        float *x = e->xd + (size_t)(r0 + r) * e->nin;
        memset(x, 0, (size_t)e->nin * sizeof *x);
        for (int q = e->beg[r0 + r]; q < e->end[r0 + r]; q++) x[e->ich[r0 + r][q]] += e->ival[r0 + r][q];
    }
}

/* Input of step t's rows (t = −1: all cached rows, for the weight gradients). */
static rc_step_input step_input(rc_engine *e, int r0, int t)
{
    rc_step_input in = { e->beg + r0, e->end + r0, e->ich + r0, e->ival + r0, NULL, NULL, e->nin };
    if (e->xd && (t < 0 || e->xstep[t])) {
        in.x = e->xd + (size_t)r0 * e->nin;
        in.xrow = e->xrow + r0;
    }
    return in;
}

/* Thread 0, after step t's LSTM: head, spike decisions, losses, the next
 * active set. Returns the number of rows active at t+1. */
static int decide(rc_engine *e, int t)
{
    const rc_batch_opts *o = e->o;
    rc_net *net = e->net;
    const int K = net->s.K, H = e->H, T = e->T;
    const int r0 = e->rowoff[t], n = e->nrow[t];
    const int last = t == T - 1;
    int nn = 0;
    const int nx = e->rowoff[t] + n; /* first row of step t+1 */
    for (int r = 0; r < n; r++) {
        const int slot = e->row_ex[r0 + r];
        rc_example_result *res = &e->res[slot];
        const float *h = e->hcur + (size_t)r * H;
        const float *z = e->zall + (size_t)r * K;
        const float *acts = e->hacts_all + (size_t)r * e->hsum;
        rc_output_probs(e->pbuf, z, K);
        {
            const int64_t nev = e->end[r0 + r] - e->beg[r0 + r];
            res->events += nev;
            res->macs += rc_net_step_macs(net, nev, t == 0);
        }
        if (o->rec_h)
            memcpy(o->rec_h + ((size_t)slot * T + (size_t)t) * H, h, (size_t)H * sizeof *h);
        if (o->rec_p)
            memcpy(o->rec_p + ((size_t)slot * T + (size_t)t) * K, e->pbuf, (size_t)K * sizeof *e->pbuf);
        int cls = 0;
        float pmax = e->pbuf[0];
        if (K == 1) {
            cls = e->pbuf[0] >= 0.5f;
        } else {
            for (int k = 1; k < K; k++)
                if (e->pbuf[k] > pmax) { pmax = e->pbuf[k]; cls = k; }
        }
        int just = 0;
        if (!res->spiked) {
            if (K == 1) {
                const float p = e->pbuf[0];
                if (p >= (float)o->threshold) { just = 1; res->pred = 1; }
                else if (p <= (float)(1.0 - o->threshold)) { just = 1; res->pred = 0; }
            } else if (pmax >= (float)o->threshold) {
                just = 1;
                res->pred = cls;
            }
            if (just) { res->spiked = 1; res->tsp = t; }
        }
        if (last) {
            res->pred_end = cls;
            if (!res->spiked) { res->tsp = t; res->pred = cls; }
        }
        const int loss_now = o->train && (o->loss_at_end ? last : (just || last));
        if (loss_now) {
            const double scale = 1.0 / e->n;
            double l = rc_output_loss(e->dz, z, K, res->label, o->beta, scale);
            res->loss = (float)l;
            e->lstep[slot] = t;
            e->loss_sum += l;
            rc_net_head_backward(net, h, acts, e->dz, e->inj + (size_t)slot * H, e->hscratch);
        }
        const int keep = !last && !(o->stop_at_spike && res->spiked);
        if (keep) {
            e->row_ex[nx + nn] = slot;
            e->pos[nx + nn] = r;
            nn++;
        }
    }
    if (!last) {
        e->rowoff[t + 1] = nx;
        e->nrow[t + 1] = nn;
        set_step_inputs(e, t + 1);
    }
    return nn;
}

static void batch_fn(void *arg, int ith, int nth)
{
    rc_engine *e = arg;
    const int H = e->H, G4 = e->G4, T = e->T;
    rc_net *net = e->net;
    const float *P = net->params;
    float *Gr = net->grads;
    size_t lo, hi;

    /* Load this thread's share of the examples. */
    rc_partition((size_t)e->n, ith, nth, &lo, &hi);
    e->tstat[ith] = RC_OK;
    for (size_t i = lo; i < hi; i++) {
        rc_status st = e->ds->get(e->ds, e->split, e->idx[i], &e->ev[i], &e->info[i]);
        if (st && !e->tstat[ith]) {
            e->tstat[ith] = st;
            rc_err_set(&e->terr[ith], st, "loading example %lld: %s",
                       (long long)e->idx[i], rc_status_str(st));
        }
        e->res[i].label = e->info[i].label;
        e->res[i].earliest = e->info[i].earliest;
    }
    /* Barrier: every example's events are loaded before step 0 reads them. */
    rc_pool_barrier(e->pool);
    for (int i = 0; i < nth; i++)
        if (e->tstat[i]) return; /* every thread sees the same error and leaves */

    const size_t k0 = e->tb[ith], k1 = e->tb[ith + 1]; /* own tiles (sim/plan.c) */
    const size_t tu = (size_t)e->tile_units;
    const size_t u0 = k0 * tu < (size_t)H ? k0 * tu : (size_t)H;
    const size_t u1 = k1 * tu < (size_t)H ? k1 * tu : (size_t)H;
    const rc_convlstm_shape *cs = &net->s.conv;
    float *scr = e->conv ? e->scratch[ith] : NULL;

    if (ith == 0) {
        set_step_inputs(e, 0);
        e->tmax = 0;
    }
    /* Barrier: step 0's inputs are listed. */
    rc_pool_barrier(e->pool);

    int t;
    for (t = 0; t < T; t++) {
        const int r0 = e->rowoff[t], n = e->nrow[t];
        rc_step_input in = step_input(e, r0, t);
        if (e->conv) {
            size_t ra, rb; /* whole rows per thread */
            rc_partition((size_t)n, ith, nth, &ra, &rb);
            rc_convlstm_forward(e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H, e->hcur,
                                e->hp_all + (size_t)r0 * H, e->cp_all + (size_t)r0 * H, &in,
                                P + net->w_ih, P + net->w_hh, P + net->b_ih, (int)ra, (int)rb, cs, scr);
        } else
            rc_lstm_forward(e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H, e->hcur,
                            e->hp_all + (size_t)r0 * H, e->cp_all + (size_t)r0 * H, &in,
                            P + net->w_ih, P + net->w_hh, P + net->b_ih, P + net->b_hh,
                            n, H, (int)k0, (int)k1);
        /* Barrier: h_t of all units is complete before the head reads it. */
        rc_pool_barrier(e->pool);
        /* Head forward, rows split across threads (a ConvLSTM's head reads
         * C·28·28 units per row); each row is computed whole by one thread. */
        {
            size_t h0, h1;
            rc_partition((size_t)n, ith, nth, &h0, &h1);
            for (size_t r = h0; r < h1; r++)
                rc_net_head_forward(net, e->hcur + r * (size_t)H, e->zall + r * (size_t)net->s.K,
                                    e->hacts_all + r * (size_t)e->hsum);
        }
        /* Barrier: every row's logits exist before the spike decisions. */
        rc_pool_barrier(e->pool);
        if (ith == 0) {
            decide(e, t);
            e->tmax = t;
        }
        /* Barrier: the next active set is decided. */
        rc_pool_barrier(e->pool);
        if (t == T - 1 || e->nrow[t + 1] == 0) break;
        /* Compact h_t, c_t into step t+1's h_{t−1}, c_{t−1}, own units only. */
        const int r1 = e->rowoff[t + 1], n1 = e->nrow[t + 1];
        for (int r = 0; r < n1; r++) {
            const int p = e->pos[r1 + r];
            memcpy(e->hp_all + (size_t)(r1 + r) * H + u0, e->hcur + (size_t)p * H + u0,
                   (u1 - u0) * sizeof(float));
            memcpy(e->cp_all + (size_t)(r1 + r) * H + u0, e->c_all + (size_t)(r0 + p) * H + u0,
                   (u1 - u0) * sizeof(float));
        }
        /* Barrier: step t+1's h_{t−1} is complete before its sgemm reads all units. */
        rc_pool_barrier(e->pool);
    }
    if (!e->o->train) return;

    const int tmax = e->tmax;
    for (t = tmax; t >= 0; t--) {
        const int r0 = e->rowoff[t], n = e->nrow[t];
        /* ∂L/∂h_t and ∂L/∂c_t: from step t+1 (scattered back to this step's
         * rows) plus the output gradient of examples whose t_sp is t. */
        for (int r = 0; r < n; r++) {
            float *dh = e->dh + (size_t)r * H, *dc = e->dcn + (size_t)r * H;
            for (size_t u = u0; u < u1; u++) dh[u] = dc[u] = 0.0f;
            const int slot = e->row_ex[r0 + r];
            if (e->lstep[slot] == t) {
                const float *inj = e->inj + (size_t)slot * H;
                for (size_t u = u0; u < u1; u++) dh[u] = inj[u];
            }
        }
        if (t < tmax) {
            const int r1 = e->rowoff[t + 1], n1 = e->nrow[t + 1];
            for (int r = 0; r < n1; r++) {
                const int p = e->pos[r1 + r];
                float *dh = e->dh + (size_t)p * H, *dc = e->dcn + (size_t)p * H;
                const float *dhp = e->dhp + (size_t)r * H, *dcp = e->dcp + (size_t)r * H;
                for (size_t u = u0; u < u1; u++) {
                    dh[u] += dhp[u];
                    dc[u] += dcp[u];
                }
            }
        }
        if (e->conv)
            rc_convlstm_backward_gates(e->dgate_all + (size_t)r0 * G4, e->dcp, e->dh, e->dcn,
                                       e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H,
                                       e->cp_all + (size_t)r0 * H, n, cs, (int)k0, (int)k1);
        else
            rc_lstm_backward_gates(e->dgate_all + (size_t)r0 * G4, e->dcp, e->dh, e->dcn,
                                   e->act_all + (size_t)r0 * G4, e->c_all + (size_t)r0 * H,
                                   e->cp_all + (size_t)r0 * H, n, H, (int)k0, (int)k1);
        /* Barrier: all gate gradients of step t exist before dh_{t−1} reads them. */
        rc_pool_barrier(e->pool);
        if (t > 0 && e->conv) {
            size_t ra, rb; /* whole rows per thread */
            rc_partition((size_t)n, ith, nth, &ra, &rb);
            rc_convlstm_backward_dh(e->dhp, e->dgate_all + (size_t)r0 * G4, P + net->w_hh,
                                    (int)ra, (int)rb, cs, scr);
            /* Barrier: dhp of every row is complete before step t−1 reads its own units. */
            rc_pool_barrier(e->pool);
        } else if (t > 0) {
            rc_lstm_backward_dh(e->dhp, e->dgate_all + (size_t)r0 * G4, P + net->w_hh,
                                n, H, (int)k0, (int)k1);
            /* dhp and dcp of own units are read by this same thread next; no barrier. */
        }
    }
    const int N = e->rowoff[tmax] + e->nrow[tmax];
    rc_step_input all = step_input(e, 0, -1);
    if (e->conv) {
        rc_convlstm_backward_wx(Gr + net->w_ih, Gr + net->b_ih, e->dgate_all, &all, N, cs,
                                (int)k0, (int)k1);
        /* ∂W_h: fixed chunks of rows, each into its own buffer, then the
         * buffers added in chunk order (split by parameter across threads). */
        const size_t CH = RC_CONVLSTM_WH_CHUNK, nch = ((size_t)N + CH - 1) / CH;
        size_t c0, c1;
        rc_partition(nch, ith, nth, &c0, &c1);
        for (size_t c = c0; c < c1; c++) {
            float *part = e->whpart + c * e->nwh;
            memset(part, 0, e->nwh * sizeof(float));
            const size_t ra = c * CH, rb = ra + CH < (size_t)N ? ra + CH : (size_t)N;
            rc_convlstm_backward_wh_rows(part, e->dgate_all, e->hp_all, (int)ra, (int)rb, cs, scr);
        }
        /* Barrier: every chunk's ∂W_h is summed before they are added up. */
        rc_pool_barrier(e->pool);
        size_t j0, j1;
        rc_partition(e->nwh, ith, nth, &j0, &j1);
        float *dwh = Gr + net->w_hh;
        for (size_t c = 0; c < nch; c++) {
            const float *part = e->whpart + c * e->nwh;
            for (size_t j = j0; j < j1; j++) dwh[j] += part[j];
        }
    } else
        rc_lstm_backward_weights(Gr + net->w_ih, Gr + net->w_hh, Gr + net->b_ih, Gr + net->b_hh,
                                 e->dgate_all, e->hp_all, &all, N, H, (int)k0, (int)k1);
}

rc_status rc_engine_batch(rc_engine *e, rc_split split, const int64_t *idx, int n,
                          const rc_batch_opts *o, rc_example_result *res,
                          int64_t *rows_computed, rc_err *err)
{
    RC_ASSERT(n > 0 && n <= e->B);
    if (e->snn) return rc_snn_engine_batch(e->snn, split, idx, n, o, res, rows_computed, err);
    e->split = split;
    e->idx = idx;
    e->n = n;
    e->o = o;
    e->res = res;
    e->loss_sum = 0;
    for (int i = 0; i < n; i++) {
        res[i] = rc_example_result_empty(e->T);
        e->row_ex[i] = i;
        e->lstep[i] = -1;
        e->pos[i] = i;
    }
    e->rowoff[0] = 0;
    e->nrow[0] = n;
    /* h_{−1} = c_{−1} = 0. */
    memset(e->hp_all, 0, (size_t)n * e->H * sizeof(float));
    memset(e->cp_all, 0, (size_t)n * e->H * sizeof(float));
    rc_pool_run(e->pool, batch_fn, e);
    for (int i = 0; i < rc_pool_nthreads(e->pool); i++)
        if (e->tstat[i]) {
            if (err) *err = e->terr[i];
            return e->tstat[i];
        }
    if (rows_computed) {
        int64_t s = 0;
        for (int t = 0; t <= e->tmax; t++) s += e->nrow[t];
        *rows_computed = s;
    }
    return RC_OK;
}

rc_status rc_engine_snn_spikes(rc_engine *e, rc_split split, int64_t index, double vscale, int stop,
                               rc_spike_fn fn, void *ud, rc_err *err)
{
    RC_ASSERT(e->snn);
    return rc_snn_engine_spikes(e->snn, split, index, vscale, stop, fn, ud, err);
}

/* ---- optimiser ---------------------------------------------------------- */

static void sq_fn(void *arg, int ith, int nth)
{
    rc_engine *e = arg;
    size_t lo, hi;
    rc_partition(e->nchunks, ith, nth, &lo, &hi);
    const float *g = e->net->grads;
    for (size_t c = lo; c < hi; c++) {
        size_t a = c * CHUNK, b = a + CHUNK < e->net->nparams ? a + CHUNK : e->net->nparams;
        double s = 0;
        for (size_t i = a; i < b; i++) s += (double)g[i] * g[i];
        e->chunk_sq[c] = s;
    }
}

/* Adam on params [lo, hi). Elementwise: who runs it changes no result. */
static void adam_span(rc_engine *e, size_t lo, size_t hi)
{
    rc_net *net = e->net;
    const float b1 = (float)e->a_b1, b2 = (float)e->a_b2, sc = (float)e->a_scale;
    const double bc1 = 1.0 - pow(e->a_b1, (double)e->a_step);
    const double bc2 = 1.0 - pow(e->a_b2, (double)e->a_step);
    const float lr_t = (float)(e->a_lr / bc1), isq = (float)(1.0 / sqrt(bc2));
    const float eps = (float)e->a_eps;
    float *p = net->params, *g = net->grads, *m = net->m, *v = net->v;
    for (size_t i = lo; i < hi; i++) {
        const float gi = g[i] * sc;
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        /* PyTorch's form: p −= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps). */
        p[i] -= lr_t * m[i] / (sqrtf(v[i]) * isq + eps);
    }
}

/* Each thread updates the w_hh rows it owns (pages on its node), plus an
 * equal share of the parameters nobody owns: [0, A) and [B, nparams). */
static void adam_fn(void *arg, int ith, int nth)
{
    rc_engine *e = arg;
    rc_net *net = e->net;
    if (!e->own_lo) { /* SNN: no owned rows, an equal share each */
        size_t lo, hi;
        rc_partition(net->nparams, ith, nth, &lo, &hi);
        adam_span(e, lo, hi);
        return;
    }
    const size_t A = net->w_hh + e->own_lo[0], B = net->w_hh + e->own_hi[nth - 1];
    adam_span(e, net->w_hh + e->own_lo[ith], net->w_hh + e->own_hi[ith]);
    size_t lo, hi;
    rc_partition(net->nparams - (B - A), ith, nth, &lo, &hi);
    if (lo < A) adam_span(e, lo, hi < A ? hi : A);
    if (hi > A) adam_span(e, (lo > A ? lo : A) + (B - A), hi + (B - A));
}

double rc_engine_adam(rc_engine *e, double lr, double b1, double b2, double eps,
                      double clip, int64_t step)
{
    rc_pool_run(e->pool, sq_fn, e);
    double s = 0;
    for (size_t c = 0; c < e->nchunks; c++) s += e->chunk_sq[c];
    const double norm = sqrt(s);
    e->a_scale = (clip > 0 && norm > clip) ? clip / (norm + 1e-6) : 1.0;
    e->a_lr = lr;
    e->a_b1 = b1;
    e->a_b2 = b2;
    e->a_eps = eps;
    e->a_step = step;
    rc_pool_run(e->pool, adam_fn, e);
    return norm;
}
