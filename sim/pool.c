/* pool.c — persistent, core-pinned worker pool (see sim/pool.h).
 *
 * Why a hand-rolled pool: training calls rc_pool_run several hundred times a
 * second and meets at rc_pool_barrier tens of thousands of times a second, so
 * creating threads per call, or a mutex/condvar barrier (two syscalls per
 * meeting), would cost more than the work being split.
 *
 * How it works:
 *  - Dispatch: the caller publishes (fn, arg) and bumps a generation counter;
 *    workers watch the counter. Idle workers spin briefly and then sleep on a
 *    condition variable, so a 2-core machine is not eaten by idle threads
 *    between runs; the caller only takes the mutex when someone is asleep.
 *  - Completion: workers bump a "done" counter; the caller spins, then
 *    sleeps on a futex the last worker wakes (sim/pool_wait.c).
 *  - Barrier: generation-counting barrier on two atomics; waiters spin, then
 *    sleep on a futex on the generation word, which the last arriver wakes
 *    only when someone sleeps. The spin budget adapts (sim/pool_wait.c):
 *    about twice the thread's running estimate of a wait, never below what
 *    the old spin-then-yield barrier spun on a quiet machine, and short when
 *    waits are long (a co-scheduled process holds the core of the thread we
 *    wait for: spinning would only keep it off) or threads outnumber cores.
 *    Spinning forever at a barrier made a busy 2-core machine 18x slower.
 *  - Placement: one hwloc topology per pool; thread i binds itself to the
 *    PU rc_topo_place (sim/topo.c) plans for it. Binding failures leave the thread unbound
 *    and are reported by rc_pool_placement(), they are never fatal.
 *
 * Thread 0 is whoever calls rc_pool_run. It is bound in rc_pool_new and its
 * old binding restored in rc_pool_free, so create, run and free the pool from
 * the same thread (other threads may run it, they just stay unbound). Threads
 * that thread creates while the pool lives inherit its single-PU binding:
 * start other thread pools (BLAS, I/O) before rc_pool_new. */
#include "sim/pool.h"
#include "sim/comm.h"
#include "sim/pool_hw.h"
#include "sim/pool_wait.h"

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above this a thread count is a typo rather than a machine. */
#define RC_POOL_MAX_THREADS 4096

/* Pause iterations before an idle worker goes to sleep. ~2000 pauses are
 * some tens of microseconds: longer than a typical gap between runs, far
 * shorter than a scheduler tick. */
#define RC_POOL_SPIN 2048
/* Idle workers yield every this many pauses while waiting for work, so a
 * runnable thread sharing the core (the caller, when oversubscribed) gets in. */
#define RC_POOL_IDLE_YIELD_EVERY 64

#define RC_POOL_LINE 160



typedef struct rc_pool_thread {
    rc_pool *pool;
    int ith;
    int core;              /* logical index in the pool's core list, -1 = none */
    int pu;                /* OS index of the PU bound to, -1 = none */
    int numa;              /* logical index of the core's NUMA node, -1 = unknown */
    hwloc_bitmap_t cpuset; /* single PU to bind to; NULL = do not bind */
    const char *why_not;   /* reason when not binding; static string */
    int bind_errno;        /* 0 = bound (or not attempted, see why_not) */
    pthread_t tid;
    char line[RC_POOL_LINE];
} rc_pool_thread;

struct rc_pool {
    /* Dispatch line: written by the caller once per run, read by spinning
     * workers. fn and arg share the line with gen since they are published
     * together. */
    _Alignas(64) atomic_uint gen;
    rc_pool_fn fn;
    void *arg;
    atomic_int stop;

    /* Completion counter: hammered by workers at the end of every run; kept
     * off the dispatch line so their increments do not disturb the readers. */
    _Alignas(64) atomic_uint ndone;

    /* Barrier: arrivals RMW bar_count while waiters spin on bar_gen; separate
     * lines so every arrival does not invalidate every waiter's cached copy.
     * bar_nsleep: waiters asleep (or about to be) on the bar_gen futex;
     * done_nsleep: 1 while the caller sleeps on the ndone futex. */
    _Alignas(64) atomic_uint bar_count;
    _Alignas(64) atomic_uint bar_gen;
    _Alignas(64) atomic_int bar_nsleep;
    atomic_int done_nsleep;

