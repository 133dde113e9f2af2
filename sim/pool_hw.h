/* pool_hw.h — the core count as sim/pool.c needs it (internal; sim/pool_hw.c
 * also holds rc_hw_ncores and rc_partition of sim/pool.h). */
#ifndef RC_POOL_HW_H
#define RC_POOL_HW_H

#include <hwloc.h>

/* Cores of a loaded topology (PUs if it has no core objects), at least 1. */
int rc_hw_count_cores(hwloc_topology_t topo);

#endif
