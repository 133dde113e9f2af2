/* eval.c — evaluation: the evaluator runs a split through the engine in
 * test.batch batches and accumulates the rank-coding metrics; `run` tests its
 * kept model with it, and `rcsim eval` (rc_eval) sweeps a trained model over
 * thresholds (and a delta LSTM's or ConvLSTM's delta thresholds) into tradeoff.csv and
 * writes traces.h5. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/strbuf.h"
#include "io/fsutil.h"
#include "sim/app/app.h"
#include "sim/comm.h"
#include "sim/engine_shard.h"

rc_app_evaluator rc_app_evaluator_of(rc_app_setup *S)
{
    return (rc_app_evaluator){ .eng = S->eng, .team = S->team, .ds = S->ds, .batch = S->tbatch, .threshold = S->theta,
                               .delta_x = S->delta_x, .delta_h = S->delta_h, .spotting = S->spotting,
                               .idx = S->idx, .vscale = 1 };
}

/* Examples first … first+count−1 of split in ev->batch batches into
 * res[0..count): taken whole by the team's threads when there are enough
 * batches to keep every thread busy (at least two per thread), else each
 * batch split over the threads (rc_engine_batch). The same bits either way
 * (sim/engine_team.h). */
static rc_status run_batches(rc_app_evaluator *ev, rc_split split, int64_t first, int64_t count,
                             const rc_batch_opts *o, rc_example_result *res, int64_t *rows, rc_err *err)
{
    const int64_t nb = (count + ev->batch - 1) / ev->batch;
    if (ev->team && nb >= 2 * (int64_t)rc_engine_team_size(ev->team))
        return rc_engine_team_run(ev->team, split, first, count, o, res, rows, err);
    *rows = 0;
    for (int64_t i = 0; i < count; i += ev->batch) {
        const int n = (int)(count - i < ev->batch ? count - i : ev->batch);
        for (int j = 0; j < n; j++) ev->idx[j] = first + i + j;
        int64_t r = 0;
        rc_status st = rc_engine_batch(ev->eng, split, ev->idx, n, o, res + i, &r, err);
        if (st) return st;
        *rows += r;
    }
    return RC_OK;
}

/* All `count` examples of split into `all`. Several MPI ranks: rank r runs
 * the test.batch batches rc_shards_eval_range gives it, exactly as one rank
 * would (same batches, same examples); the results are gathered on every
 * rank in example order, so every metric is the same bits for any P. */
static rc_status evaluate_all(rc_app_evaluator *ev, rc_split split, int64_t count, const rc_batch_opts *o,
                              rc_example_result *all, int64_t *total_rows, rc_err *err)
{
    int64_t lo = 0, hi = (count + ev->batch - 1) / ev->batch, rows = 0;
    if (rc_comm_size() > 1) rc_shards_eval_range(hi, &lo, &hi);
    const int64_t first = lo * ev->batch, last = hi * ev->batch < count ? hi * ev->batch : count;
    rc_status st = last > first ? run_batches(ev, split, first, last - first, o, all + first, &rows, err) : RC_OK;
    if (rc_comm_size() > 1) {
        /* A rank that failed stops the others here (they wait in the gather). */
        if (rc_shards_max_int(st != RC_OK)) {
            if (!st) st = rc_err_set(err, RC_ERR_IO, "%s", ""); /* the failed rank prints the message */
        } else {
            st = rc_shards_eval_gather(all, count, ev->batch, &rows, err);
        }
    }
    *total_rows = rows;
    return st;
}

rc_status rc_app_evaluate(rc_app_evaluator *ev, rc_split split, int64_t count, int stop, rc_metrics *m,
                          int64_t *rows, double *secs, rc_err *err)
{
    rc_metrics_acc acc;
    rc_metrics_init(&acc, ev->ds->T, ev->spotting);
    rc_batch_opts o = { .train = 0, .stop_at_spike = stop, .loss_at_end = 0, .beta = 0, .lif.vth_scale = ev->vscale,
                        .lstm = { .threshold = ev->threshold, .delta_x = ev->delta_x, .delta_h = ev->delta_h } };
    int64_t total_rows = 0;
    ev->synops = 0;
    double t0 = rc_now_s();
    rc_example_result *all = ev->keep ? ev->keep : malloc((size_t)(count > 0 ? count : 1) * sizeof *all);
    if (!all) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    rc_status st = evaluate_all(ev, split, count, &o, all, &total_rows, err);
    if (!st) {
        rc_metrics_add(&acc, all, (int)count);
        for (int64_t j = 0; j < count; j++) ev->synops += all[j].synops;
    }
    if (all != ev->keep) free(all);
    if (st) return st;
    if (secs) *secs = rc_now_s() - t0;
    if (rows) *rows = total_rows;
    rc_metrics_finish(&acc, m);
    if (ev->acc_out) *ev->acc_out = acc;
    return RC_OK;
}