    /* Number of workers asleep (or about to be) on wake_cv. */
    _Alignas(64) atomic_int nsleep;
    atomic_int running; /* catches reentrant / concurrent rc_pool_run */

    /* Cold. */
    _Alignas(64) int nth;
    int ncores;
    int nstarted; /* workers actually created, for cleanup after failures */
    pthread_mutex_t mu;
    pthread_cond_t wake_cv;  /* workers sleep here between runs */
    pthread_cond_t ready_cv; /* rc_pool_new waits here for workers to bind */
    int nready;

    rc_topo *rtopo;             /* this machine; NULL when hwloc could not load it */
    int idle_excluded;          /* sim.threads = 0: busy CPUs left out (rc_topo_restrict_idle) */
    hwloc_topology_t topo;      /* rtopo's hwloc topology, or NULL */
    hwloc_bitmap_t caller_orig; /* caller's binding before rc_pool_new */
    int caller_bound;           /* restore caller_orig in rc_pool_free */
    rc_pool_thread *t;          /* nth entries; t[0] is the caller */
};

/* Fills every thread's target (core, PU, cpuset) or its reason for none.
 * The plan itself is rc_topo_place's, the same that `rcsim info` prints. */
static rc_status rc_pool_plan(rc_pool *pool, rc_placement place, rc_err *err)
{
    if (!pool->topo) {
        for (int i = 0; i < pool->nth; i++)
            pool->t[i].why_not = "hwloc topology unavailable";
        return RC_OK;
    }
    rc_thread_place *pl = malloc((size_t)pool->nth * sizeof *pl);
    if (!pl || rc_topo_place(pool->rtopo, pool->nth, place, pl, err) != RC_OK) {
        free(pl);
        return rc_err_set(err, RC_ERR_NOMEM, "thread pool: out of memory planning placement of %d threads",
                          pool->nth);
    }
    const struct hwloc_topology_support *sup = hwloc_topology_get_support(pool->topo);
    const int can_bind = sup && sup->cpubind && sup->cpubind->set_thisthread_cpubind;
    for (int i = 0; i < pool->nth; i++) {
        rc_pool_thread *t = &pool->t[i];
        t->numa = pl[i].numa; /* memory binding follows the plan even when the thread is unbound */
        if (!can_bind) {
            t->why_not = "hwloc cannot bind threads on this system";
            continue;
        }
        if (pl[i].pu < 0 || !(t->cpuset = hwloc_bitmap_alloc())) {
            t->why_not = "hwloc core object without cpuset";
            continue;
        }
        /* One PU, not the whole core: on SMT machines the OS would otherwise
         * still migrate the thread between siblings. */
        hwloc_bitmap_only(t->cpuset, (unsigned)pl[i].pu);
        t->core = pl[i].core;
        t->pu = pl[i].pu;
    }
    free(pl);
    return RC_OK;
}

static void rc_pool_bind_self(rc_pool *pool, rc_pool_thread *t)
{
    if (!t->cpuset)
        return;
    if (hwloc_set_cpubind(pool->topo, t->cpuset, HWLOC_CPUBIND_THREAD) != 0)
        t->bind_errno = errno ? errno : EINVAL;
}

/* Called by rc_pool_new after the workers reported, so strerror() runs on
 * one thread only. */
static void rc_pool_format_lines(rc_pool *pool)
{
    for (int i = 0; i < pool->nth; i++) {
        rc_pool_thread *t = &pool->t[i];
        if (!t->cpuset) {
            snprintf(t->line, sizeof t->line, "thread %d -> unbound (%s)", i,
                     t->why_not ? t->why_not : "no core");
        } else if (t->bind_errno) {
            snprintf(t->line, sizeof t->line, "thread %d -> unbound (hwloc_set_cpubind on PU %d: %s)", i,
                     t->pu, strerror(t->bind_errno));
        } else {
            char numa[24];
            if (t->numa >= 0)
                snprintf(numa, sizeof numa, "%d", t->numa);
            else
                snprintf(numa, sizeof numa, "?");
            int n = snprintf(t->line, sizeof t->line, "thread %d -> core %d (PU %d, NUMA %s)", i, t->core,
                             t->pu, numa);
            if (pool->nth > pool->ncores && n > 0 && (size_t)n < sizeof t->line)
                snprintf(t->line + n, sizeof t->line - (size_t)n, " [oversubscribed: %d threads on %d cores]",
                         pool->nth, pool->ncores);
        }
    }
}

