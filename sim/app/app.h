/* app.h — the private interface between the files of sim/app/ (main.c and
 * the experiment driver). One module per file:
 *   setup.c     config checks; cfg → data set, network shape, net, pool, engine
 *               (the one config→shape function, used by run, eval and info)
 *   state.c     training state <-> model.h5 items; config fingerprint
 *   eval.c      the evaluator (batches of one split through the engine), rc_eval
 *   train.c     rc_run: the training loop over a trainer
 *   report.c    summary.json, metrics.csv, the run folder
 *   report_traces.c  traces.h5
 *   progress.c  the progress line on stderr
 * Engine calls are in four places: rc_app_setup_build (new), rc_app_evaluate
 * (evaluation batches), train.c's train_batch (training batch and Adam) and
 * report_traces.c's trace passes. */
#ifndef RC_APP_H
#define RC_APP_H

#include <stdint.h>
#include <stdio.h>
#include "base/status.h"
#include "encoders/dataset.h"
#include "io/cfg.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/engine_team.h"
#include "sim/metrics.h"
#include "sim/pool.h"
#include "sim/app/run.h"

/* ---- setup.c ------------------------------------------------------------ */

/* Everything a run or an eval builds from a config. */
typedef struct {
    rc_cfg *cfg;
    rc_dataset *ds;
    rc_net *net;
    rc_pool *pool;
    rc_engine *eng;
    rc_engine_team *team;        /* evaluation batches taken whole by the
                                    threads (engine_team.h); NULL where
                                    rc_app_team has none (one thread, memory) */
    rc_example_result *res;      /* (max(batch, tbatch)) engine results       */
    int64_t *idx;                /* (max(batch, tbatch)) example indices      */
    float *best;                 /* (nparams) the kept model                  */
    const char *task;
    uint64_t seed;
    int T, spotting, eos, batch, tbatch;
    double theta, beta;
    double delta_x, delta_h;     /* model.delta_x, model.delta_h (LSTM, ConvLSTM; else 0) */
    double delta_l1;             /* train.delta_l1 (LSTM; else 0)                    */
    char shape[256];             /* model shape, stored in checkpoints        */
    uint32_t trace_pops;         /* SNN: hidden LIF populations traced (bits) */
} rc_app_setup;

/* Sets the config key behind a command-line flag ("--seed", "--threads",
 * "--placement", "--topology", "--out") to value through the config's own
 * checks; a refused value is RC_ERR_CONFIG and the message names the flag
 * and what it expects. */
rc_status rc_app_cfg_flag(rc_cfg *cfg, const char *flag, const char *value, rc_err *err);

/* Loads a->cfg_path into cfg, applies --set, --seed, --threads, --out (and
 * eval's default output folder) and checks everything that needs no data:
 * RC_ERR_CONFIG naming the file and key. */
/* Loads a->cfg_path into cfg and applies the command line's overrides
 * (--set in order, then --seed, --threads, --out; eval's default folder) with
 * their messages, then checks required keys and keys the task never reads. Shared by every task. */
rc_status rc_app_apply_args(rc_cfg *cfg, const rc_run_args *a, rc_err *err);
/* A key set in the file or on the command line that the chosen task never
 * reads is RC_ERR_CONFIG (task_keys.c): training keys in a network config,
 * instance sections or sim.time_ms in a training config. */
rc_status rc_app_check_task_keys(const rc_cfg *cfg, const char *path, rc_err *err);
/* Training configs: a model.*, [task] or [encoder] key that the chosen
 * model.type / task.name does not read is an error (called by the above). */
rc_status rc_app_check_model_keys(const rc_cfg *cfg, const char *path, rc_err *err);
rc_status rc_app_configure(rc_cfg *cfg, const rc_run_args *a, rc_err *err);
/* One line on stderr when the load average says the cores the pool will use
 * are busy (rc_pool_load_warning): at a terminal or with RCSIM_LOAD_WARNING=1;
 * never with RCSIM_LOAD_WARNING=0; rank 0 only. */
void rc_app_load_warning(const rc_pool *pool);

/* The data set of the config's [task] and [encoder] (MNIST images, speech,
 * or a generator). Errors name cfg_path and the key. */
rc_status rc_app_data_new(const rc_cfg *cfg, const char *cfg_path, rc_dataset **out, rc_err *err);

/* The network shape cfg's [model] describes over data set ds, and desc: the
 * shape string checkpoints compare (cap bytes). trace_pops (optional): the
 * hidden spiking populations output.trace_layers names (SNN; bits). */
rc_status rc_app_shape(const rc_cfg *cfg, const char *cfg_path, const rc_dataset *ds, rc_net_shape *shape,
                       char *desc, size_t cap, uint32_t *trace_pops, rc_err *err);
