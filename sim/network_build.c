/* network_build.c — connectivity of a network (sim/network.h): projection
 * checks, the d_min/d_max of the slices, Poisson inversion tables, and each
 * thread's incoming synapses.
 *
 * Why it is built this way: every draw is a splitmix64 word of a key that
 * depends on (seed, projection, what, target id) — or source id for
 * fixed_outdegree — so a target's synapses are the same whichever thread
 * (or rank) builds them. A thread builds only its own targets' synapses, in two
 * passes over the same draws (count per source, then fill), so no temporary
 * list of all synapses is ever held: the peak memory is the CSR itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/network_impl.h"

enum { KEY_STRUCT = 0, KEY_WEIGHT = 1, KEY_DELAY = 2 };

static uint64_t conn_key(const rc_network *net, int j, int what, uint64_t id)
{
    return rc_rand64(net->spec.seed, RC_STREAM_NET_CONN, (uint64_t)j * 4 + (uint64_t)what, id);
}

static double u01(uint64_t r) { return (double)(r >> 11) * 0x1.0p-53; }

double rc_dist_draw(const rc_dist *d, uint64_t r1, uint64_t r2)
{
    double x = d->a;
    if (d->kind == RC_DIST_UNIFORM) {
        x = d->a + (d->b - d->a) * u01(r1);
    } else if (d->kind == RC_DIST_NORMAL) {
        double u = u01(r1);
        if (u < 1e-300) u = 1e-300;
        x = d->a + d->b * sqrt(-2.0 * log(u)) * cos(6.283185307179586 * u01(r2));
        x = x < d->lo ? d->lo : x > d->hi ? d->hi : x;
    }
    return x;
}

/* Smallest and largest value a distribution can produce. */
static void dist_range(const rc_dist *d, double *lo, double *hi)
{
    *lo = *hi = d->a;
    if (d->kind == RC_DIST_UNIFORM) *lo = d->a, *hi = d->b;
    if (d->kind == RC_DIST_NORMAL) *lo = d->lo, *hi = d->hi;
}

static int delay_steps(double ms, double h)
{
    long s = lround(ms / h);
    return s < 1 ? 1 : s > 65535 ? 65535 : (int)s;
}

/* Checks one projection; fills its delay range and channel. */
static rc_status check_one(rc_network *net, int j, int *dlo, int *dhi, rc_err *err)
{
    const rc_net_spec *s = &net->spec;
    const rc_net_proj *p = &s->proj[j];
    if (p->src < 0 || p->src >= s->npop || p->tgt < 0 || p->tgt >= s->npop)
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: unknown source or target population", p->name);
    const int ns = s->pop[p->src].n, nt = s->pop[p->tgt].n, same = p->src == p->tgt;
    const int room = ns - (same && !p->autapses);
    if ((p->rule == RC_RULE_FIXED_INDEGREE || p->rule == RC_RULE_FIXED_OUTDEGREE) && p->degree < 0)
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: degree = %d (expected >= 0)", p->name, p->degree);
    if (p->rule == RC_RULE_FIXED_INDEGREE && p->degree > 0 && room <= 0)
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: no possible source", p->name);
    if (p->rule == RC_RULE_FIXED_INDEGREE && !p->multapses && p->degree > room)
        return rc_err_set(err, RC_ERR_CONFIG,
                          "projection %s: indegree %d without multapses exceeds the %d possible sources", p->name,
                          p->degree, room);
    if (p->rule == RC_RULE_FIXED_OUTDEGREE && !p->multapses && p->degree > nt - (same && !p->autapses))
        return rc_err_set(err, RC_ERR_CONFIG,
                          "projection %s: outdegree %d without multapses exceeds the %d possible targets", p->name,
                          p->degree, nt - (same && !p->autapses));
    if (p->rule == RC_RULE_BERNOULLI && !(p->p >= 0 && p->p <= 1))
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: p = %g (expected 0 <= p <= 1)", p->name, p->p);
    if (p->rule == RC_RULE_ONE_TO_ONE && ns != nt)
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: one_to_one needs equal sizes (%d and %d)", p->name,
                          ns, nt);
    double lo, hi;
    dist_range(&p->delay, &lo, &hi);
    if (!(lo > 0) || !isfinite(hi) || lo > hi)
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: delay range [%g, %g] ms (expected finite, > 0)",
                          p->name, lo, hi);
    *dlo = delay_steps(lo, s->dt_ms);
    *dhi = delay_steps(hi, s->dt_ms);
    dist_range(&p->weight, &lo, &hi);
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return rc_err_set(err, RC_ERR_CONFIG, "projection %s: weight range [%g, %g] (expected finite)", p->name,
                          lo, hi);
    if (net->prop[p->tgt].nchan == 2 && lo < 0 && hi > 0)
        return rc_err_set(err, RC_ERR_CONFIG,
                          "projection %s: weights from %g to %g cross 0 (the sign picks the excitatory or "
                          "inhibitory input of %s: clip the distribution)",
                          p->name, lo, hi, rc_nrn_model_name(net->prop[p->tgt].model));
    net->chan[j] = net->prop[p->tgt].nchan == 2 && hi <= 0 && lo < 0;
    return RC_OK;
}