/* ---- workers ------------------------------------------------------------ */

/* Returns the first generation != seen. */
static unsigned rc_pool_wait_work(rc_pool *pool, unsigned seen)
{
    unsigned g;
    /* acquire: pairs with the release/seq_cst bump in rc_pool_run, making
     * fn, arg and stop written before it visible here. */
    for (int i = 0; i < RC_POOL_SPIN; i++) {
        g = atomic_load_explicit(&pool->gen, memory_order_acquire);
        if (g != seen)
            return g;
        if (i % RC_POOL_IDLE_YIELD_EVERY == RC_POOL_IDLE_YIELD_EVERY - 1)
            sched_yield();
        else
            rc_cpu_relax();
    }
    /* Sleep. Lost-wakeup avoidance is a Dekker pattern: we increment nsleep
     * then read gen, the caller writes gen then reads nsleep, all seq_cst, so
     * at least one side sees the other: either we see the new gen and skip
     * the wait, or the caller sees nsleep > 0 and broadcasts under mu (which
     * cannot slip in between our check and pthread_cond_wait since we hold mu). */
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->nsleep, 1, memory_order_seq_cst);
    while ((g = atomic_load_explicit(&pool->gen, memory_order_seq_cst)) == seen)
        pthread_cond_wait(&pool->wake_cv, &pool->mu);
    atomic_fetch_sub_explicit(&pool->nsleep, 1, memory_order_relaxed);
    pthread_mutex_unlock(&pool->mu);
    return g;
}

static void *rc_pool_worker(void *p)
{
    rc_pool_thread *t = p;
    rc_pool *pool = t->pool;

    rc_pool_bind_self(pool, t);
    pthread_mutex_lock(&pool->mu);
    pool->nready++;
    pthread_cond_signal(&pool->ready_cv);
    pthread_mutex_unlock(&pool->mu);

    /* gen is 0 until the first rc_pool_run, which cannot happen before
     * rc_pool_new returned. */
    unsigned seen = 0;
    for (;;) {
        seen = rc_pool_wait_work(pool, seen);
        /* relaxed: stop is written before the gen bump we just acquired. */
        if (atomic_load_explicit(&pool->stop, memory_order_relaxed))
            break;
        pool->fn(pool->arg, t->ith, pool->nth);
        /* release (part of seq_cst): the caller's acquire load of ndone then
         * sees everything fn wrote, so rc_pool_run's return is a full
         * synchronisation point. seq_cst: the last worker's increment is the
         * waker's change in rc_wait_word's protocol. */
        if (atomic_fetch_add_explicit(&pool->ndone, 1, memory_order_seq_cst) == (unsigned)pool->nth - 2)
            rc_wake_word(&pool->ndone, &pool->done_nsleep);
    }
    return NULL;
}

/* Wakes everyone; stop=1 first so the woken workers exit. */
static void rc_pool_stop_workers(rc_pool *pool)
{
    if (pool->nstarted == 0)
        return;
    atomic_store_explicit(&pool->stop, 1, memory_order_relaxed);
    /* seq_cst bump orders the stop store before it (release part). */
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_seq_cst);
    pthread_mutex_lock(&pool->mu);
    pthread_cond_broadcast(&pool->wake_cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i <= pool->nstarted; i++)
        pthread_join(pool->t[i].tid, NULL);
    pool->nstarted = 0;
}

/* ---- public API --------------------------------------------------------- */

