/* numa.c — binding an engine's memory to the threads' NUMA nodes and
 * checking where its pages landed (see numa.h). */
#include <stdlib.h>
#include <string.h>
#include "sim/numa.h"
#include "sim/topo.h"

struct rc_numa {
    rc_pool *pool;
    int nthreads;
    rc_numa_areas_fn areas;
    const void *ud;
    int *bind_err;            /* (threads) errno of a failed bind, or 0    */
    int shared_bind_err;      /* errno of a failed interleave, or 0        */
    const char *bind_why;     /* why nothing was bound (static), or NULL   */
};

/* Each thread binds the pages it owns to its node, then touches its scratch
 * (first touch places fresh pages by the policy just set). */
static void bind_fn(void *arg, int ith, int nth)
{
    (void)nth;
    rc_numa *nm = arg;
    const rc_topo *topo = rc_pool_topo(nm->pool);
    const int node = rc_pool_thread_numa(nm->pool, ith);
    if (node < 0) return;
    rc_numa_area a[RC_NUMA_MAX_AREAS];
    const int na = nm->areas(nm->ud, ith, a);
    for (int k = 0; k < na; k++) {
        if (!a[k].bytes) continue;
        int rc = rc_topo_membind(topo, a[k].p, a[k].bytes, node, 0);
        if (rc && !nm->bind_err[ith]) nm->bind_err[ith] = rc;
        if (a[k].touch) memset(a[k].p, 0, a[k].bytes);
    }
}

/* Shared buffers interleaved over the threads' nodes (on one node: bound to
 * it), then every thread binds its own. */
rc_numa *rc_numa_bind(rc_pool *pool, const rc_numa_area *shared, int nshared,
                      rc_numa_areas_fn areas, const void *ud)
{
    rc_numa *nm = calloc(1, sizeof *nm);
    if (!nm) return NULL;
    nm->pool = pool;
    nm->nthreads = rc_pool_nthreads(pool);
    nm->areas = areas;
    nm->ud = ud;
    nm->bind_err = calloc((size_t)nm->nthreads, sizeof *nm->bind_err);
    if (!nm->bind_err) {
        free(nm);
        return NULL;
    }
    const rc_topo *topo = rc_pool_topo(pool);
    if (!topo) {
        nm->bind_why = "hwloc could not load this machine's topology";
        return nm;
    }
    if (!rc_topo_can_membind(topo, &nm->bind_why)) return nm;
    unsigned long long mask = 0;
    for (int i = 0; i < nm->nthreads; i++) {
        const int k = rc_pool_thread_numa(pool, i);
        if (k >= 0 && k < 64) mask |= 1ull << k;
    }
    if (!mask) {
        nm->bind_why = "the threads' NUMA nodes are unknown";
        return nm;
    }
    for (int k = 0; k < nshared; k++) {
        int rc = rc_topo_membind(topo, shared[k].p, shared[k].bytes, -1, mask);
        if (rc && !nm->shared_bind_err) nm->shared_bind_err = rc;
    }
    rc_pool_run(pool, bind_fn, nm);
    return nm;
}

void rc_numa_free(rc_numa *nm)
{
    if (!nm) return;
    free(nm->bind_err);
    free(nm);
}

/* One thread's areas: a line each; returns -1 when the page query fails,
 * else adds to *bad, *checked, *unknown. */
static int check_thread(const rc_numa *nm, const rc_topo *topo, int i, FILE *f, int *bad, int *checked,
                        int *unknown)
{
    const int node = rc_pool_thread_numa(nm->pool, i);
    if (nm->bind_err[i])
        fprintf(f, "  thread %d: binding to NUMA %d failed: %s\n", i, node, strerror(nm->bind_err[i]));
    rc_numa_area a[RC_NUMA_MAX_AREAS];
    const int na = nm->areas(nm->ud, i, a);
    for (int k = 0; k < na; k++) {
        const size_t n = a[k].bytes;
        if (n < rc_topo_pagesize()) continue;
        unsigned long long mask = 0;
        const int at = rc_topo_memlocation(topo, a[k].p, n, &mask);
        if (at == -3) {
            fprintf(f, "NUMA check: unsupported here: hwloc_get_area_memlocation failed\n");
            return -1;
        }
        if (at == -2) {
            (*unknown)++;
            fprintf(f, "  thread %d %s: no page allocated yet\n", i, a[k].name);
            continue;
        }
        (*checked)++;
        if (at != node) {
            (*bad)++;
            fprintf(f, "  MISMATCH thread %d %s (%zu KiB): expected NUMA %d, pages on node mask 0x%llx\n", i,
                    a[k].name, n >> 10, node, mask);
        } else
            fprintf(f, "  thread %d %s (%zu KiB): NUMA %d, ok\n", i, a[k].name, n >> 10, at);
    }
    return 0;
}

int rc_numa_check(const rc_numa *nm, FILE *f)
{
    const rc_topo *topo = rc_pool_topo(nm->pool);
    const char *why = NULL;
    if (!topo) why = "hwloc could not load this machine's topology";
    else if (!rc_topo_can_memlocate(topo, &why)) {
    } else if (nm->bind_why) why = nm->bind_why;
    if (why) {
        fprintf(f, "NUMA check: unsupported here: %s\n", why);
        return -1;
    }
    if (nm->shared_bind_err)
        fprintf(f, "NUMA check: interleaving the shared buffers failed: %s\n", strerror(nm->shared_bind_err));
    int bad = 0, checked = 0, unknown = 0;
    for (int i = 0; i < nm->nthreads; i++)
        if (check_thread(nm, topo, i, f, &bad, &checked, &unknown) < 0) return -1;
    fprintf(f, "NUMA check: %d partition area%s checked, %d mismatch%s%s\n", checked, checked == 1 ? "" : "s", bad,
            bad == 1 ? "" : "es", unknown ? " (some areas not yet touched)" : "");
    return bad;
}
