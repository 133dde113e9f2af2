/* pool_hw.c — hardware discovery for the pool and the partition every
 * threaded loop uses (declared in sim/pool.h and sim/pool_hw.h). */
#include <pthread.h>
#include "sim/pool.h"
#include "sim/pool_hw.h"

int rc_hw_count_cores(hwloc_topology_t topo)
{
    int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (n <= 0)
        n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    return n > 0 ? n : 1;
}

static int rc_hw_ncores_cached = 1;
static pthread_once_t rc_hw_once = PTHREAD_ONCE_INIT;

static void rc_hw_probe(void)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        return;
    if (hwloc_topology_load(topo) == 0)
        rc_hw_ncores_cached = rc_hw_count_cores(topo);
    hwloc_topology_destroy(topo);
}

int rc_hw_ncores(void)
{
    pthread_once(&rc_hw_once, rc_hw_probe);
    return rc_hw_ncores_cached;
}

void rc_partition(size_t n, int ith, int nth, size_t *lo, size_t *hi)
{
    RC_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    size_t base = n / (size_t)nth, rem = n % (size_t)nth, i = (size_t)ith;
    *lo = i * base + (i < rem ? i : rem);
    *hi = *lo + base + (i < rem ? 1 : 0);
}