/* The test passes of `run` when sim.threads = 0 left busy cores out of
 * the run's pool (rc_pool_new): the training threads meet at every step and
 * are better off on idle cores only, but an engine team has no barrier
 * between threads, so the test takes every core (rc_pool_new_every_core)
 * for its two passes; on one rank only (ranks share the machine's cores).
 * The same bits on any number of threads, so where the second pool or its
 * team cannot be had (memory), the run's own evaluator is used: *team and
 * *pool stay NULL. */
static void test_team(rc_app_setup *S, rc_pool **pool, rc_engine_team **team)
{
    *pool = NULL;
    *team = NULL;
    if (rc_cfg_get_int(S->cfg, "sim.threads") != 0 || !rc_pool_busy_left_out(S->pool) || rc_comm_size() > 1)
        return;
    rc_err ignored;
    if (!(*pool = rc_pool_new_every_core(0, rc_app_placement(S->cfg), &ignored))) return;
    if (!(*team = rc_app_team(S, *pool))) {
        rc_pool_free(*pool);
        *pool = NULL;
    }
}

rc_status rc_app_test_run(rc_app_setup *S, rc_example_result *keep, rc_app_test *t, rc_err *err)
{
    rc_app_evaluator ev = rc_app_evaluator_of(S);
    ev.keep = keep;
    ev.acc_out = t->acc;
    rc_pool *pool;
    rc_engine_team *team;
    test_team(S, &pool, &team);
    if (team) ev.team = team;
    rc_status st = rc_app_evaluate(&ev, RC_SPLIT_TEST, t->n, 1, &t->rc, &t->rc_rows, &t->rc_secs, err);
    t->rc_synops = ev.synops;
    ev.keep = NULL;
    ev.acc_out = NULL;
    int64_t end_rows = 0;
    if (!st) st = rc_app_evaluate(&ev, RC_SPLIT_TEST, t->n, 0, &t->end, &end_rows, &t->end_secs, err);
    t->end_synops = ev.synops;
    rc_engine_team_free(team);
    rc_pool_free(pool);
    return st;
}

/* ---- rcsim eval --------------------------------------------------------- */

/* One swept quantity: up to 64 values. */
typedef struct {
    double v[64];
    size_t n;
} sweep_list;

/* The comma-separated list (flag: its name in messages) into l, each value in
 * [lo, hi] (lo_open: > lo); what: the values' words in the message. */
static rc_status parse_list(const char *flag, const char *list, double lo, int lo_open, double hi, const char *what,
                            sweep_list *l, rc_err *err)
{
    l->n = 0;
    for (const char *p = list; *p;) {
        char *end;
        double v = strtod(p, &end);
        const int ok = (lo_open ? v > lo : v >= lo) && v <= hi; /* NaN fails both */
        if (end == p || !ok || l->n == 64 || (*end && *end != ','))
            return rc_err_set(err, RC_ERR_USAGE, "%s %s: expected up to 64 comma-separated %s", flag, list, what);
        l->v[l->n++] = v;
        p = *end ? end + 1 : end;
    }
    if (!l->n) return rc_err_set(err, RC_ERR_USAGE, "%s: expected up to 64 comma-separated %s", flag, what);
    return RC_OK;
}

/* --thresholds (or the default sweep) into th; --delta-x and --delta-h (or
 * the configured value) into dx, dh. An SNN answers with its first output
 * spike: its sweep scales the output layer's V_th instead of θ. Only the
 * LSTM and the ConvLSTM have delta thresholds. */
