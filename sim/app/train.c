/* train.c — `rcsim run`: the experiment driver, a short sequence of steps
 * over one trainer.
 *
 * Order of events, chosen so that bad input never leaves files behind:
 *   1. read the config, apply --set/--seed/--threads/--out, validate all
 *      (RC_ERR_CONFIG, nothing written yet);
 *   2. build data, network, thread pool, engine (setup.c);
 *   3. create the run folder; train, validating every val_every batches
 *      (one metrics.csv row each) and keeping the best model;
 *   4. save model.h5; test the kept model with RC-inference (timed) and a
 *      full-length pass;
 *   5. write traces.h5 and summary.json.
 * Numbers are identical for any thread count: data, init and every reduction
 * are fixed-order (see engine.c, models/lstm.h).
 *
 * Under mpirun (sim/comm.h) every rank runs this same sequence on the whole
 * state: each training batch is cut into train.shards shards spread over the
 * ranks with a fixed-order gradient sum (sim/engine_shard.h), evaluation
 * batches are spread and gathered (eval.c), so every rank holds the same
 * model, Adam state and metrics, bit-identical for any number of ranks.
 * Rank 0 alone touches the run folder (lock, metrics.csv, checkpoints,
 * summary.json, traces.h5, progress); the ranks agree once per batch on
 * stopping (a signal seen by any rank) and on failure. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/rng.h"
#include "io/fsutil.h"
#include "sim/app/app.h"
#include "sim/app/network_cfg.h"
#include "sim/comm.h"
#include "sim/engine_shard.h"

/* ---- SIGINT / SIGTERM: finish the batch, then stop cleanly -------------- */

static volatile sig_atomic_t g_signal;
static void on_signal(int sig) { g_signal = sig; }

int rc_run_signal(void) { return (int)g_signal; }

/* ---- the trainer -------------------------------------------------------- */

typedef struct {
    const rc_run_args *a;
    rc_app_setup S;
    rc_app_state ts;
    const char *outdir;
    int lockfd;                  /* the run folder's lock (-1: none)           */
    FILE *mf;                    /* metrics.csv                                */
    double t_start;
    /* The schedule, from [train] and [output]. */
    double lr0, clip, b1, b2, aeps, decay_at, decay, select_after, select_budget, select_floor;
    int64_t ntrain;              /* training set size; -1: a generator         */
    int64_t total, nbatches, val_every, val_size, ck_every;
    int select_end, select_last, stop_majority;
    rc_app_metrics_cols cols;    /* metrics.csv's optional columns             */
    /* Finite training sets are visited in a new order each epoch: a
     * Fisher-Yates shuffle driven by the counter-based RNG (seed, epoch). */
    int64_t *perm, perm_epoch;   /* (ntrain), the epoch it is the order of     */
    /* Since the last validation, and the last validation's numbers. */
    rc_metrics_acc tacc;
    double run_loss, last_val, last_tsp, val_majority;
    int64_t run_n;
    int early_stop;
    rc_app_progress pr;
    /* MPI: the sharded batch (NULL: train.shards = 1 on one rank, the plain
     * engine batch); rank 0 writes; the agreed stop signal. */
    rc_shards *sh;
    int writer, stop;
} trainer;

static double lr_at(const trainer *t, int64_t b)
{
    return (double)b >= t->decay_at * (double)t->nbatches ? t->lr0 * t->decay : t->lr0;
}

