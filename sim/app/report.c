/* report.c — what a run leaves in its folder besides model.h5: metrics.csv
 * (one row per validation point), summary.json (written atomically at the
 * end) and traces.h5 (spike report and activations of the test set). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/strbuf.h"
#include "io/fsutil.h"
#include "io/traces.h"
#include "models/lif.h"
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

rc_status rc_app_metrics_open(const char *outdir, int resume, int64_t upto, int64_t every, int with_end, FILE **out,
                              rc_err *err)
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
                        "%sval_spike_step_p10,val_spike_step_p50,val_spike_step_p90,best\n",
                    with_end ? "val_accuracy_at_end," : "");
    }
    if (!mf) return rc_err_set(err, RC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    *out = mf;
    return RC_OK;
}

void rc_app_metrics_row(FILE *f, int64_t batch, int64_t trained, double wall, double lr, const rc_metrics *tm,
                        double steps_fraction, const rc_metrics *vm, int with_end, int is_best)
{
    fprintf(f, "%lld,%lld,%.3f,%g,%.6f,%.6f,%.4f,%.6f,%.6f,%.4f,%.6f,", (long long)batch, (long long)trained, wall,
            lr, tm->mean_loss, tm->accuracy, tm->mean_spike_step, steps_fraction, vm->accuracy, vm->mean_spike_step,
            vm->no_spike_fraction);
    /* Validation that stops at the first spike never knows the last step's answer: no column then. */
    if (with_end) fprintf(f, "%.6f,", vm->accuracy_at_end);
    fprintf(f, "%g,%g,%g,%d\n", vm->tsp_p10, vm->tsp_p50, vm->tsp_p90, is_best);
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
    /* train.select_max_spike_step: a kept model over the budget is the last
     * one, kept because no validation point met it. */
    const double budget = rc_cfg_get_float(S->cfg, "train.select_max_spike_step");
    const int over = !o->select_last && budget > 0 && ts->best_batch > 0 && ts->best_val.mean_spike_step > budget;
    rc_sb_printf(sb, ",\n    \"selected_by\": \"%s\",\n    \"selected_batch\": %lld\n  },\n",
                 o->select_last ? "last" : over ? "last model (no validation point met select_max_spike_step)"
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

/* ---- traces.h5 ---------------------------------------------------------- */

/* Population p of an SNN: its layer (pools skipped). */
static const rc_lif_layer *pop_layer(const rc_lif_shape *sn, int p)
{
    for (int l = 0, q = 0; l < sn->nl; l++)
        if (sn->L[l].kind != RC_LIF_POOL && q++ == p) return &sn->L[l];
    return NULL;
}

/* A comma-separated list of LIF population names (key) as bits into *bits;
 * an unknown name is a config error listing the model's populations. */
static rc_status pop_bits(const rc_lif_shape *sn, const char *key, const char *list, const char *cfg_path,
                          uint32_t *bits, rc_err *err)
{
    const int npops = rc_lif_npops(sn);
    *bits = 0;
    if (!strcmp(list, "none")) return RC_OK;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *q = p;
        while (len && *q == ' ') { q++; len--; }
        while (len && q[len - 1] == ' ') len--;
        int found = -1;
        char names[512] = "", nm[32];
        for (int k = 0; k < npops; k++) {
            rc_lif_pop_name(sn, k, nm, sizeof nm);
            if (strlen(nm) == len && !strncmp(q, nm, len)) found = k;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", nm);
        }
        if (found < 0)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s names '%.*s', expected LIF layers of this model: %s",
                              cfg_path, key, (int)len, q, names);
        if (found < 32) *bits |= 1u << found;
        p += strcspn(p, ",");
        if (*p) p++;
    }
    return RC_OK;
}