static rc_status parse_sweeps(const rc_app_setup *S, const rc_run_args *a, sweep_list *th, sweep_list *dx,
                              sweep_list *dh, rc_err *err)
{
    const int snn = S->net->s.core == RC_CORE_LIF;
    const char *list = a->thresholds ? a->thresholds : snn ? "0.5,0.75,1,1.25,1.5,2,3" : "0.5,0.6,0.7,0.8,0.9,0.95,0.99";
    rc_status st = snn ? parse_list("--thresholds", list, 0, 1, 1000, "output V_th scales in (0, 1000] (model.type = snn)", th, err)
                       : parse_list("--thresholds", list, 0.5, 0, 1, "numbers in [0.5, 1]", th, err);
    const char *flag[2] = { "--delta-x", "--delta-h" }, *given[2] = { a->delta_x, a->delta_h };
    const double conf[2] = { S->delta_x, S->delta_h };
    sweep_list *out[2] = { dx, dh };
    for (int k = 0; k < 2 && !st; k++) {
        *out[k] = (sweep_list){ .v = { conf[k] }, .n = 1 };
        if (!given[k]) continue;
        if (snn)
            return rc_err_set(err, RC_ERR_USAGE, "%s: model.type = %s has no delta thresholds; expected it only with "
                              "model.type = lstm or convlstm", flag[k], rc_cfg_get_str(S->cfg, "model.type"));
        st = parse_list(flag[k], given[k], 0, 0, DBL_MAX, "numbers >= 0", out[k], err);
    }
    return st;
}

/* One tradeoff.csv row: RC-inference of n test examples at ev's threshold and
 * deltas (endm: the full-length pass at the same deltas, NULL with
 * --no-end); keep: results for traces.h5 or NULL. */
static rc_status sweep_point(rc_app_setup *S, const rc_run_args *a, rc_app_evaluator *ev, int64_t n,
                             const rc_metrics *endm, rc_strbuf *sb, rc_err *err)
{
    const int snn = S->net->s.core == RC_CORE_LIF;
    const double dt_ms = rc_cfg_get_float(S->cfg, "sim.dt_ms"), th = snn ? ev->vscale : ev->threshold;
    rc_metrics m;
    double secs = 0;
    rc_status st = rc_app_evaluate(ev, RC_SPLIT_TEST, n, 1, &m, NULL, &secs, err);
    if (st) return st;
    rc_sb_printf(sb, "%g,%.6f,%.4f,%.6f,%.6f,", th, m.accuracy, m.mean_spike_step, m.mean_spike_fraction,
                 m.no_spike_fraction);
    if (endm) rc_sb_printf(sb, "%.6f", endm->accuracy_at_end); /* --no-end: empty */
    rc_sb_printf(sb, ",%.1f,%.2f", n / (secs > 0 ? secs : 1e-9), m.mean_spike_step * dt_ms);
    if (snn) rc_sb_printf(sb, ",%.1f\n", (double)ev->synops / (double)n);
    else rc_sb_printf(sb, ",%.3f,%.1f,%g,%g,%.3f,%.6f,%.1f\n", m.events_per_example, m.macs_per_example, ev->delta_x,
                      ev->delta_h, m.hevents_per_example, m.hevents_per_unit_step, m.macs_dense_per_example);
    if (!a->quiet && rc_comm_rank() == 0) {
        char d[96] = "";
        if (!snn && (a->delta_x || a->delta_h))
            snprintf(d, sizeof d, ", delta_x %g, delta_h %g", ev->delta_x, ev->delta_h);
        fprintf(stderr, "rcsim eval: %s %g%s: accuracy %.4f at mean spike step %.2f/%d (no spike %.4f)\n",
                snn ? "output V_th scale" : "threshold", th, d, m.accuracy, m.mean_spike_step, S->T, m.no_spike_fraction);
    }
    return RC_OK;
}

/* tradeoff.csv into sb: for every (delta_x, delta_h) of the sweep, one
 * full-length pass (accuracy_at_end depends on the deltas, not on θ), then
 * one RC-inference pass per threshold. keep (n) gets the results at
 * train.threshold (SNN: V_th scale 1) and the configured deltas if the sweep
 * has them: *kept. */
