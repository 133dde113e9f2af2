/* status.h — the two error tiers of rcsim.
 *
 * Anything a user can cause (a bad config value, a missing file, a corrupt
 * checkpoint) is an rc_status returned by value, with a message written into
 * an rc_err buffer that names the file, line or field, the value seen and what
 * was expected. Broken invariants (programming errors) are RC_ASSERT, which is
 * always on (also under NDEBUG) and aborts with file and line.
 * Library code never calls exit(); only sim/app/main.c does. */
#ifndef RC_STATUS_H
#define RC_STATUS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum {
    RC_OK = 0,
    RC_ERR_CONFIG,   /* bad config file, key, value or CLI flag   (exit 2) */
    RC_ERR_USAGE,    /* bad command line                           (exit 2) */
    RC_ERR_IO,       /* cannot read or write a file                (exit 1) */
    RC_ERR_DATA,     /* malformed data or checkpoint file          (exit 1) */
    RC_ERR_NOMEM,    /* allocation failed                          (exit 1) */
    RC_ERR_NUMERIC,  /* NaN / Inf during training                  (exit 1) */
    RC_ERR_INTERRUPTED, /* SIGINT / SIGTERM                        (130/143) */
} rc_status;

/* One message buffer travels with every call that can fail. Room for a
 * PATH_MAX path and the reason after it, so a long --out cannot cut it off. */
typedef struct {
    char msg[6144];
} rc_err;

const char *rc_status_str(rc_status s);

/* Sets err->msg (printf-style; control bytes from input escaped, see
 * base/escape.h) and returns s, so callers write
 *   return rc_err_set(err, RC_ERR_CONFIG, "%s:%d: ...", file, line); */
rc_status rc_err_set(rc_err *err, rc_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define RC_ASSERT(x)                                                        \
    do {                                                                    \
        if (!(x)) {                                                         \
            fprintf(stderr, "rcsim: internal error %s:%d: assertion '%s' failed\n", \
                    __FILE__, __LINE__, #x);                                \
            abort();                                                        \
        }                                                                   \
    } while (0)

#endif
