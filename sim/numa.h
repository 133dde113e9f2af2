/* numa.h — NUMA placement of an engine's memory, and the check of where it
 * landed (`rcsim info --check`), for any backend.
 *
 * A backend names its shared buffers (read by every thread: interleaved over
 * the nodes the threads run on, or bound to the one node) and, per thread,
 * the areas that thread owns (bound to its node; scratch is then zeroed by
 * its thread, so first touch places fresh pages by the policy just set).
 * Binding only moves pages: a failure costs speed, never a result, and is
 * recorded for the check rather than returned. */
#ifndef RC_NUMA_H
#define RC_NUMA_H

#include <stddef.h>
#include <stdio.h>
#include "sim/pool.h"

typedef struct {
    const char *name;   /* for the check's lines ("params", "scratch")        */
    void *p;
    size_t bytes;       /* 0: nothing to bind                                 */
    int touch;          /* zero the area after binding it (first touch)       */
} rc_numa_area;

#define RC_NUMA_MAX_AREAS 8

/* Writes thread ith's own areas into out[0..RC_NUMA_MAX_AREAS) and returns
 * how many. Called from the pool while binding (by thread ith) and from
 * rc_numa_check; the areas must not move in between. */
typedef int (*rc_numa_areas_fn)(const void *ud, int ith, rc_numa_area *out);

typedef struct rc_numa rc_numa;

/* Interleaves shared[0..nshared) over the threads' nodes, then runs a pool
 * pass in which every thread binds (and touches) its areas(ud, ith). When
 * the system cannot bind, binds nothing and keeps the reason for the check.
 * NULL only on allocation failure. */
rc_numa *rc_numa_bind(rc_pool *pool, const rc_numa_area *shared, int nshared,
                      rc_numa_areas_fn areas, const void *ud);
void rc_numa_free(rc_numa *nm); /* NULL is a no-op */

/* For each thread, on which node the pages of each of its areas landed,
 * against the node it runs on; one line each to f. Areas under a page are
 * skipped. Returns the number of mismatches, or -1 when this system cannot
 * tell (the line printed says why). */
int rc_numa_check(const rc_numa *nm, FILE *f);

#endif
