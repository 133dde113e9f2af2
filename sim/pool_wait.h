/* pool_wait.h — how sim/pool.c's threads wait for each other: spin for an
 * adaptive budget, then sleep on a futex (Linux; elsewhere: yield). Internal
 * to the pool; see pool_wait.c. */
#ifndef RC_POOL_WAIT_H
#define RC_POOL_WAIT_H

#include <stdatomic.h>

static inline void rc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Returns once *word != old (acquire). The waker changes *word (seq_cst) and
 * then calls rc_wake_word with the same nsleep. oversubscribed: threads
 * outnumber cores (spin only briefly). */
void rc_wait_word(atomic_uint *word, unsigned old, atomic_int *nsleep, int oversubscribed);

/* Wakes the sleepers on word, if any (one seq_cst load when none). */
void rc_wake_word(atomic_uint *word, atomic_int *nsleep);

#endif
