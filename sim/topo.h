/* topo.h — the machine rcsim plans for: hwloc topology, thread placement,
 * NUMA memory binding.
 *
 * A topology is this machine (the default), an hwloc synthetic description
 * ("synthetic:pack:2 numa:2 core:8 pu:2") or an hwloc XML export
 * ("xml:/path/machine.xml", or any path ending in .xml). Only this machine's
 * topology can bind threads or memory; the others are for planning (what
 * would rcsim do on a 2-socket server?) and for the tests.
 *
 * Placement. The unit is the core (PUs if hwloc finds no cores); one thread
 * per core by default. "spread" deals threads over NUMA nodes round-robin,
 * visiting the nodes packages-first (node 0 of package 0, node 0 of package
 * 1, ..., node 1 of package 0, ...), so two threads land on two sockets and
 * the first threads get the most memory bandwidth. "compact" fills cores in
 * hwloc's logical order (one node, then the next: shared caches). With more
 * threads than cores the order wraps around, and thread i goes to the
 * (i / ncores)-th PU of its core, i.e. onto SMT siblings before doubling up
 * on one PU. The same function plans the real pool (sim/pool.c) and
 * `rcsim info`, so what info prints is what run does.
 *
 * Memory. rc_topo_membind binds the whole pages inside [addr, addr + len) to
 * one NUMA node (or interleaves them over a set of nodes), moving pages that
 * were already touched; rc_topo_memlocation says where pages landed
 * (hwloc_get_area_memlocation). Both say clearly when the system cannot do it
 * (single node, containers that forbid mbind/move_pages, non-host topology). */
#ifndef RC_TOPO_H
#define RC_TOPO_H

#include <stddef.h>
#include <stdio.h>
#include "base/status.h"

typedef enum { RC_PLACE_SPREAD = 0, RC_PLACE_COMPACT = 1 } rc_placement;

typedef struct rc_topo rc_topo;

/* One thread's place. Indices are hwloc logical indices (-1 = unknown). */
typedef struct {
    int core;    /* core (or PU when there are no cores) in logical order */
    int pu;      /* OS index of the PU the thread is bound to             */
    int numa;    /* NUMA node holding the core                            */
    int package; /* package (socket) holding the core                     */
    int shared;  /* 1 if another thread of the plan has the same PU        */
} rc_thread_place;

/* desc: NULL, "" or "host" = this machine; "synthetic:DESC"; "xml:PATH" or a
 * PATH ending in ".xml". A bad description is RC_ERR_CONFIG with one line
 * naming `key` (e.g. "sim.topology"), the value and what was expected;
 * *out is then NULL. */
rc_status rc_topo_new(rc_topo **out, const char *desc, const char *key, rc_err *err);
void rc_topo_free(rc_topo *t); /* NULL is a no-op */

/* 1 if this is the machine we run on (binding possible), else 0. */
int rc_topo_is_host(const rc_topo *t);
/* "this machine", "synthetic:...", "xml:..." */
const char *rc_topo_name(const rc_topo *t);

int rc_topo_npackages(const rc_topo *t);
int rc_topo_nnuma(const rc_topo *t);   /* >= 1: a machine without NUMA info has one node */
int rc_topo_ncores(const rc_topo *t);  /* >= 1 */
int rc_topo_npus(const rc_topo *t);    /* >= 1 */

/* A shared machine: samples /proc/stat twice, window_ms apart (the caller
 * sleeps in between, so its own work does not count), and cuts this
 * machine's topology down to the CPUs that were idle at least half of the
 * window, so the automatic thread count (sim.threads = 0) and the placement
 * of an explicit count use only those. Nothing when all or none are busy,
 * when fewer than min_cores whole cores are idle, for a non-host topology
 * or a single core. Returns the number of CPUs left out. */
int rc_topo_restrict_idle(rc_topo *t, int window_ms, int min_cores);
/* The cut itself, for any topology: busy[c] = 1 leaves OS CPU c out
 * (c < n), unless fewer than min_cores cores are wholly idle or none is
 * busy. Returns the number of CPUs left out (0: topology unchanged). */
int rc_topo_restrict_busy(rc_topo *t, const int *busy, int n, int min_cores);

/* The rule, for tests: two /proc/stat texts; busy[c] = 1 when CPU c spent
 * more than half of the time between them outside idle and iowait, less
 * what this process's own threads ran there (own: lines "cpuN jiffies",
 * may be empty). Returns the number of CPUs (highest index + 1) found in
 * both, ≤ cap. */
int rc_cpu_busy_from_stat(const char *stat0, const char *stat1, const char *own, int *busy, int cap);

/* Prints packages, NUMA nodes (cores, PUs, memory each), cores and PUs. */
void rc_topo_print(const rc_topo *t, FILE *f);

/* Places nth >= 1 threads (see the header comment). out has nth entries.
 * RC_ERR_NOMEM only. */
rc_status rc_topo_place(const rc_topo *t, int nth, rc_placement place, rc_thread_place *out,
                        rc_err *err);

/* The hwloc topology (hwloc_topology_t) for sim/pool.c; NULL-safe. */
void *rc_topo_hwloc(const rc_topo *t);

/* Memory binding support of this system. 1 = can bind areas to nodes;
 * 0 with *why set to a static reason otherwise. */
int rc_topo_can_membind(const rc_topo *t, const char **why);
/* 1 = can ask where an area's pages are; 0 with *why otherwise. */
int rc_topo_can_memlocate(const rc_topo *t, const char **why);

/* Binds the whole pages inside [addr, addr + len) to NUMA node `node`
 * (logical index), or, with node < 0, interleaves them over the nodes whose
 * bit is set in node_mask (bit k = logical node k, k < 64; 0 = all nodes).
 * Pages already touched are migrated. Ranges shorter than a page bind
 * nothing and succeed. Returns 0, or an errno value (the area keeps its
 * old placement: a failed bind costs speed, never correctness). */
int rc_topo_membind(const rc_topo *t, void *addr, size_t len, int node, unsigned long long node_mask);

/* Where the pages of [addr, addr + len) are: the logical index of the one
 * node holding all of them, -1 if they are spread over several nodes, -2 if
 * no page is allocated yet, -3 if the system cannot tell (see
 * rc_topo_can_memlocate). *mask (optional) receives the node bits. */
int rc_topo_memlocation(const rc_topo *t, const void *addr, size_t len, unsigned long long *mask);

/* Page size in bytes (>= 4096). */
size_t rc_topo_pagesize(void);

#endif