/* Builds the setup and reads the schedule. */
static rc_status trainer_init(trainer *t, const rc_run_args *a, rc_err *err)
{
    memset(t, 0, sizeof *t);
    t->lockfd = -1;
    t->a = a;
    t->ts.best_score = -1;
    t->perm_epoch = -1;
    t->last_val = t->last_tsp = NAN; /* no validation point yet: the progress line shows a dash */
    rc_status st = rc_app_setup_build(&t->S, a, err);
    if (st) return st;
    const rc_cfg *cfg = t->S.cfg;
    t->t_start = rc_now_s();
    t->lr0 = rc_cfg_get_float(cfg, "train.lr");
    t->clip = rc_cfg_get_float(cfg, "train.clip");
    t->b1 = rc_cfg_get_float(cfg, "train.adam_beta1");
    t->b2 = rc_cfg_get_float(cfg, "train.adam_beta2");
    t->aeps = rc_cfg_get_float(cfg, "train.adam_eps");
    rc_engine_set_weight_decay(t->S.eng, rc_cfg_get_float(cfg, "train.weight_decay"));
    t->ntrain = t->S.ds->size[RC_SPLIT_TRAIN];
    t->total = rc_app_train_total(cfg, t->ntrain);
    t->nbatches = (t->total + t->S.batch - 1) / t->S.batch;
    t->val_every = rc_cfg_get_int(cfg, "train.val_every");
    t->val_size = rc_app_split_count(&t->S, RC_SPLIT_VAL, rc_cfg_get_int(cfg, "train.val_size"));
    t->decay_at = rc_cfg_get_float(cfg, "train.lr_decay_at");
    t->decay = rc_cfg_get_float(cfg, "train.lr_decay");
    const char *sel = rc_cfg_get_str(cfg, "train.select");
    t->select_end = !strcmp(sel, "end") || (!strcmp(sel, "auto") && t->S.eos);
    t->select_last = !strcmp(sel, "last");
    t->cols = (rc_app_metrics_cols){ .with_end = t->select_end,
                                     .with_hevents = t->S.net->s.core != RC_CORE_LIF && t->S.delta_h > 0 };
    t->select_after = rc_cfg_get_float(cfg, "train.select_after");
    t->select_budget = rc_cfg_get_float(cfg, "train.select_max_spike_step");
    t->select_floor = rc_cfg_get_float(cfg, "train.select_min_spike_step");
    if (t->select_budget > 0 && t->select_floor > t->select_budget)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: train.select_min_spike_step = %g exceeds "
                          "train.select_max_spike_step = %g; expected a floor at most the budget",
                          a->cfg_path, t->select_floor, t->select_budget);
    t->ck_every = rc_cfg_get_int(cfg, "output.checkpoint_every");
    t->stop_majority = rc_cfg_get_bool(cfg, "train.stop_below_majority");
    t->writer = rc_comm_rank() == 0;
    const int shards = (int)rc_cfg_get_int(cfg, "train.shards");
    if (shards > t->S.batch)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: train.shards = %d exceeds train.batch = %d; expected at most one "
                          "shard per example", a->cfg_path, shards, t->S.batch);
    if ((shards > 1 || rc_comm_size() > 1) && (st = rc_shards_new(t->S.net, shards, &t->sh, err))) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return rc_err_set(err, st, "%s: %s", a->cfg_path, m);
    }
    return RC_OK;
}

static void trainer_free(trainer *t)
{
    free(t->perm);
    rc_shards_free(t->sh);
    if (t->mf) fclose(t->mf);
    if (t->lockfd >= 0) close(t->lockfd);
    rc_app_setup_free(&t->S);
}

/* --resume DIR: the state of DIR/model.h5 (its kept model is not needed). */
static rc_status trainer_resume(trainer *t, rc_err *err)
{
    char ck[4200];
    snprintf(ck, sizeof ck, "%s/model.h5", t->a->resume);
    float *kept = malloc(t->S.net->nparams * sizeof *kept);
    if (!kept) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    rc_status st = rc_app_state_load(&t->S, &t->ts, kept, ck, 1, err);
    free(kept);
    /* A finished run validates nothing more: the summary's majority fraction comes from the labels. */
    if (!st) st = rc_app_val_majority(&t->S, t->val_size, &t->val_majority, err);
    return st;
}