rc_status rc_net_check_proj(rc_network *net, rc_err *err)
{
    net->dmin = net->spec.nproj ? 65535 : 1;
    net->dmax = 1;
    for (int j = 0; j < net->spec.nproj; j++) {
        int dlo = 1, dhi = 1;
        rc_status st = check_one(net, j, &dlo, &dhi, err);
        if (st) return st;
        if (dlo < net->dmin) net->dmin = dlo;
        if (dhi > net->dmax) net->dmax = dhi;
    }
    net->L = net->dmin + net->dmax;
    return RC_OK;
}

rc_status rc_npois_init(rc_npois *t, double lam, const char *what, rc_err *err)
{
    if (!(lam >= 0) || lam > 600)
        return rc_err_set(err, RC_ERR_CONFIG,
                          "source %s: %g spikes per step per target (expected 0 to 600: split the source)", what,
                          lam);
    int cap = (int)(lam + 12.0 * sqrt(lam) + 40.0);
    t->thr = malloc((size_t)cap * sizeof *t->thr);
    if (!t->thr) return rc_err_set(err, RC_ERR_NOMEM, "source %s: out of memory", what);
    long double pmf = expl(-(long double)lam), cdf = 0;
    int k = 0;
    for (; k < cap - 1; k++) {
        cdf += pmf;
        pmf *= (long double)lam / (k + 1);
        long double x = cdf * 0x1.0p53L;
        if (x >= 0x1.0p53L) break;
        t->thr[k] = (uint64_t)x;
    }
    t->thr[k] = 1ull << 53; /* every u < 2^53 stops here */
    t->nk = k + 1;
    for (int g = 0, c = 0; g < 256; g++) {
        const uint64_t ulo = (uint64_t)g << 45;
        while (t->thr[c] <= ulo) c++;
        t->guide[g] = (uint16_t)c;
    }
    return RC_OK;
}

/* ---- drawing one target's sources (or one source's targets) ------------- */

/* The partner indices (within the other population) of node `id` under
 * projection j, in draw order, into buf; returns the count. For
 * fixed_outdegree, id is a source and partners are targets; otherwise id is
 * a target. bits: scratch bitmap of the partner population, all zero on entry
 * and on return. */
static int draw_partners(const rc_network *net, int j, uint32_t id, uint32_t *buf, uint64_t *bits)
{
    const rc_net_proj *p = &net->spec.proj[j];
    const int outd = p->rule == RC_RULE_FIXED_OUTDEGREE;
    const uint32_t np = (uint32_t)net->spec.pop[outd ? p->tgt : p->src].n;
    const int noself = p->src == p->tgt && !p->autapses;
    const uint64_t key = conn_key(net, j, KEY_STRUCT, id);
    int n = 0;
    switch (p->rule) {
    case RC_RULE_FIXED_INDEGREE:
    case RC_RULE_FIXED_OUTDEGREE:
        for (uint64_t k = 0; n < p->degree; k++) {
            const uint32_t s = (uint32_t)(((rc_net_word(key, k) >> 32) * np) >> 32);
            if (noself && s == id) continue;
            if (!p->multapses) {
                if (bits[s >> 6] >> (s & 63) & 1) continue;
                bits[s >> 6] |= 1ull << (s & 63);
            }
            buf[n++] = s;
        }
        if (!p->multapses)
            for (int i = 0; i < n; i++) bits[buf[i] >> 6] = 0;
        break;
    case RC_RULE_BERNOULLI: {
        if (p->p <= 0) break;
        const double lq = log1p(-p->p);
        int64_t s = -1;
        for (uint64_t k = 0;; k++) {
            if (p->p < 1) {
                double u = 1.0 - u01(rc_net_word(key, k)); /* (0, 1] */
                s += 1 + (int64_t)floor(log(u) / lq);
            } else {
                s++;
            }
            if (s >= (int64_t)np) break;
            if (noself && (uint32_t)s == id) continue;
            buf[n++] = (uint32_t)s;
        }
        break;
    }
    case RC_RULE_ONE_TO_ONE:
        if (!noself) buf[n++] = id;
        break;
    case RC_RULE_ALL_TO_ALL:
        for (uint32_t s = 0; s < np; s++)
            if (!(noself && s == id)) buf[n++] = s;
        break;
    }
    return n;
}

/* Stores synapse k of (source si, local target li) at pos. */
static void put_syn(const rc_network *net, int j, rc_nproj *pj, uint64_t pos, uint32_t li, uint64_t wkey,
                    uint64_t dkey, uint64_t k)
{
    const rc_net_proj *p = &net->spec.proj[j];
    pj->tgt[pos] = li;
    if (pj->w) pj->w[pos] = (float)rc_dist_draw(&p->weight, rc_net_word(wkey, 2 * k), rc_net_word(wkey, 2 * k + 1));
    if (pj->d)
        pj->d[pos] = (uint16_t)delay_steps(
            rc_dist_draw(&p->delay, rc_net_word(dkey, 2 * k), rc_net_word(dkey, 2 * k + 1)), net->spec.dt_ms);
}

