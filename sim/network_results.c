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

void rc_network_popstat(const rc_network *net, int p, rc_net_popstat *out)
{
    memset(out, 0, sizeof *out);
    double cv_sum = 0;
    uint64_t cv_n = 0;
    for (int u = 0; u < net->nth; u++) {
        const rc_nthr *th = &net->thr[u];
        for (int i = th->lo[p]; i < th->hi[p]; i++) {
            out->spikes += th->nspk[i];
            if (th->nspk[i] < 3) continue;
            const double m = (double)th->isum[i] / (th->nspk[i] - 1);
            const double var = (double)th->isq[i] / (th->nspk[i] - 1) - m * m;
            cv_sum += sqrt(var > 0 ? var : 0) / m;
            cv_n++;
        }
    }
    const double secs = (double)net->t * net->spec.dt_ms * 1e-3;
    out->rate_hz = secs > 0 ? (double)out->spikes / (net->spec.pop[p].n * secs) : 0;
    out->cv_isi = cv_n ? cv_sum / (double)cv_n : NAN;
}

static int u64_cmp(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

rc_status rc_network_spikes(const rc_network *net, int p, int32_t **steps, uint64_t **ids, size_t *n, rc_err *err)
{
    *steps = NULL;
    *ids = NULL;
    *n = 0;
    size_t total = 0;
    for (int u = 0; u < net->nth; u++)
        for (size_t x = 0; x < net->thr[u].nrec; x++) {
            const uint32_t g = (uint32_t)net->thr[u].rec[x];
            total += g >= net->off[p] && g < net->off[p + 1];
        }
    if (!total) return RC_OK;
    uint64_t *all = malloc(total * sizeof *all);
    *steps = malloc(total * sizeof **steps);
    *ids = malloc(total * sizeof **ids);
    if (!all || !*steps || !*ids) {
        free(all);
        free(*steps);
        free(*ids);
        *steps = NULL;
        *ids = NULL;
        return rc_err_set(err, RC_ERR_NOMEM, "network: out of memory sorting %zu spikes", total);
    }
    size_t k = 0;
    for (int u = 0; u < net->nth; u++)
        for (size_t x = 0; x < net->thr[u].nrec; x++) {
            const uint32_t g = (uint32_t)net->thr[u].rec[x];
            if (g >= net->off[p] && g < net->off[p + 1]) all[k++] = net->thr[u].rec[x];
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
    out->build_s = net->build_s;
}