rc_status rc_app_trace_keys(const rc_cfg *cfg, const char *cfg_path, const rc_lif_shape *sn, rc_err *err)
{
    static const char *const keys[] = { "output.trace_layers", "output.trace_examples", "output.trace_after_spike",
                                        "output.trace_all_output_spikes", "output.trace_membrane" };
    if (!rc_cfg_get_bool(cfg, "output.traces"))
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (rc_cfg_is_set(cfg, keys[i]))
                return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect with output.traces = false; expected "
                                  "output.traces = true, or no %s", cfg_path, keys[i], keys[i]);
    for (size_t i = 3; i < 5 && !sn; i++)
        if (rc_cfg_is_set(cfg, keys[i]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect for model.type = %s (no LIF layers: the "
                              "output's only spike is its answer); expected it only with model.type = snn",
                              cfg_path, keys[i], rc_cfg_get_str(cfg, "model.type"));
    uint32_t bits;
    return sn ? pop_bits(sn, "output.trace_membrane", rc_cfg_get_str(cfg, "output.trace_membrane"), cfg_path, &bits,
                         err)
              : RC_OK;
}

static rc_traces *traces_open(const rc_app_setup *S, const char *dir, rc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/traces.h5", dir);
    char *ini = rc_cfg_to_ini(S->cfg);
    rc_traces_meta meta = { RC_VERSION, RC_GIT_REV, ini ? ini : "", S->seed, S->theta, S->beta,
                            S->eos ? "eos" : "rc", S->T, rc_cfg_get_float(S->cfg, "sim.dt_ms"), 0 };
    rc_traces *tr = rc_traces_open(path, &meta, err);
    free(ini);
    return tr;
}

/* Size, shape and node-id mapping of every population in the file: the
 * output (LSTM: the classes, a single sigmoid's two answers) and, for an
 * SNN, the traced LIF layers (conv: y, x, channel; fc: unit). */
static rc_status describe_pops(const rc_app_setup *S, rc_traces *tr, uint32_t pops, rc_err *err)
{
    if (S->net->s.core != RC_CORE_LIF) {
        const int K = S->net->s.K;
        const rc_traces_pop_shape o = { 1, { K == 1 ? 2 : K }, "class" };
        return rc_traces_describe(tr, "output", &o, err);
    }
    const rc_lif_shape *sn = &S->net->s.snn;
    const int np = rc_lif_npops(sn);
    rc_status st = RC_OK;
    for (int p = 0; p < np && !st; p++) {
        if (p != np - 1 && !(p < 32 && (pops >> p) & 1u)) continue;
        const rc_lif_layer *L = pop_layer(sn, p);
        char name[32];
        rc_lif_pop_name(sn, p, name, sizeof name);
        rc_traces_pop_shape sh = { 1, { L->nout }, p == np - 1 ? "class" : "unit" };
        if (L->kind == RC_LIF_CONV) sh = (rc_traces_pop_shape){ 3, { L->hout, L->wout, L->cout }, "y,x,channel" };
        st = rc_traces_describe(tr, name, &sh, err);
    }
    return st;
}

/* output.trace_examples: ascending, without repeats (the traces file is
 * ordered by example id), only ids a finite test set has; at most 256. */
static size_t traced_ids(const rc_app_setup *S, long long *ids)
{
    size_t n = rc_cfg_get_int_list(S->cfg, "output.trace_examples", ids, 256);
    if (n > 256) n = 256;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ids[j] < ids[j - 1]; j--) {
            long long t = ids[j]; ids[j] = ids[j - 1]; ids[j - 1] = t;
        }
    size_t u = 0;
    const int64_t avail = S->ds->size[RC_SPLIT_TEST]; /* finite test sets: ids beyond it do not exist */
    for (size_t i = 0; i < n; i++)
        if ((!u || ids[i] != ids[u - 1]) && (avail < 0 || ids[i] < avail)) ids[u++] = ids[i];
    return u;
}

/* Activations of the traced test examples: LSTM h and output probabilities at
 * every step until the first spike (or every step, with trace_after_spike). */
