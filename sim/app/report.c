/* report.c — what a run leaves in its folder besides model.h5: metrics.csv
 * (one row per validation point) and summary.json (written atomically at the
 * end); the run folder's claim. traces.h5: report_traces.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/strbuf.h"
#include "io/fsutil.h"
#include "sim/app/app.h"

/* ---- the run folder ----------------------------------------------------- */

/* Every file a run or an eval leaves in its folder (and NAME.tmp while it
 * writes one). */
static const char *const rc_app_outputs[] = { "model.h5", "metrics.csv", "summary.json", "traces.h5",
                                              "tradeoff.csv" };
enum { RC_APP_NOUTPUTS = sizeof rc_app_outputs / sizeof rc_app_outputs[0] };

rc_status rc_app_claim_dir(const char *dir, int fresh, int force, int *lockfd, rc_err *err)
{
    rc_status st = rc_mkdir_p(dir, err);
    if (!st) st = rc_fs_lock_dir(dir, lockfd, err);
    if (st) return st;
    rc_fs_remove_tmp(dir, rc_app_outputs, RC_APP_NOUTPUTS); /* left by a killed run */
    if (!fresh) return RC_OK;
    char path[4200], found[200] = "";
    for (int i = 0; i < RC_APP_NOUTPUTS; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, rc_app_outputs[i]);
        if (access(path, F_OK) != 0) continue;
        if (force && unlink(path) != 0)
            return rc_err_set(err, RC_ERR_IO, "%s: cannot remove the earlier run's file: %s", path, strerror(errno));
        snprintf(found + strlen(found), sizeof found - strlen(found), "%s%s", *found ? ", " : "", rc_app_outputs[i]);
    }
    if (*found && !force)
        return rc_err_set(err, RC_ERR_USAGE, "%s: holds the outputs of an earlier run (%s); add --force to replace "
                          "them, --resume %s to continue that run, or choose another --out", dir, found, dir);
    return RC_OK;
}

/* ---- metrics.csv -------------------------------------------------------- */

/* Keeps the rows of metrics.csv up to batch `upto` (a resumed run rewrites
 * what came after its checkpoint). */
static rc_status metrics_truncate(const char *path, int64_t upto, int64_t every, rc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    rc_strbuf b = { 0 };
    char line[4096];
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        const long long bt = atoll(line);
        if (first || (bt <= upto && bt % every == 0)) rc_sb_printf(&b, "%s", line);
        first = 0;
    }
    fclose(f);
    rc_status s = b.oom ? rc_err_set(err, RC_ERR_NOMEM, "out of memory")
                        : rc_write_atomic(path, b.s ? b.s : "", b.len, err);
    rc_sb_free(&b);
    return s;
}

