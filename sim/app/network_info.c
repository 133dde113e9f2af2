/* network_info.c — `rcsim info net.cfg` for task.name = network: the plan
 * of the network's partition over the threads and NUMA nodes (neurons per
 * population, synapses, bytes of state, ring buffers and synapses), on this
 * machine or on a --topology synthetic:... one.
 *
 * Why it builds the network: synapse counts per thread of random rules
 * (pairwise_bernoulli, fixed_outdegree) are only known by drawing them, and
 * drawing them is what rc_network_new does. The build runs here on a pool of
 * the planned thread count (oversubscribing this machine if it has fewer
 * cores), which gives the same partition as a run with that many threads:
 * neuron g goes to thread g % threads, whatever the machine. Its memory is
 * the run's minus the recordings; the output says how long it took. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "sim/app/network_cfg.h"
#include "sim/comm.h"

static void mib(char *buf, size_t cap, uint64_t bytes)
{
    snprintf(buf, cap, "%.2f MiB", (double)bytes / (1024.0 * 1024.0));
}

/* The per-thread and per-node tables of a built network. */
static void print_plan(const rc_network *net, const rc_net_spec *s, const rc_thread_place *pl, int nnuma)
{
    const int nth = rc_network_nthreads(net);
    char a[32], b[32], c[32];
    printf("  %-6s %-4s %9s %-28s %12s %12s %12s %12s\n", "thread", "numa", "neurons", "(per population)",
           "synapses", "state", "ring buffers", "synapse mem");
    uint64_t nn[64] = { 0 }, ns[64] = { 0 }, nst[64] = { 0 }, nring[64] = { 0 }, nsyn[64] = { 0 };
    int nt[64] = { 0 };
    for (int u = 0; u < nth; u++) {
        size_t n;
        rc_net_info in;
        rc_network_thread_info(net, u, &n, &in);
        char per[256] = "(";
        size_t len = 1;
        for (int p = 0; p < s->npop && len < sizeof per - 40; p++)
            len += (size_t)snprintf(per + len, sizeof per - len, "%s%s %d", p ? ", " : "", s->pop[p].name,
                                    rc_network_thread_pop(net, u, p));
        snprintf(per + len, sizeof per - len, ")");
        const int node = pl[u].numa >= 0 && pl[u].numa < 64 ? pl[u].numa : 0;
        mib(a, sizeof a, in.state_bytes - in.ring_bytes);
        mib(b, sizeof b, in.ring_bytes);
        mib(c, sizeof c, in.syn_bytes);
        printf("  %-6d %-4d %9zu %-28s %12llu %12s %12s %12s\n", u, node, n, per, (unsigned long long)in.synapses, a,
               b, c);
        nt[node]++;
        nn[node] += n;
        ns[node] += in.synapses;
        nst[node] += in.state_bytes - in.ring_bytes;
        nring[node] += in.ring_bytes;
        nsyn[node] += in.syn_bytes;
    }
    printf("  per NUMA node:\n");
    for (int d = 0; d < nnuma && d < 64; d++) {
        mib(a, sizeof a, nst[d] + nring[d] + nsyn[d]);
        printf("  node %-3d %3d thread%s %9llu neurons %12llu synapses %12s\n", d, nt[d], nt[d] == 1 ? " " : "s",
               (unsigned long long)nn[d], (unsigned long long)ns[d], a);
    }
    rc_net_info in;
    rc_network_info(net, &in);
    mib(a, sizeof a, in.state_bytes + in.syn_bytes);
    printf("  total: %zu neurons, %llu synapses, %s (%.2f bytes per synapse; delays d_min %d, d_max %d steps)\n",
           rc_network_nneurons(net), (unsigned long long)in.synapses, a,
           in.synapses ? (double)in.syn_bytes / (double)in.synapses : 0.0, rc_network_dmin(net),
           rc_network_dmax(net));
}

int rc_netinfo(const rc_cfg *cfg, const char *cfg_path, const rc_topo *topo, int nth, rc_placement place,
               const rc_thread_place *pl)
{
    rc_err err = { "" };
    if (rc_comm_size() > 1) { /* the plan is of one process's threads */
        if (rc_comm_rank() == 0)
            fprintf(stderr, "rcsim: info plans the threads of one process: run it without mpirun (each of P "
                            "ranks holds the neurons g with g %% P == rank)\n");
        return 2;
    }
    rc_net_spec *s = malloc(sizeof *s);
    rc_netcfg_files files;
    memset(&files, 0, sizeof files);
    rc_status st = s ? rc_netcfg_spec(cfg, cfg_path, s, &files, &err) : rc_err_set(&err, RC_ERR_NOMEM, "out of memory");
    rc_pool *pool = st ? NULL : rc_pool_new(nth, place, &err);
    rc_network *net = NULL;
    double t0 = rc_now_s();
    if (!st && !pool) st = RC_ERR_NOMEM;
    if (!st) st = rc_network_new(&net, s, pool, &err);
    if (!st) {
        printf("\nnetwork plan of %s on %d thread%s (%s; neuron g on thread g %% %d; connectivity built here "
               "to count the synapses: %.2f s):\n",
               cfg_path, nth, nth > 1 ? "s" : "", place == RC_PLACE_SPREAD ? "spread" : "compact", nth,
               rc_now_s() - t0);
        print_plan(net, s, pl, rc_topo_nnuma(topo));
    }
    rc_network_free(net);
    rc_pool_free(pool);
    rc_netcfg_files_free(&files);
    free(s);
    if (!st) return 0;
    fprintf(stderr, "rcsim: %s\n", err.msg);
    return st == RC_ERR_CONFIG || st == RC_ERR_USAGE ? 2 : 1;
}