/* snn_keys.c: the rfc/rfcNa/li keys of [model] into sn (its layers parsed);
 * a LIF key that no layer of sn reads is an error. */
rc_status rc_app_snn_keys(const rc_cfg *cfg, const char *cfg_path, rc_lif_shape *sn, rc_err *err);

/* Configure, data, shape, net, pool, engine, result buffers; S->best holds
 * the initial parameters. On failure S holds what was built:
 * rc_app_setup_free it either way. */
rc_status rc_app_setup_build(rc_app_setup *S, const rc_run_args *a, rc_err *err);
void rc_app_setup_free(rc_app_setup *S);

/* want examples of split, at most as many as a finite split has. */
int64_t rc_app_split_count(const rc_app_setup *S, rc_split split, int64_t want);

/* ---- state.c ------------------------------------------------------------ */

typedef struct {
    int64_t batch;            /* training batches done                      */
    int64_t trained;          /* training examples done                     */
    int64_t train_rows;       /* LSTM row-steps computed in training        */
    int64_t best_batch;
    int64_t tacc_n, tacc_correct;
    double tacc_sum_tsp, tacc_sum_loss;
    double best_score, train_time;
    rc_metrics best_val;
    int64_t bv_has_end, bv_has_earliest;  /* best_val's flags, as int64 for the file */
} rc_app_state;

/* Training examples in total: train.epochs passes over a finite training set
 * (ntrain > 0), else train.examples. */
int64_t rc_app_train_total(const rc_cfg *cfg, int64_t ntrain);

/* Writes dir/model.h5: S->net's parameters and Adam moments, best (nparams:
 * the model to resume selection from), kept (nparams: the model this run
 * tests), the data set's feature normalisation, st, the config and S->shape. */
rc_status rc_app_state_save(rc_app_setup *S, rc_app_state *st, float *best, float *kept, const char *dir,
                            rc_err *err);

/* Loads path into S (net, Adam, S->best, normalisation), st and kept after
 * checking that it was made by the same model shape and an equivalent
 * config (RC_ERR_DATA naming the first differing line otherwise). resume: the
 * run continues training, so its length may change only where the schedule
 * does not depend on it. */
rc_status rc_app_state_load(rc_app_setup *S, rc_app_state *st, float *kept, const char *path, int resume,
                            rc_err *err);

/* After the Adam step of training batch `batch` (0-based): RC_ERR_NUMERIC
 * naming the batch, the tensor and the first bad index when the gradient norm
 * was not finite (no update was made) or a parameter became non-finite. */
rc_status rc_app_check_step(rc_app_setup *S, int64_t batch, rc_err *err);

/* The majority-class fraction of the first n validation examples (what the
 * validation metrics report), from their labels alone: for a resumed run
 * that validates nothing more. */
rc_status rc_app_val_majority(const rc_app_setup *S, int64_t n, double *out, rc_err *err);

/* sim.placement as the pool's enum. */
rc_placement rc_app_placement(const rc_cfg *cfg);

/* An engine team on pool for S's test.batch (sim/engine_team.h), or NULL
 * where there is none to have: one thread, its engines would take more than
 * a quarter of the memory, or they cannot be allocated. Evaluation then
 * splits each batch over the threads, with the same results. */
rc_engine_team *rc_app_team(const rc_app_setup *S, rc_pool *pool);

/* ---- eval.c ------------------------------------------------------------- */

typedef struct {
    rc_engine *eng;
    rc_engine_team *team;     /* optional: whole batches per thread           */
    const rc_dataset *ds;
    int batch;
    double threshold;
    double delta_x, delta_h;  /* (Conv)LSTM delta thresholds of the passes  */
    int spotting;
    int64_t *idx;             /* (batch) */
    rc_example_result *keep;  /* optional (count): every example's result, kept
                                 for traces.h5 so no second pass is needed     */
    rc_metrics_acc *acc_out;  /* optional: the accumulator (per-class counts)  */
    double vscale;            /* SNN: output V_th multiplier (0 = 1)          */
    int64_t synops;           /* SNN: synaptic events of the last evaluate()  */
} rc_app_evaluator;

/* An evaluator over S's engine and buffers at test.batch, θ = train.threshold,
 * the configured delta thresholds, V_th scale 1, keeping nothing. */
rc_app_evaluator rc_app_evaluator_of(rc_app_setup *S);

/* Runs `count` examples of a split with RC-inference (stop = 1) or a
 * full-length pass; fills m, and (optional) the steps computed and seconds. */
rc_status rc_app_evaluate(rc_app_evaluator *ev, rc_split split, int64_t count, int stop, rc_metrics *m,
                          int64_t *rows, double *secs, rc_err *err);

