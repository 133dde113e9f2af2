/* engine_lstm.c — the engine backend for the LSTM and ConvLSTM cores: batch
 * forward/backward with first spikes and active sets (engine.h).
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
 * gradient is one sgemm per tile over all Σ_t n_t rows. What differs between
 * the LSTM and the ConvLSTM (kernels, tiles, scratch, how ∂W_h is summed) is
 * one table of core functions (lstm_core, sim/engine_lstm_core.c); the step
 * loop is shared.
 *
 * Which tiles a thread owns comes from sim/plan.c (contiguous, weighted by
 * cost). At creation each thread binds the pages of what it owns (its w_hh
 * rows in params, grads and Adam moments; its ConvLSTM scratch) to its NUMA
 * node (sim/numa.c), and the Adam update of its w_hh rows runs on it
 * (sim/adam.c); shared buffers are interleaved over the threads' nodes. */
#include <stdlib.h>
#include <string.h>
#include "models/dense.h"
#include "sim/engine_lstm.h"
#include "sim/plan.h"

/* ---- creation ------------------------------------------------------------- */

/* Thread ith's own memory (sim/numa.h): its w_hh rows in params, grads and
 * both Adam moments, and its ConvLSTM scratch. */
static int numa_areas(const void *ud, int ith, rc_numa_area *out)
{
    const lstm_engine *e = ud;
    const rc_net *net = e->base.net;
    static const char *const names[4] = { "params", "grads", "adam_m", "adam_v" };
    float *blocks[4] = { net->params, net->grads, net->m, net->v };
    const size_t len = (e->own_hi[ith] - e->own_lo[ith]) * sizeof(float);
    int k = 0;
    for (int b = 0; b < 4; b++) out[k++] = (rc_numa_area){ names[b], blocks[b] + net->w_hh + e->own_lo[ith], len, 0 };
    if (e->nscratch) out[k++] = (rc_numa_area){ "scratch", e->scratch[ith], e->nscratch * sizeof(float), 1 };
    return k;
}

/* Shared buffers interleaved over the threads' nodes, each thread's own
 * memory bound to its node. */
static rc_numa *engine_bind(lstm_engine *e)
{
    rc_net *net = e->base.net;
    const size_t BT = (size_t)e->base.B * (size_t)e->base.T, H = (size_t)e->H, np = net->nparams * sizeof(float);
    const rc_numa_area sh[] = {
        { "params", net->params, np, 0 },                 { "grads", net->grads, np, 0 },
        { "adam_m", net->m, np, 0 },                      { "adam_v", net->v, np, 0 },
        { "act", e->act_all, BT * 4 * H * sizeof(float), 0 }, { "dgate", e->dgate_all, BT * 4 * H * sizeof(float), 0 },
        { "c", e->c_all, BT * H * sizeof(float), 0 },     { "hp", e->hp_all, BT * H * sizeof(float), 0 },
        { "cp", e->cp_all, BT * H * sizeof(float), 0 },
    };
    return rc_numa_bind(e->base.pool, sh, (int)(sizeof sh / sizeof sh[0]), numa_areas, e);
}

static void lstm_free(rc_engine *base)
{
    lstm_engine *e = (lstm_engine *)base;
    if (e->ev)
        for (int i = 0; i < base->B; i++) rc_events_free(&e->ev[i]);
    free(e->ev); free(e->info); free(e->rowoff); free(e->nrow); free(e->row_ex);
    free(e->pos); free(e->beg); free(e->end); free(e->ich); free(e->ival);
    free(e->act_all); free(e->c_all); free(e->hp_all); free(e->cp_all);
    free(e->dgate_all); free(e->hcur); free(e->dh); free(e->dcn); free(e->dhp);
    free(e->dcp); free(e->inj); free(e->lstep); free(e->pbuf); free(e->dz);
    free(e->zall); free(e->hacts_all); free(e->hscratch); free(e->headT);
    if (e->scratch)
        for (int i = 0; i < base->maxthreads; i++) free(e->scratch[i]);
    free(e->scratch);
    free(e->whpart);
    free(e->xd); free(e->wT); free(e->xrow); free(e->xstep);
    free(e->tb); free(e->own_lo); free(e->own_hi);
    rc_lstm_delta_free(e);
    rc_engine_fini(base);
    free(e);
}