/* The run folder and metrics.csv; the training accumulators as of the state. */
static rc_status trainer_start(trainer *t, rc_err *err)
{
    const rc_run_args *a = t->a;
    t->outdir = a->resume && !a->out ? a->resume : rc_cfg_get_str(t->S.cfg, "output.dir");
    /* A new run (or a resume into another folder) must not mix with the
     * outputs of an earlier one there. */
    struct stat s1, s2;
    const int same = a->resume && stat(a->resume, &s1) == 0 && stat(t->outdir, &s2) == 0 &&
                     s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino;
    rc_status st = RC_OK;
    if (t->writer) st = rc_app_claim_dir(t->outdir, !same, a->force, &t->lockfd, err);
    if (!st && t->writer) st = rc_app_metrics_open(t->outdir, a->resume != NULL, t->ts.batch, t->val_every, t->cols, &t->mf, err);
    /* Rank 0's folder refused: every rank stops (only rank 0 says why). */
    if (rc_shards_max_int(st) && !st) st = rc_err_set(err, RC_ERR_USAGE, "%s", "");
    if (st) return st;
    if (t->ntrain > 0 && !(t->perm = malloc((size_t)t->ntrain * sizeof *t->perm)))
        return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    rc_app_progress_init(&t->pr, t->writer ? rc_cfg_get_str(t->S.cfg, "output.progress") : "off",
                         rc_cfg_get_float(t->S.cfg, "output.log_every_s"));
    g_signal = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc_metrics_init(&t->tacc, t->S.T, t->S.spotting);
    t->tacc.n = t->ts.tacc_n;
    t->tacc.correct = t->ts.tacc_correct;
    t->tacc.sum_tsp = t->ts.tacc_sum_tsp;
    t->tacc.sum_loss = t->ts.tacc_sum_loss;
    return RC_OK;
}

/* Example index of the g-th training example of the run. */
static int64_t train_index(trainer *t, int64_t g)
{
    if (!t->perm) return g;
    const int64_t ntrain = t->ntrain, ep = g / ntrain;
    if (ep != t->perm_epoch) {
        int64_t *perm = t->perm;
        for (int64_t i = 0; i < ntrain; i++) perm[i] = i;
        for (int64_t i = ntrain - 1; i > 0; i--) {
            int64_t k = (int64_t)(rc_rand64(t->S.seed, RC_STREAM_SHUFFLE, (uint64_t)ep, (uint64_t)i) % (uint64_t)(i + 1));
            int64_t tmp = perm[i]; perm[i] = perm[k]; perm[k] = tmp;
        }
        t->perm_epoch = ep;
    }
    /* Tasks with augmentation also get the pass (train_pass_index). */
    return t->perm[g % ntrain] + (t->S.ds->train_pass_index ? ep * ntrain : 0);
}

/* Batch b: forward, backward, one Adam step; the state's counters. */
static rc_status train_batch(trainer *t, int64_t b, rc_err *err)
{
    rc_app_setup *S = &t->S;
    int n = S->batch;
    if ((b + 1) * S->batch > t->total) n = (int)(t->total - b * S->batch);
    for (int j = 0; j < n; j++) S->idx[j] = train_index(t, b * S->batch + j);
    rc_batch_opts to = { .train = 1, .stop_at_spike = !S->eos, .loss_at_end = S->eos,
                         .beta = S->beta, .lif.vth_scale = 1,
                         .lstm = { .threshold = S->theta, .delta_x = S->delta_x, .delta_h = S->delta_h,
                                   .delta_l1 = S->delta_l1 } };
    double t0 = rc_now_s();
    int64_t rows = 0;
    rc_status st;
    if (t->sh) {
        st = rc_shards_batch(t->sh, S->eng, S->net, RC_SPLIT_TRAIN, S->idx, n, &to, S->res, &rows, rc_run_signal,
                             &t->stop, err);
        if (t->stop) g_signal = t->stop; /* every rank stops after this batch, with the same status */
    } else {
        rc_net_zero_grad(S->net);
        st = rc_engine_batch(S->eng, RC_SPLIT_TRAIN, S->idx, n, &to, S->res, &rows, err);
    }
    if (st) return st;
    rc_engine_adam(S->eng, lr_at(t, b), t->b1, t->b2, t->aeps, t->clip, b + 1);
    if ((st = rc_app_check_step(S, b, err))) return st; /* a NaN model is never kept */
    t->ts.train_time += rc_now_s() - t0;
    t->ts.train_rows += rows;
    t->ts.trained += n;
    t->ts.batch = b + 1;
    rc_metrics_add(&t->tacc, S->res, n);
    for (int j = 0; j < n; j++) {
        if (!isfinite(S->res[j].loss))
            return rc_err_set(err, RC_ERR_NUMERIC, "training diverged at batch %lld (loss %g); lower train.lr or set train.clip",
                              (long long)b, (double)S->res[j].loss);
        t->run_loss += S->res[j].loss;
    }
    t->run_n += n;
    return RC_OK;
}

