/* network_setup.c — creating and freeing a network (sim/network.h): spec
 * checks, propagators, source tables and spike-source events, then the
 * per-thread state and synapses, built on the pool's threads so each thread
 * first-touches its own memory.
 *
 * Why a separate file: network.c holds the hot slice loop only; everything
 * that runs once per network lives here and in network_build.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/clock.h"
#include "sim/comm.h"
#include "sim/network_impl.h"

/* ---- memory ------------------------------------------------------------ */

void *rc_net_alloc(rc_network *net, int ith, size_t bytes)
{
    /* Large arrays on 2 MiB boundaries, marked for transparent huge pages:
     * delivery reads synapse runs and writes ring rows all over them, and
     * TLB misses cost more than the accesses (much more in a VM). */
    const size_t huge = (size_t)2 << 20, align = bytes >= huge ? huge : 64;
    const size_t len = (bytes + align - 1) & ~(align - 1);
    void *p = aligned_alloc(align, len ? len : 64);
    if (!p) return NULL;
    if (align == huge) (void)madvise(p, len, MADV_HUGEPAGE);
    const rc_topo *topo = rc_pool_topo(net->pool);
    const int node = rc_pool_thread_numa(net->pool, ith);
    /* Binding matters only with several nodes (a failed bind costs speed only). */
    if (topo && node >= 0 && rc_topo_nnuma(topo) > 1 && rc_topo_can_membind(topo, &(const char *){ 0 }))
        (void)rc_topo_membind(topo, p, len, node, 0);
    memset(p, 0, len); /* first touch, by the owning thread */
    return p;
}

/* ---- per-thread setup -------------------------------------------------- */

static int init_thread(rc_network *net, int ith)
{
    const rc_net_spec *s = &net->spec;
    rc_nthr *th = &net->thr[ith];
    const uint32_t S = net->stride, vp = th->vp;
    th->nloc = rc_net_first_local((uint32_t)net->N, vp, S);
    for (int p = 0; p < s->npop; p++) {
        th->lo[p] = rc_net_first_local(net->off[p], vp, S);
        th->hi[p] = rc_net_first_local(net->off[p + 1], vp, S);
    }
    const size_t n = (size_t)th->nloc, L = (size_t)net->L;
    th->V = rc_net_alloc(net, ith, n * sizeof(float));
    th->refr = rc_net_alloc(net, ith, n * sizeof(int32_t));
    th->spk = rc_net_alloc(net, ith, n + 8);
    th->ring[0] = rc_net_alloc(net, ith, L * n * sizeof(float));
    th->nspk = rc_net_alloc(net, ith, n * sizeof(uint32_t));
    th->last = rc_net_alloc(net, ith, n * sizeof(int64_t));
    th->isum = rc_net_alloc(net, ith, n * sizeof(int64_t));
    th->isq = rc_net_alloc(net, ith, n * sizeof(int64_t));
    int bad = !th->V || !th->refr || !th->spk || !th->ring[0] || !th->nspk || !th->last || !th->isum || !th->isq;
    th->state_bytes = n * (2 * sizeof(float) + sizeof(int32_t) + 1 + L * sizeof(float));
    if (net->has_g) {
        for (int c = 0; c < 2; c++) th->g[c] = rc_net_alloc(net, ith, n * sizeof(float));
        th->ring[1] = rc_net_alloc(net, ith, L * n * sizeof(float));
        bad |= !th->g[0] || !th->g[1] || !th->ring[1];
        th->state_bytes += n * (2 * sizeof(float) + L * sizeof(float));
    }
    for (int b = 0; b < 2; b++) {
        th->regoff[b] = calloc((size_t)net->dmin + 1, sizeof(size_t));
        bad |= !th->regoff[b];
    }
    if (bad) return -1;
    for (int p = 0; p < s->npop; p++)
        for (int li = th->lo[p]; li < th->hi[p]; li++) {
            const uint32_t i = (uint32_t)li * S + vp - net->off[p];
            th->V[li] = rc_nrn_v_init(&s->pop[p].p, rc_uniform(s->seed, RC_STREAM_NET_VINIT, (uint64_t)p, i));
            th->last[li] = -1;
        }
    for (int k = 0; k < s->nsrc; k++) {
        const rc_net_source *src = &s->src[k];
        const uint32_t g0 = net->off[src->tgt] + (uint32_t)src->first;
        th->slo[k] = rc_net_first_local(g0, vp, S);
        th->shi[k] = rc_net_first_local(g0 + (uint32_t)src->count, vp, S);
        th->iwin[k] = -1;
        if (src->kind != RC_SRC_POISSON || th->shi[k] <= th->slo[k]) continue;
        th->skey[k] = rc_net_alloc(net, ith, (size_t)(th->shi[k] - th->slo[k]) * sizeof(uint64_t));
        if (!th->skey[k]) return -1;
        for (int li = th->slo[k]; li < th->shi[k]; li++)
            th->skey[k][li - th->slo[k]] =
                rc_rand64(s->seed, RC_STREAM_NET_POISSON, (uint64_t)k, (uint64_t)li * S + vp);
    }
    return 0;
}