void rc_pool_free(rc_pool *pool)
{
    if (!pool)
        return;
    rc_pool_stop_workers(pool);
    if (pool->caller_bound)
        hwloc_set_cpubind(pool->topo, pool->caller_orig, HWLOC_CPUBIND_THREAD);
    if (pool->caller_orig)
        hwloc_bitmap_free(pool->caller_orig);
    if (pool->t) {
        for (int i = 0; i < pool->nth; i++)
            if (pool->t[i].cpuset)
                hwloc_bitmap_free(pool->t[i].cpuset);
        free(pool->t);
    }
    rc_topo_free(pool->rtopo);
    pthread_cond_destroy(&pool->ready_cv);
    pthread_cond_destroy(&pool->wake_cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

/* A pool with no threads yet: zeroed, atomics and locks initialised. */
static rc_pool *rc_pool_alloc(rc_err *err)
{
    /* aligned_alloc needs a size that is a multiple of the alignment; the
     * _Alignas members make sizeof a multiple of 64. */
    rc_pool *pool = aligned_alloc(_Alignof(rc_pool), sizeof *pool);
    if (!pool) {
        rc_err_set(err, RC_ERR_NOMEM, "thread pool: out of memory");
        return NULL;
    }
    memset(pool, 0, sizeof *pool);
    atomic_init(&pool->gen, 0);
    atomic_init(&pool->stop, 0);
    atomic_init(&pool->ndone, 0);
    atomic_init(&pool->bar_count, 0);
    atomic_init(&pool->bar_gen, 0);
    atomic_init(&pool->bar_nsleep, 0);
    atomic_init(&pool->done_nsleep, 0);
    atomic_init(&pool->nsleep, 0);
    atomic_init(&pool->running, 0);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake_cv, NULL);
    pthread_cond_init(&pool->ready_cv, NULL);
    return pool;
}

rc_pool *rc_pool_new_serial(rc_err *err)
{
    rc_pool *pool = rc_pool_alloc(err);
    if (!pool) return NULL;
    pool->nth = 1;
    pool->ncores = rc_hw_ncores();
    if (!(pool->t = calloc(1, sizeof *pool->t))) {
        rc_err_set(err, RC_ERR_NOMEM, "thread pool: out of memory");
        rc_pool_free(pool);
        return NULL;
    }
    pool->t[0] = (rc_pool_thread){ .pool = pool, .core = -1, .pu = -1, .numa = -1,
                                   .why_not = "serial pool: runs on the thread that calls it" };
    rc_pool_format_lines(pool);
    return pool;
}

static rc_pool *pool_new(int nthreads, rc_placement place, int fewer_when_busy, rc_err *err)
{
    if (nthreads < 0 || nthreads > RC_POOL_MAX_THREADS) {
        rc_err_set(err, RC_ERR_CONFIG, "thread pool: threads must be 0 (one per core) to %d, got %d",
                   RC_POOL_MAX_THREADS, nthreads);
        return NULL;
    }
    if (place != RC_PLACE_SPREAD && place != RC_PLACE_COMPACT) {
        rc_err_set(err, RC_ERR_CONFIG, "thread pool: placement must be spread or compact, got %d", (int)place);
        return NULL;
    }
    rc_pool *pool = rc_pool_alloc(err);
    if (!pool)
        return NULL;

    /* A missing topology only costs placement, so it is not an error. */
    {
        rc_err terr = { "" };
        rc_topo_new(&pool->rtopo, NULL, "thread pool", &terr);
        /* sim.threads = 0: one thread per idle core. Fewer threads than
         * cores: pinned to idle cores where there are enough, so two
         * one-thread runs do not share core 0 while core 1 idles.
         * RCSIM_IDLE_PROBE=0 turns the probe off. */
        const char *probe = getenv("RCSIM_IDLE_PROBE");
        if (pool->rtopo && rc_comm_size() == 1 && !(probe && !strcmp(probe, "0"))
            && (nthreads ? nthreads < rc_topo_ncores(pool->rtopo) : fewer_when_busy))
            pool->idle_excluded = rc_topo_restrict_idle(pool->rtopo, 50, nthreads);
        pool->topo = rc_topo_hwloc(pool->rtopo);
    }
    pool->ncores = pool->topo ? rc_hw_count_cores(pool->topo) : rc_hw_ncores();
    pool->nth = nthreads ? nthreads : pool->ncores;

    pool->t = calloc((size_t)pool->nth, sizeof *pool->t);
    if (!pool->t) {
        rc_err_set(err, RC_ERR_NOMEM, "thread pool: out of memory for %d threads", pool->nth);
        rc_pool_free(pool);
        return NULL;
    }
    for (int i = 0; i < pool->nth; i++) {
        pool->t[i].pool = pool;
        pool->t[i].ith = i;
        pool->t[i].core = pool->t[i].pu = pool->t[i].numa = -1;
    }
    if (rc_pool_plan(pool, place, err) != RC_OK) {
        rc_pool_free(pool);
        return NULL;
    }

    /* Workers inherit the creator's signal mask: block everything while
     * creating them so SIGINT/SIGTERM keep going to the main thread, whose
     * handler turns them into RC_ERR_INTERRUPTED. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (int i = 1; i < pool->nth; i++) {
        rc = pthread_create(&pool->t[i].tid, NULL, rc_pool_worker, &pool->t[i]);
        if (rc != 0)
            break;
        pool->nstarted++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        rc_err_set(err, RC_ERR_NOMEM, "thread pool: cannot create worker thread %d of %d: %s",
                   pool->nstarted + 1, pool->nth, strerror(rc));
        rc_pool_free(pool);
        return NULL;
    }

    /* Wait until every worker has tried to bind, so the placement report is
     * final when we return. Sleeping is fine here: it happens once. */
    pthread_mutex_lock(&pool->mu);
    while (pool->nready < pool->nstarted)
        pthread_cond_wait(&pool->ready_cv, &pool->mu);
    pthread_mutex_unlock(&pool->mu);

    /* Thread 0 is the caller: remember its binding so rc_pool_free can give
     * the rest of the program back the CPUs it had. Bound only now, after the
     * workers exist, because new threads inherit their creator's binding: a
     * worker whose own binding fails must stay "unbound", not stuck on core 0. */
    rc_pool_thread *t0 = &pool->t[0];
    if (t0->cpuset) {
        pool->caller_orig = hwloc_bitmap_alloc();
        if (!pool->caller_orig ||
            hwloc_get_cpubind(pool->topo, pool->caller_orig, HWLOC_CPUBIND_THREAD) != 0) {
            hwloc_bitmap_free(pool->caller_orig);
            pool->caller_orig = NULL;
            hwloc_bitmap_free(t0->cpuset);
            t0->cpuset = NULL;
            t0->why_not = "cannot read the caller's binding to restore it later";
        } else {
            rc_pool_bind_self(pool, t0);
            pool->caller_bound = t0->bind_errno == 0;
        }
    }

    rc_pool_format_lines(pool);
    return pool;
}

rc_pool *rc_pool_new(int nthreads, rc_placement place, rc_err *err)
{
    return pool_new(nthreads, place, 1, err);
}

rc_pool *rc_pool_new_every_core(int nthreads, rc_placement place, rc_err *err)
{
    return pool_new(nthreads, place, 0, err);
}

int rc_pool_nthreads(const rc_pool *pool)
{
    return pool->nth;
}

void rc_pool_run(rc_pool *pool, rc_pool_fn fn, void *arg)
{
    /* relaxed: only the atomicity of the flag matters for this misuse check. */
    RC_ASSERT(!atomic_exchange_explicit(&pool->running, 1, memory_order_relaxed));
    int nth = pool->nth;
    if (nth == 1) {
        fn(arg, 0, 1);
        atomic_store_explicit(&pool->running, 0, memory_order_relaxed);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    /* relaxed: no worker touches ndone before acquiring the gen bump below,
     * which is ordered after this store. */
    atomic_store_explicit(&pool->ndone, 0, memory_order_relaxed);
    /* seq_cst: release publishes fn/arg/ndone (and everything the caller wrote
     * before the run); seq_cst in addition orders it before the nsleep load
     * (store->load), which the sleep protocol in rc_pool_wait_work needs. */
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&pool->nsleep, memory_order_seq_cst) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->wake_cv);
        pthread_mutex_unlock(&pool->mu);
    }

    fn(arg, 0, nth);

    /* acquire: pairs with each worker's release increment, so their writes are
     * visible once we return. Spin then sleep, as in the barrier: the workers'
     * shares are about as long as ours, so the wait is normally short. */
    const unsigned want = (unsigned)nth - 1;
    for (unsigned d; (d = atomic_load_explicit(&pool->ndone, memory_order_acquire)) != want;)
        rc_wait_word(&pool->ndone, d, &pool->done_nsleep, pool->nth > pool->ncores);
    atomic_store_explicit(&pool->running, 0, memory_order_relaxed);
}

