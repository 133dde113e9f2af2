/* network.c — the network engine (sim/network.h): per-thread setup and the
 * slice loop (update, exchange, deliver).
 *
 * Why it is built this way (NEST's design, see network.h):
 *  - one rc_pool_run covers a whole run; threads meet at one barrier per
 *    slice. The spike registers are double-buffered by slice parity, so a
 *    thread may start updating slice i+1 (writing register i+1) while others
 *    still read register i: the barrier of slice i+1 is only passed once
 *    everyone has finished delivering slice i.
 *  - delivery: every thread walks all threads' registers of the slice merged
 *    by (step, global id) — the canonical order that makes the sums in the
 *    ring buffers independent of the thread count — and adds each spike's
 *    weights into its own neurons' ring rows only.
 *  - neuron updates run step by step over each population's contiguous local
 *    range (rc_nrn_update vectorises over neurons); spikes are then found by
 *    scanning the flags eight at a time (spikes are rare per step). */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "sim/network_impl.h"

/* Appends gid to the register being written; 0 or -1 (out of memory). */
static int reg_push(rc_nthr *th, int b, uint32_t gid, size_t *n)
{
    if (*n == th->regcap[b]) {
        size_t cap = th->regcap[b] ? 2 * th->regcap[b] : 1024;
        uint32_t *r = realloc(th->reg[b], cap * sizeof *r);
        if (!r) return -1;
        th->reg[b] = r;
        th->regcap[b] = cap;
    }
    th->reg[b][(*n)++] = gid;
    return 0;
}

static int rec_push(rc_nthr *th, uint64_t v)
{
    if (th->nrec == th->reccap) {
        size_t cap = th->reccap ? 2 * th->reccap : 4096;
        uint64_t *r = realloc(th->rec, cap * sizeof *r);
        if (!r) return -1;
        th->rec = r;
        th->reccap = cap;
    }
    th->rec[th->nrec++] = v;
    return 0;
}

/* ---- the slice loop ---------------------------------------------------- */

/* Image source k: the events of its windows emitted in steps [t - d, t + ns
 * - d) arrive in [t, t + ns); each thread encodes each window once (windows
 * are met in increasing order) and adds only its own targets' input.
 * 0, or -1 when the encoder runs out of memory. */
static int inject_images(rc_network *net, rc_nthr *th, int k, int64_t t, int ns, float *ring, float w)
{
    const rc_net_source *src = &net->spec.src[k];
    const rc_dataset *ds = src->images;
    const int64_t d = net->src_delay[k], W = src->window, e0 = t - d, e1 = t + ns - d;
    const size_t nloc = (size_t)th->nloc, L = (size_t)net->L;
    const uint32_t g0 = net->off[src->tgt] + (uint32_t)src->first, S = net->stride, vp = th->vp;
    if (e1 <= 0 || th->shi[k] <= th->slo[k]) return 0;
    for (int64_t win = e0 > 0 ? e0 / W : 0; win <= (e1 - 1) / W; win++) {
        rc_events *ev = &th->img[k];
        if (th->iwin[k] != win) {
            rc_example_info info;
            const int64_t ex = (src->example0 + win) % ds->size[src->split];
            if (ds->get(ds, src->split, ex, ev, &info)) return -1;
            th->iwin[k] = win;
        }
        for (int kk = 0; kk < ev->T; kk++) {
            const int64_t st = win * W + (int64_t)kk * src->step_every;
            if (st < e0 || st >= e1) continue;
            float *restrict row = ring + (size_t)((st + d) % (int64_t)L) * nloc;
            for (int e = ev->off[kk]; e < ev->off[kk + 1]; e++) {
                const uint32_t g = g0 + (uint32_t)ev->ch[e];
                if (g % S == vp) row[g / S] += w * ev->val[e];
            }
        }
    }
    return 0;
}

/* Adds the sources' input for steps [t, t + ns) to this thread's ring rows
 * (after all recurrent input to them has arrived: canonical order). */