static rc_status check_pops(rc_network *net, rc_err *err)
{
    const rc_net_spec *s = &net->spec;
    if (!(s->dt_ms > 0)) return rc_err_set(err, RC_ERR_CONFIG, "network: dt = %g ms (expected > 0)", s->dt_ms);
    if (s->npop < 1 || s->npop > RC_NET_MAXPOP)
        return rc_err_set(err, RC_ERR_CONFIG, "network: %d populations (expected 1 to %d)", s->npop, RC_NET_MAXPOP);
    uint64_t n = 0;
    for (int p = 0; p < s->npop; p++) {
        if (s->pop[p].n < 1)
            return rc_err_set(err, RC_ERR_CONFIG, "population %s: n = %d (expected >= 1)", s->pop[p].name, s->pop[p].n);
        for (int q = 0; q < p; q++)
            if (!strcmp(s->pop[p].name, s->pop[q].name))
                return rc_err_set(err, RC_ERR_CONFIG, "population %s is defined twice", s->pop[p].name);
        char what[64];
        snprintf(what, sizeof what, "population %s", s->pop[p].name);
        rc_status st = rc_nrn_prop_init(&s->pop[p].p, s->dt_ms, what, &net->prop[p], err);
        if (st) return st;
        net->has_g |= net->prop[p].nchan == 2;
        net->off[p] = (uint32_t)n;
        n += (uint64_t)s->pop[p].n;
        if (n >= UINT32_MAX) return rc_err_set(err, RC_ERR_CONFIG, "network: more than 2^32 - 2 neurons");
    }
    net->off[s->npop] = (uint32_t)n;
    net->N = (size_t)n;
    return RC_OK;
}

/* Spike-source events as (arrival step, target gid), sorted by step then
 * file order. */
typedef struct {
    int64_t step;
    size_t idx;
    uint32_t gid;
} ev_t;

