/* clock.h — wall time for progress lines, timings and benches.
 *
 * Monotonic seconds: differences are elapsed time, immune to clock changes.
 * Only for reporting; no result ever depends on it. */
#ifndef RC_CLOCK_H
#define RC_CLOCK_H

#include <time.h>

static inline double rc_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