void rc_pool_barrier(rc_pool *pool)
{
    int nth = pool->nth;
    if (nth == 1) {
        /* Still a full memory barrier, as promised by the header. */
        atomic_thread_fence(memory_order_seq_cst);
        return;
    }
    /* Read the generation before arriving. acquire keeps the arrival RMW
     * below from moving above this load; the generation cannot advance
     * before we arrive, so g is the round we are in. */
    unsigned g = atomic_load_explicit(&pool->bar_gen, memory_order_acquire);
    /* acq_rel: the release half publishes our writes before the barrier; the
     * acquire half lets the last arriver (whose RMW reads from the release
     * sequence of all earlier arrivals) see everyone's writes. */
    if (atomic_fetch_add_explicit(&pool->bar_count, 1, memory_order_acq_rel) == (unsigned)nth - 1) {
        /* relaxed: nobody touches bar_count until they acquire the new
         * generation below, which is ordered after this reset. */
        atomic_store_explicit(&pool->bar_count, 0, memory_order_relaxed);
        /* release (part of seq_cst): hands all writes seen by the last
         * arriver to the waiters; seq_cst orders it before the bar_nsleep
         * load of the wake (rc_wait_word's protocol). */
        atomic_store_explicit(&pool->bar_gen, g + 1, memory_order_seq_cst);
        rc_wake_word(&pool->bar_gen, &pool->bar_nsleep);
        return;
    }
    /* acquire: pairs with the store of the new generation. */
    rc_wait_word(&pool->bar_gen, g, &pool->bar_nsleep, pool->nth > pool->ncores);
}