/* One pass over projection j's synapses onto thread ith: fill = 0 counts
 * per source into row[s + 1]... (row[s] as a counter), fill = 1 stores them
 * at row[s]++ . */
static void pass(rc_network *net, int ith, int j, rc_nproj *pj, int fill, uint32_t *buf, uint64_t *bits)
{
    const rc_net_proj *p = &net->spec.proj[j];
    rc_nthr *th = &net->thr[ith];
    const uint32_t S = net->stride, vp = th->vp;
    if (p->rule == RC_RULE_FIXED_OUTDEGREE) {
        for (uint32_t si = 0; si < (uint32_t)net->spec.pop[p->src].n; si++) {
            const int n = draw_partners(net, j, si, buf, bits);
            const uint64_t wkey = fill ? conn_key(net, j, KEY_WEIGHT, si) : 0;
            const uint64_t dkey = fill ? conn_key(net, j, KEY_DELAY, si) : 0;
            for (int k = 0; k < n; k++) {
                const uint32_t gid = net->off[p->tgt] + buf[k];
                if (gid % S != vp) continue;
                if (!fill) pj->row[si]++;
                else put_syn(net, j, pj, pj->row[si]++, gid / S, wkey, dkey, (uint64_t)k);
            }
        }
        return;
    }
    for (int li = th->lo[p->tgt]; li < th->hi[p->tgt]; li++) {
        const uint32_t ti = (uint32_t)li * S + vp - net->off[p->tgt];
        const int n = draw_partners(net, j, ti, buf, bits);
        const uint64_t wkey = fill ? conn_key(net, j, KEY_WEIGHT, ti) : 0;
        const uint64_t dkey = fill ? conn_key(net, j, KEY_DELAY, ti) : 0;
        for (int k = 0; k < n; k++) {
            if (!fill) pj->row[buf[k]]++;
            else put_syn(net, j, pj, pj->row[buf[k]]++, (uint32_t)li, wkey, dkey, (uint64_t)k);
        }
    }
}

static int build_proj(rc_network *net, int ith, int j, uint32_t *buf, uint64_t *bits)
{
    const rc_net_proj *p = &net->spec.proj[j];
    rc_nproj *pj = &net->thr[ith].proj[j];
    const size_t ns = (size_t)net->spec.pop[p->src].n;
    pj->row = rc_net_alloc(net, ith, (ns + 1) * sizeof *pj->row);
    if (!pj->row) return -1;
    pass(net, ith, j, pj, 0, buf, bits);
    uint64_t sum = 0; /* row[s] = start of s, the counting pass left counts */
    for (size_t s = 0; s < ns; s++) {
        const uint64_t c = pj->row[s];
        pj->row[s] = sum;
        sum += c;
    }
    pj->row[ns] = sum;
    pj->nsyn = sum;
    pj->wc = (float)p->weight.a;
    pj->dc = delay_steps(p->delay.a, net->spec.dt_ms);
    const size_t n = sum ? sum : 1;
    pj->tgt = rc_net_alloc(net, ith, n * sizeof *pj->tgt);
    if (p->weight.kind != RC_DIST_CONST) pj->w = rc_net_alloc(net, ith, n * sizeof *pj->w);
    if (p->delay.kind != RC_DIST_CONST) pj->d = rc_net_alloc(net, ith, n * sizeof *pj->d);
    if (!pj->tgt || (p->weight.kind != RC_DIST_CONST && !pj->w) || (p->delay.kind != RC_DIST_CONST && !pj->d))
        return -1;
    pass(net, ith, j, pj, 1, buf, bits);
    memmove(pj->row + 1, pj->row, ns * sizeof *pj->row); /* row[s] was left at the end of s */
    pj->row[0] = 0;
    net->thr[ith].nsyn += sum;
    net->thr[ith].syn_bytes += (ns + 1) * sizeof *pj->row + sum * (sizeof *pj->tgt + (pj->w ? sizeof *pj->w : 0) +
                                                                   (pj->d ? sizeof *pj->d : 0));
    return 0;
}

int rc_net_build_thread(rc_network *net, int ith)
{
    size_t maxn = 1;
    for (int p = 0; p < net->spec.npop; p++)
        if ((size_t)net->spec.pop[p].n > maxn) maxn = (size_t)net->spec.pop[p].n;
    uint32_t *buf = malloc(maxn * sizeof *buf);
    uint64_t *bits = calloc(maxn / 64 + 1, sizeof *bits);
    int rc = buf && bits ? 0 : -1;
    for (int j = 0; j < net->spec.nproj && !rc; j++) rc = build_proj(net, ith, j, buf, bits);
    free(buf);
    free(bits);
    return rc;
}