/* Every buffer of the step loop; 1 on allocation failure. */
static int alloc_buffers(lstm_engine *e)
{
    int fail = 0;
    const rc_net *net = e->base.net;
    const size_t B = (size_t)e->base.B, T = (size_t)e->base.T, H = (size_t)e->H, BT = B * T;
    const size_t nt = (size_t)e->base.maxthreads;
    e->ev = rc_engine_xcalloc(B, sizeof *e->ev, &fail);
    e->info = rc_engine_xcalloc(B, sizeof *e->info, &fail);
    e->rowoff = rc_engine_xcalloc(T + 1, sizeof(int), &fail);
    e->nrow = rc_engine_xcalloc(T, sizeof(int), &fail);
    e->row_ex = rc_engine_xcalloc(BT, sizeof(int), &fail);
    e->pos = rc_engine_xcalloc(BT, sizeof(int), &fail);
    e->beg = rc_engine_xcalloc(BT, sizeof(int), &fail);
    e->end = rc_engine_xcalloc(BT, sizeof(int), &fail);
    e->ich = rc_engine_xcalloc(BT, sizeof(*e->ich), &fail);
    e->ival = rc_engine_xcalloc(BT, sizeof(*e->ival), &fail);
    e->xrow = rc_engine_xcalloc(BT, 1, &fail);
    e->xstep = rc_engine_xcalloc(T, 1, &fail);
    e->act_all = rc_engine_xcalloc(BT * 4 * H, sizeof(float), &fail);
    e->c_all = rc_engine_xcalloc(BT * H, sizeof(float), &fail);
    e->hp_all = rc_engine_xcalloc(BT * H, sizeof(float), &fail);
    e->cp_all = rc_engine_xcalloc(BT * H, sizeof(float), &fail);
    e->dgate_all = rc_engine_xcalloc(BT * 4 * H, sizeof(float), &fail);
    e->hcur = rc_engine_xcalloc(B * H, sizeof(float), &fail);
    e->dh = rc_engine_xcalloc(B * H, sizeof(float), &fail);
    e->dcn = rc_engine_xcalloc(B * H, sizeof(float), &fail);
    e->dhp = rc_engine_xcalloc(B * H, sizeof(float), &fail);
    e->dcp = rc_engine_xcalloc(B * H, sizeof(float), &fail);
    e->inj = rc_engine_xcalloc(B * H, sizeof(float), &fail);
    e->lstep = rc_engine_xcalloc(B, sizeof(int), &fail);
    const int K = net->s.K, W = rc_net_head_width(net);
    e->pbuf = rc_engine_xcalloc((size_t)K, sizeof(float), &fail);
    e->dz = rc_engine_xcalloc((size_t)K, sizeof(float), &fail);
    e->hsum = 1;
    for (int l = 0; l < net->s.nhead; l++) e->hsum += net->s.head[l];
    e->zall = rc_engine_xcalloc(B * (size_t)K, sizeof(float), &fail);
    e->hacts_all = rc_engine_xcalloc(B * (size_t)e->hsum, sizeof(float), &fail);
    e->hscratch = rc_engine_xcalloc(2 * (size_t)W, sizeof(float), &fail);
    e->headT = rc_engine_xcalloc(rc_net_head_t_floats(net), sizeof(float), &fail);
    e->scratch = rc_engine_xcalloc(nt, sizeof(float *), &fail);
    e->tb = rc_engine_xcalloc(nt + 1, sizeof(size_t), &fail);
    e->own_lo = rc_engine_xcalloc(nt, sizeof(size_t), &fail);
    e->own_hi = rc_engine_xcalloc(nt, sizeof(size_t), &fail);
    return fail || (e->scratch && e->core->init(e));
}

static const rc_engine_ops lstm_ops;

