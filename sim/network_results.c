/* network_results.c — what a network run produced (sim/network.h):
 * population statistics, recorded spikes and membrane potentials, memory
 * and event counts. Called between runs, from one thread.
 *
 * Why it is separate: these gather over the threads' private arrays after
 * the pool has returned; nothing here is on the hot path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/network_impl.h"

int64_t rc_network_steps_done(const rc_network *net) { return net->t; }
int rc_network_dmin(const rc_network *net) { return net->dmin; }
int rc_network_dmax(const rc_network *net) { return net->dmax; }
size_t rc_network_nneurons(const rc_network *net) { return net->N; }

/* The mean CV is summed exactly, each neuron's CV as an integer multiple of
 * 2^-40: the sum does not depend on the order, so it is the same for every
 * split over threads and ranks. */
void rc_network_popstat(const rc_network *net, int p, rc_net_popstat *out)
{
    memset(out, 0, sizeof *out);
    unsigned __int128 cv_sum = 0;
    uint64_t cv_n = 0, spikes = 0;
    for (int u = 0; u < net->nth; u++) {
        const rc_nthr *th = &net->thr[u];
        for (int i = th->lo[p]; i < th->hi[p]; i++) {
            spikes += th->nspk[i];
            if (th->nspk[i] < 3) continue;
            const double m = (double)th->isum[i] / (th->nspk[i] - 1);
            const double var = (double)th->isq[i] / (th->nspk[i] - 1) - m * m;
            cv_sum += (uint64_t)llround(ldexp(sqrt(var > 0 ? var : 0) / m, 40));
            cv_n++;
        }
    }
    /* rank 0 gets every rank's counts (32 bytes a rank); the other ranks
     * report their own neurons only */
    const uint64_t mine[4] = { spikes, cv_n, (uint64_t)cv_sum, (uint64_t)(cv_sum >> 64) };
    uint64_t all[4 * (net->nrank > 1 ? net->nrank : 1)];
    int nr = net->rank == 0 ? net->nrank : 1;
    if (rc_net_gather_u64(net, mine, 4, all) || net->rank) {
        memcpy(all, mine, sizeof mine);
        nr = 1;
    }
    cv_sum = 0;
    cv_n = 0;
    for (int r = 0; r < nr; r++) {
        out->spikes += all[4 * r];
        cv_n += all[4 * r + 1];
        cv_sum += (unsigned __int128)all[4 * r + 3] << 64 | all[4 * r + 2];
    }
    const double secs = (double)net->t * net->spec.dt_ms * 1e-3;
    out->rate_hz = secs > 0 ? (double)out->spikes / (net->spec.pop[p].n * secs) : 0;
    out->cv_isi = cv_n ? ldexp((double)cv_sum, -40) / (double)cv_n : NAN;
}

static int u64_cmp(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* This rank's recorded spikes of population p (step << 32 | gid). */
static uint64_t *local_spikes(const rc_network *net, int p, size_t *n)
{
    size_t total = 0;
    for (int u = 0; u < net->nth; u++)
        for (size_t x = 0; x < net->thr[u].nrec; x++) {
            const uint32_t g = (uint32_t)net->thr[u].rec[x];
            total += g >= net->off[p] && g < net->off[p + 1];
        }
    uint64_t *all = malloc((total ? total : 1) * sizeof *all);
    *n = total;
    size_t k = 0;
    for (int u = 0; all && u < net->nth; u++)
        for (size_t x = 0; x < net->thr[u].nrec; x++) {
            const uint32_t g = (uint32_t)net->thr[u].rec[x];
            if (g >= net->off[p] && g < net->off[p + 1]) all[k++] = net->thr[u].rec[x];
        }
    return all;
}

rc_status rc_network_spikes(const rc_network *net, int p, int32_t **steps, uint64_t **ids, size_t *n, rc_err *err)
{
    *steps = NULL;
    *ids = NULL;
    *n = 0;
    size_t total = 0;
    uint64_t *all = local_spikes(net, p, &total);
    int bad = !all;
    if (net->nrank > 1) { /* to rank 0 */
        uint64_t *got = NULL;
        size_t ngot = 0;
        if (rc_net_any(net, bad) || rc_net_gatherv_u64(net, all, total, &got, &ngot)) bad = 1;
        free(all);
        all = got;
        total = ngot;
    }
    if (bad) {
        free(all);
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory gathering the spikes of %s",
                          net->spec.pop[p].name);
    }
    if (!total) {
        free(all);
        return RC_OK;
    }
    *steps = malloc(total * sizeof **steps);
    *ids = malloc(total * sizeof **ids);
    if (!*steps || !*ids) {
        free(all);
        free(*steps);
        free(*ids);
        *steps = NULL;
        *ids = NULL;
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory sorting %zu spikes", total);
    }
    qsort(all, total, sizeof *all, u64_cmp); /* step << 32 | gid: by (step, gid) */
    for (size_t x = 0; x < total; x++) {
        (*steps)[x] = (int32_t)(all[x] >> 32);
        (*ids)[x] = (uint32_t)all[x] - net->off[p];
    }
    free(all);
    *n = total;
    return RC_OK;
}

const float *rc_network_vm(const rc_network *net, int r, int64_t *rows)
{
    *rows = net->vm_rows[r];
    return net->vm[r];
}

void rc_network_thread_info(const rc_network *net, int ith, size_t *neurons, rc_net_info *out)
{
    const rc_nthr *th = &net->thr[ith];
    memset(out, 0, sizeof *out);
    *neurons = (size_t)th->nloc;
    out->synapses = th->nsyn;
    out->syn_bytes = th->syn_bytes;
    out->state_bytes = th->state_bytes;
    out->ring_bytes = (uint64_t)th->nloc * (uint64_t)net->L * sizeof(float) * (net->has_g ? 2u : 1u);
    out->syn_events = th->events;
    out->spikes = th->spikes;
    out->build_s = net->build_s;
}

int rc_network_thread_pop(const rc_network *net, int ith, int pop)
{
    return net->thr[ith].hi[pop] - net->thr[ith].lo[pop];
}

int rc_network_nthreads(const rc_network *net) { return net->nth; }

void rc_network_info(const rc_network *net, rc_net_info *out)
{
    memset(out, 0, sizeof *out);
    for (int u = 0; u < net->nth; u++) {
        size_t n;
        rc_net_info t;
        rc_network_thread_info(net, u, &n, &t);
        out->synapses += t.synapses;
        out->syn_bytes += t.syn_bytes;
        out->state_bytes += t.state_bytes;
        out->ring_bytes += t.ring_bytes;
        out->syn_events += t.syn_events;
        out->spikes += t.spikes;
    }
    uint64_t c[6] = { out->synapses, out->syn_bytes, out->state_bytes, out->ring_bytes, out->syn_events, out->spikes };
    rc_net_sum_u64(net, c, 6); /* over the ranks */
    out->synapses = c[0], out->syn_bytes = c[1], out->state_bytes = c[2];
    out->ring_bytes = c[3], out->syn_events = c[4], out->spikes = c[5];
    out->build_s = net->build_s;
}