static rc_status trace_activations(rc_app_setup *S, rc_traces *tr, rc_err *err)
{
    long long ids[256];
    const size_t n = traced_ids(S, ids);
    const int after = rc_cfg_get_bool(S->cfg, "output.trace_after_spike");
    const int H = S->net->s.H, K = S->net->s.K, T = S->T;
    rc_status st = RC_OK;
    for (size_t i0 = 0; i0 < n && !st; i0 += (size_t)S->tbatch) {
        int m = (int)(n - i0 < (size_t)S->tbatch ? n - i0 : (size_t)S->tbatch);
        for (int j = 0; j < m; j++) S->idx[j] = ids[i0 + (size_t)j];
        size_t nh = (size_t)m * T * H, np = (size_t)m * T * K;
        float *rh = malloc(nh * sizeof *rh), *rp = malloc(np * sizeof *rp);
        if (!rh || !rp) { free(rh); free(rp); return rc_err_set(err, RC_ERR_NOMEM, "out of memory"); }
        for (size_t k = 0; k < nh; k++) rh[k] = NAN;
        for (size_t k = 0; k < np; k++) rp[k] = NAN;
        rc_batch_opts o = { .train = 0, .stop_at_spike = !after, .rec_h = rh, .rec_p = rp, .lstm.threshold = S->theta };
        st = rc_engine_batch(S->eng, RC_SPLIT_TEST, S->idx, m, &o, S->res, NULL, err);
        for (int j = 0; j < m && !st; j++) {
            st = rc_traces_add_activations(tr, S->net->s.core == RC_CORE_LIF ? "hidden" : "lstm", (uint64_t)S->idx[j],
                                           rh + (size_t)j * T * H, H, err);
            if (!st) st = rc_traces_add_activations(tr, "output", (uint64_t)S->idx[j], rp + (size_t)j * T * K, K, err);
        }
        free(rh);
        free(rp);
    }
    return st;
}

static void no_spikes(void *ud, int pop, int t, const int *neurons, int n)
{
    (void)ud; (void)pop; (void)t; (void)neurons; (void)n;
}

/* SNN, output.trace_membrane: the pre-reset potentials of the named layers
 * for the traced test examples, as /activations/<layer>_membrane (T, neurons),
 * until the first output spike (NaN after) or, with trace_after_spike, to T. */
static rc_status trace_membranes(rc_app_setup *S, rc_traces *tr, rc_err *err)
{
    const rc_lif_shape *sn = &S->net->s.snn;
    uint32_t bits;
    rc_status st = pop_bits(sn, "output.trace_membrane", rc_cfg_get_str(S->cfg, "output.trace_membrane"), "", &bits, err);
    if (st || !bits) return st;
    long long ids[256];
    const size_t n = traced_ids(S, ids);
    const int np = rc_lif_npops(sn), T = S->T;
    float *U[RC_LIF_MAX_LAYERS] = { 0 };
    for (int p = 0; p < np && !st; p++)
        if ((bits >> p) & 1u && !(U[p] = malloc((size_t)T * (size_t)pop_layer(sn, p)->nout * sizeof(float))))
            st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    const rc_batch_opts o = { .stop_at_spike = !rc_cfg_get_bool(S->cfg, "output.trace_after_spike"),
                              .lif = { .vth_scale = 1, .rec_u = U } };
    for (size_t i = 0; i < n && !st; i++) {
        for (int p = 0; p < np; p++)
            if (U[p]) for (size_t k = 0; k < (size_t)T * (size_t)pop_layer(sn, p)->nout; k++) U[p][k] = NAN;
        st = rc_engine_spikes(S->eng, RC_SPLIT_TEST, ids[i], &o, no_spikes, NULL, err);
        for (int p = 0; p < np && !st; p++) {
            if (!U[p]) continue;
            char name[48];
            rc_lif_pop_name(sn, p, name, 32);
            strcat(name, "_membrane");
            st = rc_traces_add_activations(tr, name, (uint64_t)ids[i], U[p], pop_layer(sn, p)->nout, err);
        }
    }
    for (int p = 0; p < np; p++) free(U[p]);
    return st;
}

/* SNN: the spikes of one example's traced populations. Hidden populations
 * are written until the first output spike (its step included; every step
 * for a full example); the output population, when this pass writes it, at
 * every step computed. */
typedef struct {
    const rc_app_setup *S;
    rc_traces *tr;
    uint64_t id;
    int *steps;
    uint64_t *nodes;
    uint32_t pops;      /* populations written (bits)              */
    int out, full;      /* output population; 1: no cut at the answer */
    int first_out;      /* step of the first output spike, −1 yet    */
    rc_status st;
    rc_err *err;
} spike_sink;