rc_engine *rc_engine_lstm_new(rc_net *net, const rc_dataset *ds, rc_pool *pool, int max_batch, rc_err *err)
{
    lstm_engine *e = calloc(1, sizeof *e);
    if (!e) goto nomem;
    if (rc_engine_init(&e->base, &lstm_ops, net, ds, pool, max_batch)) goto nomem;
    e->core = net->s.core == RC_CORE_CONVLSTM ? &rc_engine_core_convlstm : &rc_engine_core_lstm;
    e->H = net->s.H;
    e->G4 = 4 * e->H;
    e->nin = net->s.nin;
    if (alloc_buffers(e)) goto nomem;
    const int nt = e->base.maxthreads;
    rc_plan *plan = rc_plan_new(&net->s, max_batch, nt, NULL, err);
    if (!plan) goto nomem;
    RC_ASSERT(plan->tiles_layer >= 0 && plan->layer[plan->tiles_layer].nitems == (size_t)e->ntiles);
    memcpy(e->tb, plan->layer[plan->tiles_layer].bounds, ((size_t)nt + 1) * sizeof(size_t));
    memcpy(e->own_lo, plan->own_lo, (size_t)nt * sizeof(size_t));
    memcpy(e->own_hi, plan->own_hi, (size_t)nt * sizeof(size_t));
    rc_plan_free(plan);
    rc_adam_set_owned(e->base.adam, net->w_hh, e->own_lo, e->own_hi);
    if (!(e->base.numa = engine_bind(e))) goto nomem;
    return &e->base;
nomem:
    if (e) lstm_free(&e->base);
    rc_err_set(err, RC_ERR_NOMEM, "engine: cannot allocate buffers for batch %d", max_batch);
    return NULL;
}

/* ---- the step loop -------------------------------------------------------- */

/* Fills the input ranges of the rows of step t (rows already listed). An
 * LSTM step whose rows carry events on at least a quarter of the input
 * channels (speech features: all of them) also gets dense copies of its
 * inputs, so the input products run as sgemm (see rc_step_input). The
 * choice depends on the data only. */