static void inject(rc_network *net, rc_nthr *th, int64_t t, int ns)
{
    const rc_net_spec *s = &net->spec;
    const size_t nloc = (size_t)th->nloc, L = (size_t)net->L;
    for (int k = 0; k < s->nsrc; k++) {
        const rc_net_source *src = &s->src[k];
        const int ch = net->prop[src->tgt].nchan == 2 && src->weight < 0;
        float *ring = th->ring[ch];
        const float w = (float)src->weight;
        if (src->kind == RC_SRC_IMAGES) {
            if (inject_images(net, th, k, t, ns, ring, w)) th->oom = 1;
            continue;
        }
        if (src->kind == RC_SRC_SPIKES) {
            size_t c = th->scur[k];
            for (; c < net->nev[k] && net->ev_step[k][c] < t + ns; c++) {
                const uint32_t g = net->ev_gid[k][c];
                if (net->ev_step[k][c] < t || g % net->stride != th->vp) continue;
                ring[(size_t)(net->ev_step[k][c] % (int64_t)L) * nloc + g / net->stride] += w;
            }
            th->scur[k] = c;
            continue;
        }
        /* NEST's poisson_generator: emits in steps s with start < s·h <= stop,
         * which arrive in step s + delay. */
        const int64_t d = net->src_delay[k];
        int64_t a = llround(src->start_ms / s->dt_ms) + 1 + d;
        int64_t e = src->stop_ms > 0 ? llround(src->stop_ms / s->dt_ms) + 1 + d : t + ns;
        a = a > t ? a : t;
        e = e < t + ns ? e : t + ns;
        const rc_npois *tab = &net->pois[k];
        if (th->shi[k] <= th->slo[k]) continue;
        const uint64_t *restrict key = th->skey[k] - th->slo[k];
        for (int64_t st = a; st < e; st++) {
            float *restrict row = ring + (size_t)(st % (int64_t)L) * nloc;
            for (int li = th->slo[k]; li < th->shi[k]; li++) {
                const int c = rc_npois_draw(tab, rc_net_word(key[li], (uint64_t)st));
                row[li] += w * (float)c;
            }
        }
    }
}

/* Registers, counts and records the spikes flagged in [lo, hi) of
 * population p at step st. 0 or -1 (out of memory). */
static int collect(rc_network *net, rc_nthr *th, int p, int64_t st, int b, size_t *n)
{
    const uint8_t *spk = th->spk;
    const int hi = th->hi[p];
    for (int i = th->lo[p]; i < hi;) {
        uint64_t w8;
        if (i + 8 <= hi) {
            memcpy(&w8, spk + i, 8);
            if (!w8) {
                i += 8;
                continue;
            }
        }
        if (spk[i]) {
            const uint32_t gid = (uint32_t)i * net->stride + th->vp;
            if (reg_push(th, b, gid, n)) return -1;
            if (th->last[i] >= 0) {
                const int64_t d = st - th->last[i];
                th->isum[i] += d;
                th->isq[i] += d * d;
            }
            th->last[i] = st;
            th->nspk[i]++;
            if ((int)gid >= net->rec_lo[p] && (int)gid < net->rec_hi[p] && rec_push(th, (uint64_t)st << 32 | gid))
                return -1;
        }
        i++;
    }
    return 0;
}

static void record_vm(rc_network *net, rc_nthr *th, int64_t st)
{
    const rc_net_spec *s = &net->spec;
    for (int r = 0; r < s->nvm; r++) {
        const rc_net_vm_rec *vr = &s->vm[r];
        if ((st + 1) % vr->every) continue;
        float *row = net->vm[r] + (size_t)((st + 1) / vr->every - 1) * (size_t)vr->nnodes;
        for (int c = 0; c < vr->nnodes; c++) {
            const uint32_t g = net->off[vr->pop] + (uint32_t)vr->nodes[c];
            if (g % net->stride == th->vp) row[c] = th->V[g / net->stride] + net->prop[vr->pop].v_offset;
        }
    }
}