/* One validation point after batch b: metrics.csv row, best-model
 * bookkeeping, early stopping. */
static rc_status validate(trainer *t, int64_t b, rc_err *err)
{
    rc_app_setup *S = &t->S;
    rc_app_state *ts = &t->ts;
    rc_app_evaluator ev = rc_app_evaluator_of(S);
    rc_metrics vm;
    rc_status st = rc_app_evaluate(&ev, RC_SPLIT_VAL, t->val_size, !t->select_end, &vm, NULL, NULL, err);
    if (st) return st;
    const double score = t->select_end ? vm.accuracy_at_end : vm.accuracy;
    const int in_budget = rc_app_select_window(t->select_budget, t->select_floor, vm.mean_spike_step) == 0;
    const int eligible = ((double)(b + 1) >= t->select_after * (double)t->nbatches && in_budget)
                         || (b + 1 == t->nbatches && ts->best_batch == 0);
    const int is_best = eligible && (t->select_last || score > ts->best_score);
    if (is_best) {
        ts->best_score = score;
        ts->best_batch = b + 1;
        ts->best_val = vm;
        memcpy(S->best, S->net->params, S->net->nparams * sizeof *S->best);
    }
    rc_metrics tm;
    rc_metrics_finish(&t->tacc, &tm);
    if (t->mf) rc_app_metrics_row(t->mf, b + 1, ts->trained, rc_now_s() - t->t_start, lr_at(t, b), &tm,
                       (double)ts->train_rows / ((double)ts->trained * S->T), &vm, t->cols, is_best);
    t->val_majority = vm.majority_fraction;
    /* Early stopping (paper B.4): RC accuracy fell below the majority-class
     * fraction after the kept model had been above it. */
    if (t->stop_majority && rc_stop_below_majority(ts->best_batch > 0, ts->best_val.accuracy,
                                                   vm.accuracy, vm.majority_fraction))
        t->early_stop = 1;
    rc_metrics_init(&t->tacc, S->T, S->spotting);
    t->last_val = vm.accuracy;
    t->last_tsp = vm.mean_spike_step;
    return RC_OK;
}

/* Batches from the state's until the end, a signal or early stopping. */
static rc_status train_loop(trainer *t, rc_err *err)
{
    rc_app_state *ts = &t->ts;
    const int batch = t->S.batch;
    rc_status st = RC_OK;
    const int64_t first = ts->batch; /* its progress line is always shown */
    for (int64_t b = first; b < t->nbatches && !(t->sh ? t->stop : g_signal) && !t->early_stop; b++) {
        if ((st = train_batch(t, b, err))) return st;
        if ((b + 1) % t->val_every == 0 && (st = validate(t, b, err))) return st;
        ts->tacc_n = t->tacc.n;
        ts->tacc_correct = t->tacc.correct;
        ts->tacc_sum_tsp = t->tacc.sum_tsp;
        ts->tacc_sum_loss = t->tacc.sum_loss;
        if (t->writer && t->ck_every > 0 && (b + 1) % t->ck_every == 0 && b + 1 < t->nbatches)
            if ((st = rc_app_state_save(&t->S, ts, t->S.best, t->S.best, t->outdir, err))) return st;
        rc_app_progress_show(&t->pr, ts->trained, t->nbatches * (int64_t)batch,
                             ts->trained / (ts->train_time > 0 ? ts->train_time : 1),
                             t->run_n ? t->run_loss / t->run_n : 0, t->last_val, t->last_tsp, b == first);
        if (t->run_n >= 20 * batch) { t->run_loss = 0; t->run_n = 0; }
    }
    rc_app_progress_end(&t->pr);
    return RC_OK;
}