static void set_step_inputs(lstm_engine *e, int t)
{
    if (e->dx_on) {
        rc_lstm_delta_inputs(e, t);
        return;
    }
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
    const int dense = e->core->dense_input && e->xd && n > 0 && e->nin >= 32 && 4 * nev >= (int64_t)n * e->nin;
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
static rc_step_input step_input(lstm_engine *e, int r0, int t)
{
    rc_step_input in = { e->beg + r0, e->end + r0, e->ich + r0, e->ival + r0, NULL, NULL, e->nin };
    if (e->xd && (t < 0 || e->xstep[t])) {
        in.x = e->xd + (size_t)r0 * e->nin;
        in.xrow = e->xrow + r0;
    }
    return in;
}

/* The spike rule on output probabilities p (K): sets res->spiked, tsp, pred
 * at the first step an output crosses θ (single sigmoid: p ≥ θ positive,
 * p ≤ 1−θ negative; softmax: max p ≥ θ), and the answer at the last step.
 * Returns 1 if the example spiked at this step. */
static int spike_rule(rc_example_result *res, const float *p, int K, double theta, int t, int last)
{
    int cls = 0;
    float pmax = p[0];
    if (K == 1) {
        cls = p[0] >= 0.5f;
    } else {
        for (int k = 1; k < K; k++)
            if (p[k] > pmax) { pmax = p[k]; cls = k; }
    }
    int just = 0;
    if (!res->spiked) {
        if (K == 1) {
            if (p[0] >= (float)theta) { just = 1; res->pred = 1; }
            else if (p[0] <= (float)(1.0 - theta)) { just = 1; res->pred = 0; }
        } else if (pmax >= (float)theta) {
            just = 1;
            res->pred = cls;
        }
        if (just) { res->spiked = 1; res->tsp = t; }
    }
    if (last) {
        res->pred_end = cls;
        if (!res->spiked) { res->tsp = t; res->pred = cls; }
    }
    return just;
}

/* Thread 0, after step t's LSTM: head, spike decisions, losses, the next
 * active set. Returns the number of rows active at t+1. */
static int decide(lstm_engine *e, int t)
{
    const rc_batch_opts *o = e->base.o;
    rc_net *net = e->base.net;
    const int K = net->s.K, H = e->H, T = e->base.T;
    const int r0 = e->rowoff[t], n = e->nrow[t];
    const int last = t == T - 1;
    int nn = 0;
    const int nx = e->rowoff[t] + n; /* first row of step t+1 */
    for (int r = 0; r < n; r++) {
        const int slot = e->row_ex[r0 + r];
        rc_example_result *res = &e->base.res[slot];
        const float *h = e->hcur + (size_t)r * H;
        const float *z = e->zall + (size_t)r * K;
        const float *acts = e->hacts_all + (size_t)r * e->hsum;
        rc_output_probs(e->pbuf, z, K);
        {
            const int64_t nev = e->end[r0 + r] - e->beg[r0 + r];
            res->events += nev;
            /* Count what runs: a dense-input step multiplies all nin inputs. */
            const double m = rc_net_step_macs(net, e->xstep[t] ? e->nin : nev, t == 0);
            res->macs_dense += m;
            if (!e->dh_on) {
                res->macs += m;
            } else {
                /* Hidden events: hev_macs each (all H where the sgemm ran:
                 * the LSTM per step, the ConvLSTM per row). */
                const int64_t hev = rc_lstm_delta_row_events(e, r);
                const int hd = e->rdense ? e->rdense[r] : e->hdense[t];
                res->hevents += hev;
                res->hslots += t > 0 ? H : 0;
                res->macs += rc_net_step_macs(net, e->xstep[t] ? e->nin : nev, 1) +
                             e->hev_macs * (double)(hd ? H : hev);
                if (o->lstm.rec_dh)
                    memcpy(o->lstm.rec_dh + ((size_t)slot * T + (size_t)t) * H, e->dlt + (size_t)r * H,
                           (size_t)H * sizeof(float));
            }
        }
        if (o->rec_h)
            memcpy(o->rec_h + ((size_t)slot * T + (size_t)t) * H, h, (size_t)H * sizeof *h);
        if (o->rec_p)
            memcpy(o->rec_p + ((size_t)slot * T + (size_t)t) * K, e->pbuf, (size_t)K * sizeof *e->pbuf);
        const int just = spike_rule(res, e->pbuf, K, o->lstm.threshold, t, last);
        const int loss_now = o->train && (o->loss_at_end ? last : (just || last));
        if (loss_now) {
            const double scale = rc_batch_loss_scale(o, e->base.n);
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

/* h_t, c_t of step t's rows into step t+1's h_{t−1}, c_{t−1}, units
 * [u0, u1) (the delta LSTM: rc_lstm_delta_compact). */
static void compact(lstm_engine *e, int t, size_t u0, size_t u1)
{
    const size_t H = (size_t)e->H;
    const int r0 = e->rowoff[t], r1 = e->rowoff[t + 1], n1 = e->nrow[t + 1];
    for (int r = 0; r < n1; r++) {
        const int p = e->pos[r1 + r];
        memcpy(e->hp_all + (size_t)(r1 + r) * H + u0, e->hcur + (size_t)p * H + u0, (u1 - u0) * sizeof(float));
        memcpy(e->cp_all + (size_t)(r1 + r) * H + u0, e->c_all + (size_t)(r0 + p) * H + u0,
               (u1 - u0) * sizeof(float));
    }
}

/* Forward over the steps, active rows only, until no row is left or T−1. */
static void forward_pass(lstm_engine *e, int ith, int nth, int k0, int k1, size_t u0, size_t u1)
{
    const int H = e->H, T = e->base.T;
    rc_net *net = e->base.net;
    const int delta = e->dx_on || e->dh_on;
    for (int t = 0; t < T; t++) {
        const int r0 = e->rowoff[t], n = e->nrow[t];
        rc_step_input in = step_input(e, r0, t);
        if (delta && e->core->delta_step) e->core->delta_step(e, ith, nth, t);
        e->core->forward(e, ith, nth, r0, n, &in, k0, k1);
        /* Barrier: h_t of all units is complete before the head reads it. */
        rc_pool_barrier(e->base.pool);
        /* Head forward, rows split across threads (a ConvLSTM's head reads
         * C·28·28 units per row); each row is computed whole by one thread,
         * several rows side by side from the transposed weights. */
        {
            size_t h0, h1;
            rc_partition((size_t)n, ith, nth, &h0, &h1);
            rc_net_head_forward_rows(net, e->headT, e->hcur + h0 * (size_t)H, (size_t)H, (int)(h1 - h0),
                                     e->zall + h0 * (size_t)net->s.K, e->hacts_all + h0 * (size_t)e->hsum,
                                     (size_t)e->hsum);
        }
        /* Barrier: every row's logits exist before the spike decisions. */
        rc_pool_barrier(e->base.pool);
        if (ith == 0) {
            decide(e, t);
            e->tmax = t;
        }
        /* Barrier: the next active set is decided. */
        rc_pool_barrier(e->base.pool);
        if (t == T - 1 || e->nrow[t + 1] == 0) break;
        /* Compact h_t, c_t into step t+1's h_{t−1}, c_{t−1}, own units only. */
        if (delta) rc_lstm_delta_compact(e, ith, t, u0, u1);
        else compact(e, t, u0, u1);
        /* Barrier: step t+1's h_{t−1} is complete before its sgemm reads all units. */
        rc_pool_barrier(e->base.pool);
    }
}

/* BPTT from tmax down to step 0, then the weight gradients. */
static void backward_pass(lstm_engine *e, int ith, int nth, int k0, int k1, size_t u0, size_t u1)
{
    const int H = e->H, tmax = e->tmax;
    for (int t = tmax; t >= 0; t--) {
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
        if (e->l1_on) rc_lstm_l1_grad(e, t, k0, k1);
        e->core->backward_gates(e, r0, n, k0, k1);
        /* Barrier: all gate gradients of step t exist before dh_{t−1} reads them. */
        rc_pool_barrier(e->base.pool);
        if (t > 0) e->core->backward_dh(e, ith, nth, r0, n, k0, k1);
    }
    const int N = e->rowoff[tmax] + e->nrow[tmax];
    rc_step_input all = step_input(e, 0, -1);
    e->core->backward_weights(e, ith, nth, N, &all, k0, k1);
}

static void batch_fn(void *arg, int ith, int nth)
{
    lstm_engine *e = arg;
    rc_engine *b = &e->base;
    size_t lo, hi;

    /* Load this thread's share of the examples. */
    rc_partition((size_t)e->base.n, ith, nth, &lo, &hi);
    b->tstat[ith] = RC_OK;
    for (size_t i = lo; i < hi; i++) {
        rc_engine_thread_load(b, ith, e->base.split, e->base.idx[i], &e->ev[i], &e->info[i]);
        e->base.res[i].label = e->info[i].label;
        e->base.res[i].earliest = e->info[i].earliest;
    }
    /* Barrier: every example's events are loaded before step 0 reads them. */
    rc_pool_barrier(b->pool);
    if (rc_engine_failed(b, nth)) return; /* every thread sees the same error and leaves */

    const size_t k0 = e->tb[ith], k1 = e->tb[ith + 1]; /* own tiles (sim/plan.c) */
    const size_t tu = (size_t)e->tile_units, H = (size_t)e->H;
    const size_t u0 = k0 * tu < H ? k0 * tu : H;
    const size_t u1 = k1 * tu < H ? k1 * tu : H;
    if (e->dx_on || e->dh_on) rc_lstm_delta_start(e, ith, nth, u0, u1);
    if (ith == 0) {
        e->nth_run = nth;
        set_step_inputs(e, 0);
        e->tmax = 0;
        rc_net_head_transpose(e->base.net, e->headT); /* the parameters change between batches */
    }
    /* Barrier: step 0's inputs are listed. */
    rc_pool_barrier(b->pool);
    forward_pass(e, ith, nth, (int)k0, (int)k1, u0, u1);
    if (e->base.o->train) backward_pass(e, ith, nth, (int)k0, (int)k1, u0, u1);
}

static rc_status lstm_batch(rc_engine *base, int64_t *rows_computed, rc_err *err)
{
    lstm_engine *e = (lstm_engine *)base;
    const int n = base->n;
    rc_status dst = rc_lstm_delta_prepare(e, base->o, err);
    if (dst) return dst;
    e->loss_sum = 0;
    for (int i = 0; i < n; i++) {
        e->row_ex[i] = i;
        e->lstep[i] = -1;
        e->pos[i] = i;
    }
    e->rowoff[0] = 0;
    e->nrow[0] = n;
    /* h_{−1} = c_{−1} = 0. */
    memset(e->hp_all, 0, (size_t)n * e->H * sizeof(float));
    memset(e->cp_all, 0, (size_t)n * e->H * sizeof(float));
    rc_pool_run(base->pool, batch_fn, e);
    rc_status st = rc_engine_run_status(base, err);
    if (st) return st;
    if (e->l1_on) rc_lstm_l1_finish(e);
    if (rows_computed) {
        int64_t s = 0;
        for (int t = 0; t <= e->tmax; t++) s += e->nrow[t];
        *rows_computed = s;
    }
    return RC_OK;
}

static const rc_engine_ops lstm_ops = { .name = "lstm", .free = lstm_free, .batch = lstm_batch };