static int update_slice(rc_network *net, rc_nthr *th, int64_t t, int ns, int b)
{
    const size_t nloc = (size_t)th->nloc;
    size_t n = 0;
    for (int k = 0; k < ns; k++) {
        const int64_t st = t + k;
        const size_t slot = (size_t)(st % net->L) * nloc;
        th->regoff[b][k] = n;
        for (int p = 0; p < net->spec.npop; p++) {
            const int lo = th->lo[p], cnt = th->hi[p] - lo;
            if (cnt <= 0) continue;
            rc_nrn_update(&net->prop[p], cnt, th->V + lo, th->refr + lo, th->g[0] ? th->g[0] + lo : NULL,
                          th->g[1] ? th->g[1] + lo : NULL, th->ring[0] + slot + lo,
                          th->ring[1] ? th->ring[1] + slot + lo : NULL, th->spk + lo);
            if (collect(net, th, p, st, b, &n)) return -1;
        }
        record_vm(net, th, st);
    }
    for (int k = ns; k <= net->dmin; k++) th->regoff[b][k] = n;
    th->spikes += n;
    return 0;
}

/* Adds spike gid (emitted in step st) to this thread's ring buffers;
 * returns the synaptic events delivered. */
static uint64_t deliver_spike(const rc_network *net, const rc_nthr *th, uint32_t gid, int64_t st)
{
    uint64_t events = 0;
    int p = 0;
    while (gid >= net->off[p + 1]) p++;
    const uint32_t si = gid - net->off[p];
    const size_t nloc = (size_t)th->nloc, L = (size_t)net->L;
    for (const int *pj = net->pproj[p]; *pj >= 0; pj++) {
        const rc_nproj *q = &th->proj[*pj];
        const uint64_t a = q->row[si], e = q->row[si + 1];
        if (a == e) continue;
        float *ring = th->ring[net->chan[*pj]];
        const uint32_t *restrict tgt = q->tgt;
        events += e - a;
        if (!q->d) {
            float *restrict r = ring + (size_t)((st + q->dc) % (int64_t)L) * nloc;
            if (!q->w) {
                const float w = q->wc;
                for (uint64_t x = a; x < e; x++) r[tgt[x]] += w;
            } else {
                const float *restrict w = q->w;
                for (uint64_t x = a; x < e; x++) r[tgt[x]] += w[x];
            }
        } else {
            for (uint64_t x = a; x < e; x++) {
                size_t slot = (size_t)(st % (int64_t)L) + q->d[x];
                slot -= slot >= L ? L : 0;
                ring[slot * nloc + tgt[x]] += q->w ? q->w[x] : q->wc;
            }
        }
    }
    return events;
}

/* Delivers the slice's spikes of all threads, merged by (step, gid). The
 * other threads' registers are read through local copies of their pointers
 * and the event count is added to th once: every thread reads every other's
 * rc_nthr here, so writing a counter in it per spike would bounce its cache
 * line between the cores. */
static void deliver(rc_network *net, rc_nthr *th, int64_t t, int ns, int b)
{
    const int nth = net->nth;
    uint64_t events = 0;
    const uint32_t *reg[nth];
    const size_t *off[nth];
    for (int u = 0; u < nth; u++) reg[u] = net->thr[u].reg[b], off[u] = net->thr[u].regoff[b];
    for (int k = 0; k < ns; k++) {
        if (nth == 1) {
            for (size_t x = off[0][k]; x < off[0][k + 1]; x++) events += deliver_spike(net, th, reg[0][x], t + k);
            continue;
        }
        size_t pos[nth], end[nth];
        for (int u = 0; u < nth; u++) {
            pos[u] = off[u][k];
            end[u] = off[u][k + 1];
        }
        for (;;) {
            int best = -1;
            uint32_t g = UINT32_MAX;
            for (int u = 0; u < nth; u++)
                if (pos[u] < end[u] && reg[u][pos[u]] < g) g = reg[u][pos[u]], best = u;
            if (best < 0) break;
            pos[best]++;
            events += deliver_spike(net, th, g, t + k);
        }
    }
    th->events += events;
}

