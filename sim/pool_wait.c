/* pool_wait.c — spin, then futex: the waits of sim/pool.c's barrier and
 * completion (see pool.c's header comment for why). */
#include "sim/pool_wait.h"

#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Barrier and completion waits (rc_wait_word): spin for a budget of
 * about 2x the thread's running estimate of how long a wait takes, clamped
 * to [MIN, MAX]; then sleep on a futex. MIN keeps a quiet machine at the old
 * speed (the old barrier spun ~2048 pauses, then yielded, never slept). When
 * the typical wait is longer than MAX (the thread we wait for is off its
 * core), or threads outnumber cores, spin only BUSY ns before sleeping. */
#define RC_POOL_WAIT_MIN_NS 30000
#define RC_POOL_WAIT_MAX_NS 250000
#define RC_POOL_WAIT_BUSY_NS 2000

static inline int64_t rc_pool_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps while *w == val (returns at once if it already differs; may return
 * spuriously: callers loop). Without futexes: yields. */
static void rc_pool_futex_wait(void *w, unsigned val)
{
#ifdef __linux__
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
#else
    (void)w, (void)val;
    sched_yield();
#endif
}

static void rc_pool_futex_wake_all(void *w)
{
#ifdef __linux__
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)w;
#endif
}

/* This thread's running estimate of a wait (ns, EWMA over 1/8), kept per
 * thread so that no shared line is written on the hot path. */
static _Thread_local int64_t rc_pool_wait_est_ns = RC_POOL_WAIT_MIN_NS / 2;

static int64_t rc_pool_spin_budget(int oversubscribed)
{
    const int64_t est = rc_pool_wait_est_ns;
    if (oversubscribed || est > RC_POOL_WAIT_MAX_NS)
        return RC_POOL_WAIT_BUSY_NS;
    const int64_t b = 2 * est;
    return b < RC_POOL_WAIT_MIN_NS ? RC_POOL_WAIT_MIN_NS : b > RC_POOL_WAIT_MAX_NS ? RC_POOL_WAIT_MAX_NS : b;
}

/* Waits until *word != old (acquire), i.e. until the waker changed it. The
 * waker's side: change word (seq_cst), then if *nsleep > 0 (seq_cst load)
 * wake all on word. No lost wake-up (Dekker): we add to nsleep and then read
 * word, the waker writes word and then reads nsleep, all seq_cst, so either
 * we see the new word and do not sleep, or the waker sees nsleep > 0 and
 * wakes; a wake between our read and the futex call is not lost either, as
 * FUTEX_WAIT itself re-checks *word == old under the futex's lock. */
void rc_wait_word(atomic_uint *word, unsigned old, atomic_int *nsleep, int oversubscribed)
{
    if (atomic_load_explicit(word, memory_order_acquire) != old)
        return;
    const int64_t t0 = rc_pool_now_ns(), budget = rc_pool_spin_budget(oversubscribed);
    int slept = 0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != old)
            break;
        rc_cpu_relax();
        if (i % 16 == 0 && rc_pool_now_ns() - t0 > budget) {
            slept = 1;
            break;
        }
    }
    if (slept) {
        atomic_fetch_add_explicit(nsleep, 1, memory_order_seq_cst);
        while (atomic_load_explicit(word, memory_order_seq_cst) == old)
            rc_pool_futex_wait(word, old);
        atomic_fetch_sub_explicit(nsleep, 1, memory_order_relaxed);
    }
    const int64_t took = rc_pool_now_ns() - t0;
    rc_pool_wait_est_ns += (took - rc_pool_wait_est_ns) / 8;
}

/* The waker's side of rc_wait_word, after its seq_cst change of word. */
void rc_wake_word(atomic_uint *word, atomic_int *nsleep)
{
    if (atomic_load_explicit(nsleep, memory_order_seq_cst) > 0)
        rc_pool_futex_wake_all(word);
}