static rc_status sweep(rc_app_setup *S, const rc_run_args *a, const sweep_list *th, const sweep_list *dx,
                       const sweep_list *dh, int64_t n, rc_example_result *keep, int *kept, rc_strbuf *sb, rc_err *err)
{
    const int snn = S->net->s.core == RC_CORE_LIF;
    rc_app_evaluator ev = rc_app_evaluator_of(S);
    rc_metrics endm;
    *kept = 0;
    rc_sb_printf(sb, "threshold,accuracy,mean_spike_step,mean_spike_fraction,no_spike_fraction,accuracy_at_end,examples_per_s,mean_spike_ms%s\n",
                 snn ? ",synops_per_example" : ",events_per_example,macs_per_example,delta_x,delta_h,"
                 "hidden_events_per_example,hidden_events_per_unit_step,macs_dense_recurrent_per_example");
    for (size_t i = 0; i < dx->n * dh->n; i++) {
        ev.delta_x = dx->v[i / dh->n];
        ev.delta_h = dh->v[i % dh->n];
        ev.keep = NULL;
        ev.threshold = S->theta;
        ev.vscale = 1;
        rc_status st = a->no_end ? RC_OK : rc_app_evaluate(&ev, RC_SPLIT_TEST, n, 0, &endm, NULL, NULL, err);
        const int conf = ev.delta_x == S->delta_x && ev.delta_h == S->delta_h;
        for (size_t j = 0; j < th->n && !st; j++) {
            if (snn) ev.vscale = th->v[j];
            else ev.threshold = th->v[j];
            ev.keep = conf && th->v[j] == (snn ? 1.0 : S->theta) ? keep : NULL;
            *kept |= ev.keep != NULL;
            st = sweep_point(S, a, &ev, n, a->no_end ? NULL : &endm, sb, err);
        }
        if (st) return st;
    }
    return RC_OK;
}

rc_status rc_eval(const rc_run_args *a, rc_err *err)
{
    rc_app_setup S;
    rc_app_state ts = { 0 };
    rc_strbuf sb = { 0 };
    rc_example_result *keep = NULL;
    float *kept = NULL;
    sweep_list th, dx, dh;
    int kept_theta = 0;
    char path[4200];
    int lockfd = -1;
    rc_metrics m;
    /* Sweeps: parse before anything is read or written. */
    rc_status st = rc_app_setup_build(&S, a, err);
    if (!st) st = parse_sweeps(&S, a, &th, &dx, &dh, err);
    if (!st && !(kept = malloc(S.net->nparams * sizeof *kept))) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if (!st) st = rc_app_state_load(&S, &ts, kept, a->model, 0, err);
    if (st) goto done;
    memcpy(S.net->params, kept, S.net->nparams * sizeof *kept);
    const char *outdir = rc_cfg_get_str(S.cfg, "output.dir");
    /* One writer: under mpirun, rank 0 (the passes are spread over the ranks). */
    const int writer = rc_comm_rank() == 0;
    if (writer) st = rc_app_claim_dir(outdir, 0, 0, &lockfd, err);
    if (rc_shards_max_int(st != RC_OK) && !st) st = rc_err_set(err, RC_ERR_USAGE, "%s", ""); /* rank 0 says why */
    if (st) goto done;
    const int64_t n = rc_app_split_count(&S, RC_SPLIT_TEST, rc_cfg_get_int(S.cfg, "test.size"));
    rc_app_evaluator ev = rc_app_evaluator_of(&S);
    if (!(keep = malloc((size_t)n * sizeof *keep))) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    if ((st = sweep(&S, a, &th, &dx, &dh, n, keep, &kept_theta, &sb, err))) goto done;
    snprintf(path, sizeof path, "%s/tradeoff.csv", outdir);
    if (sb.oom) { st = rc_err_set(err, RC_ERR_NOMEM, "out of memory"); goto done; }
    if (writer && (st = rc_write_atomic(path, sb.s, sb.len, err))) goto done;
    if (!kept_theta) { /* train.threshold and the configured deltas were not in the sweep: one pass at them */
        ev.keep = keep;
        if ((st = rc_app_evaluate(&ev, RC_SPLIT_TEST, n, 1, &m, NULL, NULL, err))) goto done;
    }
    if (writer && (st = rc_app_traces_write(&S, outdir, keep, n, err))) goto done;
    if (!a->quiet && writer) fprintf(stderr, "rcsim eval: wrote %s and %s/traces.h5\n", path, outdir);
done:
    if (lockfd >= 0) close(lockfd);
    free(keep);
    rc_sb_free(&sb);
    free(kept);
    rc_app_setup_free(&S);
    return st;
}