/* Delivers the slice's spikes of all ranks, merged by (step, gid) by
 * rc_net_exchange. */
static void deliver_merged(rc_network *net, rc_nthr *th, int64_t t, int ns)
{
    const size_t *off;
    const uint32_t *g = rc_net_xchg_slice(net, &off);
    uint64_t events = 0;
    for (int k = 0; k < ns; k++)
        for (size_t x = off[k]; x < off[k + 1]; x++) events += deliver_spike(net, th, g[x], t + k);
    th->events += events;
}

static void run_fn(void *arg, int ith, int nth)
{
    rc_network *net = arg;
    rc_nthr *th = &net->thr[ith];
    int64_t t = net->t;
    int b = 0;
    double tlast = rc_now_s();
    uint64_t total = 0;
    while (t < net->run_end) {
        const int ns = (int)(net->run_end - t < net->dmin ? net->run_end - t : net->dmin);
        inject(net, th, t, ns);
        if (update_slice(net, th, t, ns, b)) th->oom = 1;
        /* The slice's registers are complete before any thread reads them. */
        rc_pool_barrier(net->pool);
        if (net->xc) {
            /* several ranks: thread 0 exchanges and merges while the others
             * wait; all then deliver the merged list */
            if (ith == 0 && rc_net_exchange(net, ns, b)) net->xfail = 1;
            rc_pool_barrier(net->pool);
            if (net->xfail) break;
            deliver_merged(net, th, t, ns);
        } else {
            deliver(net, th, t, ns, b);
        }
        t += ns;
        b ^= 1;
        if (ith == 0 && net->progress) {
            if (net->xc) {
                const size_t *off;
                (void)rc_net_xchg_slice(net, &off);
                total += off[ns];
            } else {
                for (int u = 0; u < nth; u++) total += net->thr[u].regoff[b ^ 1][ns];
            }
            const double now = rc_now_s();
            if (now - tlast >= 0.5) {
                tlast = now;
                net->progress(net->progress_user, t, net->run_end, total);
            }
        }
    }
}

rc_status rc_network_run(rc_network *net, int64_t nsteps, rc_net_progress_fn progress, void *user, rc_err *err)
{
    if (nsteps <= 0) return RC_OK;
    const int64_t end = net->t + nsteps;
    for (int r = 0; r < net->spec.nvm; r++) {
        const int64_t rows = end / net->spec.vm[r].every;
        if (rows <= net->vm_cap[r]) continue;
        const size_t nn = (size_t)net->spec.vm[r].nnodes;
        float *v = realloc(net->vm[r], (size_t)rows * nn * sizeof(float) + 1);
        if (!v) {
            rc_net_any(net, 1); /* the other ranks' check below */
            return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory for membrane recording");
        }
        memset(v + (size_t)net->vm_cap[r] * nn, 0, (size_t)(rows - net->vm_cap[r]) * nn * sizeof(float));
        net->vm[r] = v;
        net->vm_cap[r] = rows;
    }
    if (rc_net_any(net, 0))
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory for membrane recording on another rank");
    net->run_end = end;
    net->progress = progress;
    net->progress_user = user;
    rc_pool_run(net->pool, run_fn, net);
    net->t = end;
    for (int r = 0; r < net->spec.nvm; r++) net->vm_rows[r] = end / net->spec.vm[r].every;
    if (net->xfail) return rc_err_set(err, RC_ERR_IO, "%s", rc_net_xchg_error(net));
    int oom = 0;
    for (int u = 0; u < net->nth; u++) oom |= net->thr[u].oom;
    if (rc_net_any(net, oom))
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory recording spikes%s", oom ? "" : " on another rank");
    if (rc_net_gather_vm(net))
        return rc_err_set(err, RC_ERR_IO, "network: gathering the membrane recordings to rank 0 failed");
    return RC_OK;
}