/* The last validation (when the run ended between two) and model.h5. The
 * checkpoint holds the state to resume from: as of the last batch, without
 * that extra validation, which a longer run would not have made here. The
 * model this run tests is stored beside it ("kept"). The final state (or the
 * state at the interruption) is always saved. */
static rc_status train_finish(trainer *t, rc_err *err)
{
    rc_app_setup *S = &t->S;
    rc_app_state ts_ck = t->ts;
    float *best_ck = malloc(S->net->nparams * sizeof *best_ck);
    if (!best_ck) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    memcpy(best_ck, S->best, S->net->nparams * sizeof *best_ck);
    rc_status st = RC_OK;
    /* A signal that came after the last batch's agreement: all ranks see it. */
    if (t->sh) g_signal = rc_shards_max_int(g_signal);
    if (!g_signal && t->ts.batch == t->nbatches && t->nbatches % t->val_every != 0)
        st = validate(t, t->nbatches - 1, err);
    if (!st && t->writer) st = rc_app_state_save(S, &ts_ck, best_ck, S->best, t->outdir, err);
    free(best_ck);
    /* The other ranks wait for the checkpoint (and stop if it failed). */
    if (t->sh && rc_shards_max_int(st) && !st) st = rc_err_set(err, RC_ERR_IO, "%s", "");
    if (!st && g_signal)
        st = rc_err_set(err, RC_ERR_INTERRUPTED,
                        "interrupted by signal %d after %lld training batches; checkpoint %s/model.h5 "
                        "(continue with: rcsim run %s --resume %s)",
                        (int)g_signal, (long long)t->ts.batch, t->outdir, t->a->cfg_path, t->outdir);
    return st;
}

/* Tests the kept model; traces.h5 and summary.json. The timed RC pass keeps
 * every result; traces.h5 is written from them afterwards, so its
 * compression is not timed and no pass is repeated. */
static rc_status test_and_report(trainer *t, rc_err *err)
{
    rc_app_setup *S = &t->S;
    memcpy(S->net->params, S->best, S->net->nparams * sizeof *S->best);
    rc_app_test r = { .n = rc_app_split_count(S, RC_SPLIT_TEST, rc_cfg_get_int(S->cfg, "test.size")) };
    const int want_traces = rc_cfg_get_bool(S->cfg, "output.traces");
    rc_example_result *keep = NULL;
    rc_status st = RC_OK;
    if (want_traces && !(keep = malloc((size_t)r.n * sizeof *keep))) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if (!st && !(r.acc = malloc(sizeof *r.acc))) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if (!st) st = rc_app_test_run(S, keep, &r, err);
    if (!st && want_traces && t->writer) st = rc_app_traces_write(S, t->outdir, keep, r.n, err);
    const rc_app_outcome o = { &t->ts, t->a->resume != NULL, t->early_stop, t->select_last, t->select_end,
                               t->val_majority, t->t_start };
    if (!st && t->writer) st = rc_app_summary_write(S, &o, &r, t->outdir, err);
    if (!st && !t->a->quiet && t->writer)
        fprintf(stderr, "rcsim: %s %s: test accuracy %.4f at mean spike step %.2f/%d (no spike %.4f), "
                        "accuracy at end %.4f; %s/summary.json\n",
                S->task, S->eos ? "eos" : "rc", r.rc.accuracy, r.rc.mean_spike_step, S->T, r.rc.no_spike_fraction,
                r.end.accuracy_at_end, t->outdir);
    free(keep);
    free(r.acc);
    return st;
}

rc_status rc_run(const rc_run_args *a, rc_err *err)
{
    int net_task; /* task.name = network: simulated time, sim/app/network_run.c */
    rc_status net_st = rc_netrun(a, &net_task, err);
    if (net_task || net_st) return net_st;
    trainer t;
    rc_status st = trainer_init(&t, a, err);
    if (!st && a->resume) st = trainer_resume(&t, err);
    if (!st) st = trainer_start(&t, err);
    if (!st) st = train_loop(&t, err);
    if (!st) st = train_finish(&t, err);
    if (!st) st = test_and_report(&t, err);
    trainer_free(&t);
    return st;
}
