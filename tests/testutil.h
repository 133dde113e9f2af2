/* testutil.h — shared helpers for the cmocka suite. */
#ifndef RC_TESTUTIL_H
#define RC_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

/* Path of the rcsim binary under test (env RCSIM, default ./rcsim). */
static inline const char *rc_test_bin(void)
{
    const char *b = getenv("RCSIM");
    return b && *b ? b : "./rcsim";
}

/* Relative error with a floor, for finite-difference checks. */
static inline double rc_relerr(double a, double b)
{
    double d = fabs(a - b), s = fabs(a) + fabs(b);
    return s < 1e-8 ? d : 2.0 * d / s;
}
#endif
