/* topo_impl.h — the topology's insides, for topo.c and cpuload.c only. */
#ifndef RC_TOPO_IMPL_H
#define RC_TOPO_IMPL_H

#include <hwloc.h>
#include "sim/topo.h"

#define RC_TOPO_NAME 512

struct rc_topo {
    hwloc_topology_t h;
    int host;
    hwloc_obj_type_t unit; /* HWLOC_OBJ_CORE, or HWLOC_OBJ_PU without cores */
    int nunits;
    char name[RC_TOPO_NAME];
};

/* After a restriction: the unit type and count again. */
void rc_topo_recount(rc_topo *t);

#endif