/* What `run` measures on the test set with the kept model. */
typedef struct {
    int64_t n;                  /* test examples                              */
    rc_metrics rc, end;         /* RC-inference pass (timed), full-length pass */
    int64_t rc_rows;            /* steps computed by the RC pass              */
    double rc_secs, end_secs;
    int64_t rc_synops, end_synops;
    rc_metrics_acc *acc;        /* the RC pass's accumulator (per class)      */
} rc_app_test;

/* Tests S->net's parameters on t->n test examples: the RC pass (results into
 * keep (t->n) if not NULL, accumulator into t->acc), then the full-length pass. */
rc_status rc_app_test_run(rc_app_setup *S, rc_example_result *keep, rc_app_test *t, rc_err *err);

/* ---- report.c, report_traces.c ----------------------------------------- */

/* Takes run folder dir for this process: creates it, locks it (another
 * process in it: RC_ERR_USAGE, *lockfd to close at the end) and removes the
 * temporaries a killed run left. fresh (a new run): outputs of an earlier
 * run there are refused (RC_ERR_USAGE naming them and --force) or, with
 * force, removed, so a folder never mixes two runs. */
rc_status rc_app_claim_dir(const char *dir, int fresh, int force, int *lockfd, rc_err *err);

/* Optional metrics.csv columns. */
typedef struct {
    int with_end;       /* validation runs every example to its last step
                           (train.select = end): val_accuracy_at_end      */
    int with_hevents;   /* (Conv)LSTM with model.delta_h > 0: after `best`,
                           val_hidden_events_per_unit_step               */
} rc_app_metrics_cols;

/* Opens outdir/metrics.csv: a new file with its header, or (resume) the
 * existing one cut to the rows of batches <= upto (multiples of every), for
 * appending. */
rc_status rc_app_metrics_open(const char *outdir, int resume, int64_t upto, int64_t every, rc_app_metrics_cols cols,
                              FILE **out, rc_err *err);

/* One metrics.csv row: after `batch` batches (trained examples, seconds since
 * the start, learning rate), the training metrics since the last row (tm,
 * steps_fraction) and the validation metrics vm; is_best: vm's model is kept. */
void rc_app_metrics_row(FILE *f, int64_t batch, int64_t trained, double wall, double lr, const rc_metrics *tm,
                        double steps_fraction, const rc_metrics *vm, rc_app_metrics_cols cols, int is_best);

/* What summary.json reports besides the setup and the test. */
typedef struct {
    const rc_app_state *ts;     /* the training state at the end            */
    int resumed, early_stop, select_last, select_end;
    double val_majority;        /* majority-class fraction of validation    */
    double t_start;             /* rc_now_s() when the run began            */
} rc_app_outcome;

/* Writes outdir/summary.json atomically. */
rc_status rc_app_summary_write(const rc_app_setup *S, const rc_app_outcome *o, const rc_app_test *t,
                               const char *outdir, rc_err *err);

/* Writes dir/traces.h5 from the kept RC-inference results res of test
 * examples 0..n-1, plus the spikes of the traced hidden populations (SNN) and
 * the activations of output.trace_examples (more engine passes, not timed). */
/* The output.trace_* keys against the model (sn: its LIF layers; NULL for
 * the LSTM cores): keys it would ignore (output.traces = false; the SNN-only
 * trace_all_output_spikes and trace_membrane) and trace_membrane's names are
 * config errors naming the key. */
rc_status rc_app_trace_keys(const rc_cfg *cfg, const char *cfg_path, const rc_lif_shape *sn, rc_err *err);
rc_status rc_app_traces_write(rc_app_setup *S, const char *dir, const rc_example_result *res, int64_t n,
                              rc_err *err);

/* Where a validation point's mean spike step lies against the selection
 * window, train.select_max_spike_step (budget; <= 0: none) and
 * train.select_min_spike_step (floor): 0 inside, +1 over the budget, -1
 * under the floor (a NaN step is outside). train.c selects with it and
 * report.c says why a kept model lies outside it. */
static inline int rc_app_select_window(double budget, double floor_, double step)
{
    if (!(budget <= 0 || step <= budget)) return 1;
    return step >= floor_ ? 0 : -1;
}

/* ---- progress.c --------------------------------------------------------- */

typedef struct {
    int mode;            /* 0 off, 1 line (terminal), 2 log lines */
    double every, last, t0;
    int drawn;
} rc_app_progress;

/* how: off | line | log | anything else = line on a terminal, else log;
 * every: seconds between log lines. */
void rc_app_progress_init(rc_app_progress *p, const char *how, double every);
/* Shows the training progress, at most every 0.2 s (line) or `every` (log)
 * unless force. */
void rc_app_progress_show(rc_app_progress *p, int64_t done, int64_t total, double ex_s, double loss,
                          double val_acc, double tsp, int force);
/* Ends a drawn progress line. */
void rc_app_progress_end(rc_app_progress *p);

#endif
