/* testutil.h — shared helpers for the cmocka suite. */
#ifndef RC_TESTUTIL_H
#define RC_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
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

/* Fresh private folder for a test group: dir (cap bytes) gets prefix plus
 * mkdtemp's six random characters, e.g. prefix "/tmp/rcsim_cli_". 0 or -1. */
static inline int rc_test_mkdtemp(char *dir, size_t cap, const char *prefix)
{
    int n = snprintf(dir, cap, "%sXXXXXX", prefix);
    if (n < 0 || (size_t)n >= cap) return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static inline int rc_test_rmtree_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* rm -rf DIR, without a shell: contents first, links not followed. 0 or -1. */
static inline int rc_test_rmtree(const char *dir)
{
    return nftw(dir, rc_test_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
#endif