void rc_pool_placement(const rc_pool *pool, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < pool->nth && used + 1 < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s\n", pool->t[i].line);
        if (n < 0)
            break;
        used += (size_t)n < cap - used ? (size_t)n : cap - used - 1;
    }
}

int rc_pool_load_warning(const rc_pool *pool, const char *loadavg_path, char *buf, size_t cap)
{
    if (!buf || cap == 0 || pool->nth > pool->ncores)
        return 0; /* oversubscribed on purpose: the placement report says so */
    FILE *f = fopen(loadavg_path ? loadavg_path : "/proc/loadavg", "r");
    if (!f)
        return 0;
    double l1 = 0;
    const int ok = fscanf(f, "%lf", &l1) == 1;
    fclose(f);
    /* The load is the whole machine's: compare it with all its cores, also
     * those sim.threads = 0 left out as busy (idle_excluded). */
    const int cores = pool->ncores + pool->idle_excluded;
    if (!ok || l1 <= cores - pool->nth + 0.5)
        return 0;
    snprintf(buf, cap,
             "rcsim: warning: load average %.2f on %d core%s: the %d pinned thread%s will share cores with other "
             "work and may run much slower; on a busy machine use fewer threads (sim.threads = 0 takes the cores "
             "idle at start; README: \"A busy machine\")",
             l1, cores, cores == 1 ? "" : "s", pool->nth, pool->nth == 1 ? "" : "s");
    return 1;
}

int rc_pool_busy_left_out(const rc_pool *pool)
{
    return pool->idle_excluded;
}

const rc_topo *rc_pool_topo(const rc_pool *pool)
{
    return pool->rtopo;
}

int rc_pool_thread_numa(const rc_pool *pool, int ith)
{
    RC_ASSERT(ith >= 0 && ith < pool->nth);
    return pool->t[ith].numa;
}