static void spike_sink_fn(void *ud, int pop, int t, const int *neurons, int n)
{
    spike_sink *k = ud;
    if (pop == k->out && k->first_out < 0) k->first_out = t;
    if (k->st || !(pop < 32 && (k->pops >> pop) & 1u)) return;
    if (pop != k->out && !k->full && k->first_out >= 0 && k->first_out < t) return;
    for (int i = 0; i < n; i++) {
        k->steps[i] = t;
        k->nodes[i] = (uint64_t)neurons[i];
    }
    char name[32];
    rc_lif_pop_name(&k->S->net->s.snn, pop, name, sizeof name);
    k->st = rc_traces_add_spikes(k->tr, name, k->id, k->steps, k->nodes, (size_t)n, k->err);
}

/* The output's first spike from the kept results (node: the class; for a
 * single sigmoid 1 = positive, 0 = negative). */
static rc_status first_spike(rc_traces *tr, const rc_example_result *r, int64_t i, rc_err *err)
{
    if (!r->spiked) return RC_OK;
    const uint64_t node = (uint64_t)r->pred;
    return rc_traces_add_spikes(tr, "output", (uint64_t)i, &r->tsp, &node, 1, err);
}

/* The SNN spike pass, one more engine pass on this thread (not timed), with
 * the output population: every example stops at its answer, except that with
 * trace_all_output_spikes every example and with trace_after_spike the
 * traced examples run to T, their output spikes all written (else the kept
 * first spike) and, for the traced ones, the hidden spikes of every step. */
static rc_status trace_spikes(rc_app_setup *S, rc_traces *tr, const rc_example_result *res, int64_t n, rc_err *err)
{
    const rc_lif_shape *sn = &S->net->s.snn;
    const int after = rc_cfg_get_bool(S->cfg, "output.trace_after_spike");
    const int all = rc_cfg_get_bool(S->cfg, "output.trace_all_output_spikes");
    long long ids[256];
    const size_t nid = after ? traced_ids(S, ids) : 0;
    int maxn = 1;
    for (int l = 0; l < sn->nl; l++)
        if (rc_lif_neurons(sn, l) > maxn) maxn = rc_lif_neurons(sn, l);
    spike_sink k = { S, tr, 0, malloc((size_t)maxn * sizeof(int)), malloc((size_t)maxn * sizeof(uint64_t)), 0,
                     rc_lif_npops(sn) - 1, 0, -1, RC_OK, err };
    rc_status st = RC_OK;
    if (!k.steps || !k.nodes) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    size_t next = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        while (next < nid && ids[next] < i) next++;
        const int traced = next < nid && ids[next] == i;
        k.id = (uint64_t)i;
        k.full = traced;
        k.first_out = -1;
        k.pops = S->trace_pops | (all || traced ? 1u << k.out : 0);
        if (!(all || traced)) st = first_spike(tr, &res[i], i, err);
        if (st || !(all || traced || S->trace_pops)) continue; /* nothing more of this example */
        const rc_batch_opts so = { .stop_at_spike = !(all || traced), .lif.vth_scale = 1 };
        if (!st) st = rc_engine_spikes(S->eng, RC_SPLIT_TEST, i, &so, spike_sink_fn, &k, err);
        if (!st) st = k.st;
    }
    free(k.steps);
    free(k.nodes);
    return st;
}

rc_status rc_app_traces_write(rc_app_setup *S, const char *dir, const rc_example_result *res, int64_t n,
                              rc_err *err)
{
    rc_traces *tr = traces_open(S, dir, err);
    if (!tr) return RC_ERR_IO;
    const int snn = S->net->s.core == RC_CORE_LIF;
    const int pass = snn && (S->trace_pops || rc_cfg_get_bool(S->cfg, "output.trace_all_output_spikes") ||
                             rc_cfg_get_bool(S->cfg, "output.trace_after_spike"));
    rc_status st = describe_pops(S, tr, S->trace_pops, err);
    for (int64_t i = 0; i < n && !st; i++) {
        const rc_example_result *r = &res[i];
        st = rc_traces_add_example(tr, (uint64_t)i, r->tsp, r->pred, r->label, r->spiked, err);
        if (!st && !pass) st = first_spike(tr, r, i, err);
    }
    if (!st && pass) st = trace_spikes(S, tr, res, n, err);
    if (!st) st = trace_activations(S, tr, err);
    if (!st && snn) st = trace_membranes(S, tr, err);
    if (st) {
        rc_traces_abort(tr);
        return st;
    }
    return rc_traces_close(tr, err);
}
