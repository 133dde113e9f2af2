/* run.h — `rcsim run`: config → data → train (RC or EOS) → validate → test →
 * summary.json / metrics.csv in the run folder. */
#ifndef RC_RUN_H
#define RC_RUN_H

#include "sim/status.h"

#define RC_VERSION "0.1.0"
#ifndef RC_GIT_REV
#define RC_GIT_REV "unknown"
#endif

typedef struct {
    const char *cfg_path;
    const char **sets;     /* "section.key=value" overrides, in order */
    int nset;
    const char *out;       /* --out, or NULL */
    const char *seed;      /* --seed, or NULL */
    const char *threads;   /* --threads, or NULL */
    int quiet;             /* no final summary print */
} rc_run_args;

/* Runs a whole experiment. Config errors are RC_ERR_CONFIG and are detected
 * before anything is written. */
rc_status rc_run(const rc_run_args *a, rc_err *err);

#endif
