/* pool.h — one persistent pool of worker threads, pinned to cores with hwloc.
 *
 * As in ggml: the pool is created once; rc_pool_run(pool, fn, arg) makes every
 * thread (the caller is thread 0, so nth threads = caller + nth-1 workers) call
 * fn(arg, ith, nth) and returns when all have returned. Inside fn threads meet
 * at rc_pool_barrier(); each barrier call site says why in a comment.
 * Work is split into contiguous partitions (rc_partition). Nothing inside the
 * pool allocates or locks on the hot path: the barrier spins briefly (an
 * adaptive budget, see pool.c), then sleeps on a futex (2 cores must not be
 * burned by idle spinners, nor a busy machine by threads spinning for a
 * thread that is off its core).
 *
 * Placement: thread ith is bound (hwloc_set_cpubind, HWLOC_CPUBIND_THREAD) to
 * one PU of the core rc_topo_place (sim/topo.h) gives it: spread across
 * packages and NUMA nodes first ("spread") or filling one node first
 * ("compact"). If binding fails (containers,
 * oversubscription: more threads than cores) the pool still works, unbound,
 * and rc_pool_placement() says so. */
#ifndef RC_POOL_H
#define RC_POOL_H

#include <stddef.h>
#include "base/status.h"
#include "sim/topo.h" /* rc_placement */

typedef struct rc_pool rc_pool;
typedef void (*rc_pool_fn)(void *arg, int ith, int nth);

/* nthreads >= 1; 0 means "one per idle core" (see sim/cpuload.c: /proc/stat
 * sampled for 50 ms; RCSIM_IDLE_PROBE=0: one per core). Fewer threads than
 * cores are placed on idle cores where there are enough. Returns NULL and
 * fills err on failure. */
rc_pool *rc_pool_new(int nthreads, rc_placement place, rc_err *err);
/* The same, but nthreads = 0 means one per core, busy or not: for work with
 * no barrier between threads (evaluation by an engine team,
 * sim/engine_team.h), where a thread on a busy core adds what it gets
 * instead of holding the others up at every step. */
rc_pool *rc_pool_new_every_core(int nthreads, rc_placement place, rc_err *err);
void rc_pool_free(rc_pool *pool); /* NULL is a no-op; joins the workers */

/* A pool of one thread that is whoever calls rc_pool_run: it starts no
 * worker, binds and probes nothing and has no topology (no NUMA binding).
 * For an engine driven by one thread of another pool (sim/engine_team.h). */
rc_pool *rc_pool_new_serial(rc_err *err);

int rc_pool_nthreads(const rc_pool *pool);

/* CPUs rc_pool_new left out because they were busy at start (0: none, or
 * the probe was off). */
int rc_pool_busy_left_out(const rc_pool *pool);

/* Runs fn on all threads; returns after all of them finished. Not reentrant. */
void rc_pool_run(rc_pool *pool, rc_pool_fn fn, void *arg);

/* All nth threads of the current rc_pool_run meet here. Must be called by every
 * thread the same number of times. Also a full memory barrier. */
void rc_pool_barrier(rc_pool *pool);

/* Human-readable placement, one line per thread: "thread 0 -> core 0 (PU 0, NUMA 0)". */
void rc_pool_placement(const rc_pool *pool, char *buf, size_t cap);

/* This machine's topology as the pool loaded it (NULL if hwloc could not),
 * for NUMA binding (rc_topo_membind). */
const rc_topo *rc_pool_topo(const rc_pool *pool);

/* Logical index of the NUMA node thread ith was placed on (its memory's
 * home), or -1 if unknown. */
int rc_pool_thread_numa(const rc_pool *pool, int ith);

/* 1 and a one-line warning in buf when the 1-minute load
 * average (loadavg_path, NULL = /proc/loadavg) says the cores the pool pins
 * are busy (load > cores − threads + 0.5, threads ≤ cores); else 0. */
int rc_pool_load_warning(const rc_pool *pool, const char *loadavg_path, char *buf, size_t cap);

/* Number of cores hwloc sees (>= 1). */
int rc_hw_ncores(void);

/* Contiguous partition of n items into nth parts, thread ith gets [*lo, *hi):
 * the first n % nth parts have one more item. Deterministic; parts may be empty. */
void rc_partition(size_t n, int ith, int nth, size_t *lo, size_t *hi);

#endif
