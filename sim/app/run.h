/* run.h — `rcsim run`: config → data → train (RC or EOS) → validate → test →
 * summary.json / metrics.csv in the run folder. */
#ifndef RC_RUN_H
#define RC_RUN_H

#include "base/status.h"

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
    const char *resume;    /* run: --resume DIR (continue from DIR/model.h5) */
    int force;             /* run: --force, replace an earlier run's outputs */
    const char *model;     /* eval: --model PATH/model.h5 */
    const char *thresholds;/* eval: --thresholds "0.5,0.9,..." (NULL = default sweep) */
    const char *delta_x;   /* eval: --delta-x "0,0.05,..." (NULL = model.delta_x) */
    const char *delta_h;   /* eval: --delta-h "0,0.05,..." (NULL = model.delta_h) */
    int no_end;            /* eval: --no-end, no full-length pass (accuracy_at_end left empty) */
    int cfg_stored;        /* eval without CFG: cfg_path is the checkpoint, whose stored config is used */
} rc_run_args;

/* Runs a whole experiment. Config errors are RC_ERR_CONFIG and are detected
 * before anything is written. */
rc_status rc_run(const rc_run_args *a, rc_err *err);

/* `rcsim eval`: loads the kept model of a checkpoint, tests it at each
 * threshold and (LSTM) each pair of delta thresholds (tradeoff.csv) and
 * writes traces.h5 at the config's threshold and deltas. */
rc_status rc_eval(const rc_run_args *a, rc_err *err);

/* `rcsim info CFG --check`: builds what a run builds (data, network,
 * pinned pool, engine with its NUMA binding; nothing is trained or written)
 * and prints, per thread, where the pages of its partition landed.
 * *mismatches: the number of mismatches, or -1 if this system cannot tell. */
rc_status rc_run_numa_check(const rc_run_args *a, int *mismatches, rc_err *err);

/* The signal that interrupted a run (0 if none). */
int rc_run_signal(void);

#endif