rc_status rc_app_metrics_open(const char *outdir, int resume, int64_t upto, int64_t every, rc_app_metrics_cols cols,
                              FILE **out, rc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", outdir);
    FILE *mf;
    if (resume) {
        rc_status st = metrics_truncate(path, upto, every, err);
        if (st) return st;
        mf = fopen(path, "a");
    } else {
        mf = fopen(path, "w");
        if (mf)
            fprintf(mf, "batch,examples,wall_s,lr,train_loss,train_accuracy,train_mean_spike_step,"
                        "train_steps_fraction,val_accuracy,val_mean_spike_step,val_no_spike_fraction,"
                        "%sval_spike_step_p10,val_spike_step_p50,val_spike_step_p90,best%s\n",
                    cols.with_end ? "val_accuracy_at_end," : "",
                    cols.with_hevents ? ",val_hidden_events_per_unit_step" : "");
    }
    if (!mf) return rc_err_set(err, RC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    *out = mf;
    return RC_OK;
}

void rc_app_metrics_row(FILE *f, int64_t batch, int64_t trained, double wall, double lr, const rc_metrics *tm,
                        double steps_fraction, const rc_metrics *vm, rc_app_metrics_cols cols, int is_best)
{
    fprintf(f, "%lld,%lld,%.3f,%g,%.6f,%.6f,%.4f,%.6f,%.6f,%.4f,%.6f,", (long long)batch, (long long)trained, wall,
            lr, tm->mean_loss, tm->accuracy, tm->mean_spike_step, steps_fraction, vm->accuracy, vm->mean_spike_step,
            vm->no_spike_fraction);
    /* Validation that stops at the first spike never knows the last step's answer: no column then. */
    if (cols.with_end) fprintf(f, "%.6f,", vm->accuracy_at_end);
    fprintf(f, "%g,%g,%g,%d", vm->tsp_p10, vm->tsp_p50, vm->tsp_p90, is_best);
    if (cols.with_hevents) fprintf(f, ",%.6f", vm->hevents_per_unit_step);
    fprintf(f, "\n");
    fflush(f);
}

/* ---- summary.json ------------------------------------------------------- */

static void json_metrics(rc_strbuf *b, const rc_metrics *m, const char *ind, double dt_ms)
{
    rc_sb_printf(b, "%s\"examples\": %lld,\n", ind, (long long)m->n);
    rc_sb_printf(b, "%s\"accuracy\": ", ind); rc_sb_json_num(b, m->accuracy);
    rc_sb_printf(b, ",\n%s\"mean_spike_step\": ", ind); rc_sb_json_num(b, m->mean_spike_step);
    rc_sb_printf(b, ",\n%s\"mean_spike_ms\": ", ind); rc_sb_json_num(b, m->mean_spike_step * dt_ms);
    rc_sb_printf(b, ",\n%s\"mean_spike_fraction\": ", ind); rc_sb_json_num(b, m->mean_spike_fraction);
    rc_sb_printf(b, ",\n%s\"no_spike_fraction\": ", ind); rc_sb_json_num(b, m->no_spike_fraction);
    rc_sb_printf(b, ",\n%s\"spike_step_p10\": ", ind); rc_sb_json_num(b, m->tsp_p10);
    rc_sb_printf(b, ",\n%s\"spike_step_p50\": ", ind); rc_sb_json_num(b, m->tsp_p50);
    rc_sb_printf(b, ",\n%s\"spike_step_p90\": ", ind); rc_sb_json_num(b, m->tsp_p90);
    if (m->has_end) {
        rc_sb_printf(b, ",\n%s\"accuracy_at_end\": ", ind);
        rc_sb_json_num(b, m->accuracy_at_end);
    }
    if (m->has_earliest) {
        rc_sb_printf(b, ",\n%s\"earliest_fraction\": ", ind); rc_sb_json_num(b, m->earliest_fraction);
        rc_sb_printf(b, ",\n%s\"early_false_positive_fraction\": ", ind);
        rc_sb_json_num(b, m->early_false_positive_fraction);
    }
}

/* Per-class RC-inference accuracy and spike time, and the confusion matrix
 * (rows: true class, columns: the class of the first spike; without a
 * spike, the class at the last step), for tasks with more than two classes. */
static void json_classes(rc_strbuf *b, const rc_metrics_acc *a, const rc_dataset *ds, double dt_ms)
{
    const int K = ds->nclass < RC_METRICS_MAX_CLASS ? ds->nclass : RC_METRICS_MAX_CLASS;
    if (K <= 2) return;
    rc_sb_printf(b, ",\n    \"per_class\": [");
    for (int c = 0; c < K; c++) {
        char dflt[16];
        snprintf(dflt, sizeof dflt, "%d", c);
        const double n = (double)a->cls_n[c];
        rc_sb_printf(b, "%s\n      { \"class\": ", c ? "," : "");
        rc_sb_json_str(b, ds->class_names ? ds->class_names[c] : dflt);
        rc_sb_printf(b, ", \"examples\": %lld, \"accuracy\": ", (long long)a->cls_n[c]);
        rc_sb_json_num(b, n > 0 ? (double)a->cls_correct[c] / n : 0);
        rc_sb_printf(b, ", \"mean_spike_step\": "); rc_sb_json_num(b, n > 0 ? a->cls_sum_tsp[c] / n : 0);
        rc_sb_printf(b, ", \"mean_spike_ms\": "); rc_sb_json_num(b, n > 0 ? a->cls_sum_tsp[c] / n * dt_ms : 0);
        rc_sb_printf(b, " }");
    }
    rc_sb_printf(b, "\n    ],\n    \"confusion\": {\n      \"classes\": [");
    for (int c = 0; c < K; c++) {
        char dflt[16];
        snprintf(dflt, sizeof dflt, "%d", c);
        rc_sb_printf(b, "%s", c ? ", " : "");
        rc_sb_json_str(b, ds->class_names ? ds->class_names[c] : dflt);
    }
    rc_sb_printf(b, "],\n      \"rows_true_columns_predicted\": [");
    for (int r = 0; r < K; r++) {
        rc_sb_printf(b, "%s\n        [", r ? "," : "");
        for (int c = 0; c < K; c++) rc_sb_printf(b, "%s%lld", c ? ", " : "", (long long)a->confusion[r][c]);
        rc_sb_printf(b, "]");
    }
    rc_sb_printf(b, "\n      ]\n    }");
}

/* The "train" object: what was trained and which model was kept. */
static void json_train(rc_strbuf *sb, const rc_app_setup *S, const rc_app_outcome *o)
{
    const rc_app_state *ts = o->ts;
    rc_sb_printf(sb, "  \"train\": {\n    \"examples\": %lld,\n    \"batches\": %lld,\n", (long long)ts->trained,
                 (long long)ts->batch);
    rc_sb_printf(sb, "    \"examples_per_s\": "); rc_sb_json_num(sb, ts->trained / (ts->train_time > 0 ? ts->train_time : 1));
    rc_sb_printf(sb, ",\n    \"wall_s\": "); rc_sb_json_num(sb, ts->train_time);
    rc_sb_printf(sb, ",\n    \"steps_computed_fraction\": ");
    rc_sb_json_num(sb, ts->trained ? (double)ts->train_rows / ((double)ts->trained * S->T) : 0);
    rc_sb_printf(sb, ",\n    \"early_stopped\": %s", o->early_stop ? "true" : "false");
    /* train.select_max/min_spike_step: a kept model outside the window is
     * the last one, kept because no validation point met it. */
    const double budget = rc_cfg_get_float(S->cfg, "train.select_max_spike_step");
    const double floor_ = rc_cfg_get_float(S->cfg, "train.select_min_spike_step");
    const int win = rc_app_select_window(budget, floor_, ts->best_val.mean_spike_step);
    const int over = !o->select_last && ts->best_batch > 0 && win != 0;
    rc_sb_printf(sb, ",\n    \"selected_by\": \"%s\",\n    \"selected_batch\": %lld\n  },\n",
                 o->select_last ? "last"
                 : over ? (win > 0 ? "last model (no validation point met select_max_spike_step)"
                                   : "last model (no validation point met select_min_spike_step)")
                 : o->select_end ? "validation accuracy_at_end" : "validation accuracy (RC-inference)",
                 (long long)ts->best_batch);
}

/* The "test" object: the kept model under RC-inference and full length. */
static void json_test(rc_strbuf *sb, const rc_app_setup *S, const rc_app_test *t, double dt_ms)
{
    const int T = S->T, snn = S->net->s.core == RC_CORE_LIF;
    const int64_t n = t->n;
    rc_metrics rcm = t->rc;
    rcm.has_end = 1;
    rcm.accuracy_at_end = t->end.accuracy_at_end;
    rc_sb_printf(sb, "  \"test\": {\n    \"inference\": \"rc\",\n");
    json_metrics(sb, &rcm, "    ", dt_ms);
    rc_sb_printf(sb, ",\n    \"steps_computed_fraction\": ");
    rc_sb_json_num(sb, (double)t->rc_rows / ((double)n * T));
    rc_sb_printf(sb, ",\n    \"examples_per_s\": "); rc_sb_json_num(sb, n / (t->rc_secs > 0 ? t->rc_secs : 1e-9));
    if (!snn) {
        const double dense = (double)T * rc_net_dense_step_macs(S->net);
        rc_sb_printf(sb, ",\n    \"events_per_example\": "); rc_sb_json_num(sb, rcm.events_per_example);
        rc_sb_printf(sb, ",\n    \"macs_per_example\": "); rc_sb_json_num(sb, rcm.macs_per_example);
        rc_sb_printf(sb, ",\n    \"macs_dense_full\": "); rc_sb_json_num(sb, dense);
        rc_sb_printf(sb, ",\n    \"macs_fraction_of_dense\": "); rc_sb_json_num(sb, rcm.macs_per_example / dense);
        /* Delta LSTM: hidden events sent, and what the same steps cost with
         * the dense recurrent product (= macs_per_example without deltas). */
        rc_sb_printf(sb, ",\n    \"hidden_events_per_example\": "); rc_sb_json_num(sb, rcm.hevents_per_example);
        rc_sb_printf(sb, ",\n    \"hidden_events_per_unit_step\": "); rc_sb_json_num(sb, rcm.hevents_per_unit_step);
        rc_sb_printf(sb, ",\n    \"macs_dense_recurrent_per_example\": ");
        rc_sb_json_num(sb, rcm.macs_dense_per_example);
    } else {
        /* The SNN engine counts synaptic events, not input events or MACs. */
        rc_sb_printf(sb, ",\n    \"synops_per_example\": ");
        rc_sb_json_num(sb, (double)t->rc_synops / (double)n);
    }
    rc_sb_printf(sb, ",\n    \"eos_inference\": {\n      \"accuracy\": ");
    rc_sb_json_num(sb, t->end.accuracy_at_end);
    if (snn) {
        rc_sb_printf(sb, ",\n      \"synops_per_example\": ");
        rc_sb_json_num(sb, (double)t->end_synops / (double)n);
    }
    rc_sb_printf(sb, ",\n      \"steps_computed_fraction\": 1,\n      \"examples_per_s\": ");
    rc_sb_json_num(sb, n / (t->end_secs > 0 ? t->end_secs : 1e-9));
    rc_sb_printf(sb, "\n    }");
    json_classes(sb, t->acc, S->ds, dt_ms);
    rc_sb_printf(sb, "\n  },\n");
}

rc_status rc_app_summary_write(const rc_app_setup *S, const rc_app_outcome *o, const rc_app_test *t,
                               const char *outdir, rc_err *err)
{
    const rc_cfg *cfg = S->cfg;
    const double dt_ms = rc_cfg_get_float(cfg, "sim.dt_ms");
    rc_strbuf sb = { 0 };
    char *cfg_json = rc_cfg_to_json(cfg, 2);
    const double wall = rc_now_s() - o->t_start;
    rc_sb_printf(&sb, "{\n  \"rcsim_version\": \"%s\",\n  \"git_revision\": \"%s\",\n", RC_VERSION, RC_GIT_REV);
    rc_sb_printf(&sb, "  \"task\": "); rc_sb_json_str(&sb, S->task);
    rc_sb_printf(&sb, ",\n  \"model\": \"%s\",\n  \"model_shape\": \"%s\",\n  \"hidden\": %d,\n  \"parameters\": %zu,\n",
                 rc_cfg_get_str(cfg, "model.type"), S->shape, S->net->s.H, S->net->nparams);
    rc_sb_printf(&sb, "  \"mode\": \"%s\",\n  \"threshold\": ", S->eos ? "eos" : "rc");
    rc_sb_json_num(&sb, S->theta);
    rc_sb_printf(&sb, ",\n  \"beta\": "); rc_sb_json_num(&sb, S->beta);
    if (S->net->s.core != RC_CORE_LIF) {
        rc_sb_printf(&sb, ",\n  \"delta_x\": "); rc_sb_json_num(&sb, S->delta_x);
        rc_sb_printf(&sb, ",\n  \"delta_h\": "); rc_sb_json_num(&sb, S->delta_h);
    }
    rc_sb_printf(&sb, ",\n  \"seed\": %llu,\n  \"threads\": %d,\n  \"steps\": %d,\n", (unsigned long long)S->seed,
                 rc_pool_nthreads(S->pool), S->T);
    rc_sb_printf(&sb, "  \"resumed\": %s,\n", o->resumed ? "true" : "false");
    json_train(&sb, S, o);
    rc_sb_printf(&sb, "  \"validation\": {\n");
    json_metrics(&sb, &o->ts->best_val, "    ", dt_ms);
    rc_sb_printf(&sb, ",\n    \"majority_fraction\": "); rc_sb_json_num(&sb, o->val_majority);
    rc_sb_printf(&sb, "\n  },\n");
    json_test(&sb, S, t, dt_ms);
    rc_sb_printf(&sb, "  \"other_inference\": \"%s\",\n",
                 S->eos ? "EOS-trained model under RC-inference: see test.accuracy, test.mean_spike_step"
                        : "RC-trained model under EOS-inference: see test.accuracy_at_end");
    rc_sb_printf(&sb, "  \"wall_s\": "); rc_sb_json_num(&sb, wall);
    rc_sb_printf(&sb, ",\n  \"config\": %s\n}\n", cfg_json ? cfg_json : "{}");
    rc_status st;
    if (sb.oom) {
        st = rc_err_set(err, RC_ERR_NOMEM, "out of memory writing summary");
    } else {
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.json", outdir);
        st = rc_write_atomic(path, sb.s, sb.len, err);
    }
    rc_sb_free(&sb);
    free(cfg_json);
    return st;
}