static int ev_cmp(const void *a, const void *b)
{
    const ev_t *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static rc_status setup_events(rc_network *net, int k, rc_err *err)
{
    const rc_net_source *src = &net->spec.src[k];
    const double h = net->spec.dt_ms;
    const long d = net->src_delay[k];
    ev_t *ev = malloc((src->n_events ? src->n_events : 1) * sizeof *ev);
    if (!ev) return rc_err_set(err, RC_ERR_NOMEM, "source %s: out of memory", src->name);
    for (size_t i = 0; i < src->n_events; i++) {
        if (src->node_ids[i] >= (uint64_t)src->count) {
            free(ev);
            return rc_err_set(err, RC_ERR_CONFIG, "source %s: node id %llu, but the source has %d targets", src->name,
                              (unsigned long long)src->node_ids[i], src->count);
        }
        ev[i].step = llround(src->times_ms[i] / h) - 1 + d; /* emitted in the step ending at t */
        ev[i].idx = i;
        ev[i].gid = net->off[src->tgt] + (uint32_t)src->first + (uint32_t)src->node_ids[i];
    }
    qsort(ev, src->n_events, sizeof *ev, ev_cmp);
    net->ev_step[k] = malloc((src->n_events + 1) * sizeof(int64_t));
    net->ev_gid[k] = malloc((src->n_events + 1) * sizeof(uint32_t));
    if (!net->ev_step[k] || !net->ev_gid[k]) {
        free(ev);
        return rc_err_set(err, RC_ERR_NOMEM, "source %s: out of memory", src->name);
    }
    for (size_t i = 0; i < src->n_events; i++) net->ev_step[k][i] = ev[i].step, net->ev_gid[k][i] = ev[i].gid;
    net->nev[k] = src->n_events;
    free(ev);
    return RC_OK;
}

static rc_status check_images(const rc_net_source *src, rc_err *err)
{
    const rc_dataset *ds = src->images;
    if (!ds || src->split < RC_SPLIT_TRAIN || src->split > RC_SPLIT_TEST || ds->size[src->split] < 1)
        return rc_err_set(err, RC_ERR_CONFIG, "source %s: no examples in the image split", src->name);
    if (src->count != ds->nin)
        return rc_err_set(err, RC_ERR_CONFIG, "source %s: %d targets, but the images have %d pixels (one target each)",
                          src->name, src->count, ds->nin);
    if (src->example0 < 0 || src->step_every < 1 || (int64_t)ds->T * src->step_every > src->window)
        return rc_err_set(err, RC_ERR_CONFIG,
                          "source %s: %d encoder steps of %d simulation steps do not fit the %lld-step window",
                          src->name, ds->T, src->step_every, (long long)src->window);
    return RC_OK;
}

static rc_status check_sources(rc_network *net, rc_err *err)
{
    rc_net_spec *s = &net->spec;
    if (s->nsrc < 0 || s->nsrc > RC_NET_MAXSRC)
        return rc_err_set(err, RC_ERR_CONFIG, "network: %d sources (at most %d)", s->nsrc, RC_NET_MAXSRC);
    for (int k = 0; k < s->nsrc; k++) {
        rc_net_source *src = &s->src[k];
        if (src->tgt < 0 || src->tgt >= s->npop)
            return rc_err_set(err, RC_ERR_CONFIG, "source %s: unknown target population", src->name);
        const int n = s->pop[src->tgt].n;
        if (src->kind == RC_SRC_IMAGES && src->count == 0 && src->images) src->count = src->images->nin;
        if (src->count == 0 && src->first >= 0 && src->first < n) src->count = n - src->first;
        if (src->first < 0 || src->count < 1 || src->first + src->count > n)
            return rc_err_set(err, RC_ERR_CONFIG, "source %s: targets [%d, %d) outside population %s (n = %d)",
                              src->name, src->first, src->first + src->count, s->pop[src->tgt].name, n);
        if (!isfinite(src->weight))
            return rc_err_set(err, RC_ERR_CONFIG, "source %s: weight %g", src->name, src->weight);
        const long d = lround(src->delay_ms / s->dt_ms);
        net->src_delay[k] = d < 1 ? 1 : (int)d;
        rc_status st = src->kind == RC_SRC_POISSON
                           ? rc_npois_init(&net->pois[k], src->rate_hz * s->dt_ms * 1e-3, src->name, err)
                       : src->kind == RC_SRC_SPIKES ? setup_events(net, k, err)
                                                    : check_images(src, err);
        if (st) return st;
    }
    return RC_OK;
}

static rc_status check_records(rc_network *net, rc_err *err)
{
    rc_net_spec *s = &net->spec;
    for (int p = 0; p < s->npop; p++) net->rec_lo[p] = net->rec_hi[p] = 0;
    if (s->nspk < 0 || s->nspk > RC_NET_MAXREC || s->nvm < 0 || s->nvm > RC_NET_MAXREC)
        return rc_err_set(err, RC_ERR_CONFIG, "network: at most %d recorders of each kind", RC_NET_MAXREC);
    for (int r = 0; r < s->nspk; r++) {
        rc_net_spike_rec *sr = &s->spk[r];
        if (sr->pop < 0 || sr->pop >= s->npop)
            return rc_err_set(err, RC_ERR_CONFIG, "spike recorder %d: unknown population", r);
        const int n = s->pop[sr->pop].n;
        if (sr->count == 0 && sr->first >= 0) sr->count = n - sr->first;
        if (sr->first < 0 || sr->count < 1 || sr->first + sr->count > n)
            return rc_err_set(err, RC_ERR_CONFIG, "spike recorder of %s: neurons [%d, %d) outside [0, %d)",
                              s->pop[sr->pop].name, sr->first, sr->first + sr->count, n);
        if (net->rec_hi[sr->pop] > 0)
            return rc_err_set(err, RC_ERR_CONFIG, "population %s has two spike recorders", s->pop[sr->pop].name);
        net->rec_lo[sr->pop] = (int)net->off[sr->pop] + sr->first;
        net->rec_hi[sr->pop] = net->rec_lo[sr->pop] + sr->count;
    }
    for (int r = 0; r < s->nvm; r++) {
        const rc_net_vm_rec *vr = &s->vm[r];
        if (vr->pop < 0 || vr->pop >= s->npop || vr->every < 1 || vr->nnodes < 1 || vr->nnodes > RC_NET_MAXVM)
            return rc_err_set(err, RC_ERR_CONFIG,
                              "membrane recorder %d: needs a population, every >= 1 and 1 to %d neurons", r,
                              RC_NET_MAXVM);
        for (int c = 0; c < vr->nnodes; c++)
            if (vr->nodes[c] < 0 || vr->nodes[c] >= s->pop[vr->pop].n)
                return rc_err_set(err, RC_ERR_CONFIG, "membrane recorder of %s: neuron %d outside [0, %d)",
                                  s->pop[vr->pop].name, vr->nodes[c], s->pop[vr->pop].n);
    }
    return RC_OK;
}

static void init_fn(void *arg, int ith, int nth)
{
    (void)nth;
    rc_network *net = arg;
    if (init_thread(net, ith) || rc_net_build_thread(net, ith)) net->thr[ith].oom = 1;
}

rc_status rc_network_new(rc_network **out, const rc_net_spec *spec, rc_pool *pool, rc_err *err)
{
    *out = NULL;
    rc_network *net = calloc(1, sizeof *net);
    if (!net) return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory");
    net->spec = *spec;
    net->pool = pool;
    net->nth = rc_pool_nthreads(pool);
    net->nrank = rc_comm_size(); /* before any collective below */
    net->rank = rc_comm_rank();
    rc_status st = check_pops(net, err);
    if (!st && (spec->nproj < 0 || spec->nproj > RC_NET_MAXPROJ))
        st = rc_err_set(err, RC_ERR_CONFIG, "network: %d projections (at most %d)", spec->nproj, RC_NET_MAXPROJ);
    if (!st) st = rc_net_check_proj(net, err);
    if (!st) st = check_sources(net, err);
    if (!st) st = check_records(net, err);
    if (st) {
        rc_network_free(net);
        return st;
    }
    for (int p = 0; p < spec->npop; p++) {
        int n = 0;
        for (int j = 0; j < spec->nproj; j++)
            if (spec->proj[j].src == p) net->pproj[p][n++] = j;
        net->pproj[p][n] = -1;
    }
    net->thr = calloc((size_t)net->nth, sizeof *net->thr);
    if (!net->thr || rc_net_xchg_new(net)) {
        rc_net_any(net, 1); /* the build check below, on the other ranks */
        rc_network_free(net);
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory");
    }
    net->stride = (uint32_t)net->nth * (uint32_t)net->nrank;
    for (int u = 0; u < net->nth; u++) net->thr[u].vp = (uint32_t)u * (uint32_t)net->nrank + (uint32_t)net->rank;
    const double t0 = rc_now_s();
    rc_pool_run(pool, init_fn, net);
    net->build_s = rc_now_s() - t0;
    int oom = -1;
    for (int u = net->nth - 1; u >= 0; u--)
        if (net->thr[u].oom) oom = u;
    if (rc_net_any(net, oom >= 0)) {
        rc_network_free(net);
        if (oom < 0) return rc_err_set(err, RC_ERR_NOMEM, "network: another rank ran out of memory building its part");
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory building thread %d's neurons and synapses", oom);
    }
    *out = net;
    return RC_OK;
}

static void free_thread(rc_nthr *th)
{
    free(th->V);
    free(th->g[0]);
    free(th->g[1]);
    free(th->refr);
    free(th->spk);
    free(th->ring[0]);
    free(th->ring[1]);
    for (int j = 0; j < RC_NET_MAXPROJ; j++) {
        free(th->proj[j].row);
        free(th->proj[j].tgt);
        free(th->proj[j].w);
        free(th->proj[j].d);
    }
    for (int k = 0; k < RC_NET_MAXSRC; k++) {
        free(th->skey[k]);
        rc_events_free(&th->img[k]);
    }
    for (int b = 0; b < 2; b++) {
        free(th->reg[b]);
        free(th->regoff[b]);
    }
    free(th->nspk);
    free(th->last);
    free(th->isum);
    free(th->isq);
    free(th->rec);
}

void rc_network_free(rc_network *net)
{
    if (!net) return;
    if (net->thr)
        for (int u = 0; u < net->nth; u++) free_thread(&net->thr[u]);
    free(net->thr);
    rc_net_xchg_free(net);
    for (int k = 0; k < RC_NET_MAXSRC; k++) {
        free(net->pois[k].thr);
        free(net->ev_step[k]);
        free(net->ev_gid[k]);
    }
    for (int r = 0; r < RC_NET_MAXREC; r++) free(net->vm[r]);
    free(net);
}
